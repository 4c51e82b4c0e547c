"""JSON exporter: the lossless document JSON (``corpus/schemas/document.schema.json``).

The exact form of :func:`corpus.model.document_to_dict`, laid out one top-level key, one
block and one annotation per line (two-space indents), keys in the model's fixed order, UTF-8
(non-ASCII written as is), and a final newline, so the bytes are stable across runs and diff
well. The ``json`` reader reads it back unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from corpus.errors import ExportError
from corpus.formats import Exporter
from corpus.hookspecs import hookimpl
from corpus.model import MODEL_VERSION, Block, Document

_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape_surrogate(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False)
_dumps = _ENCODER.encode
#: The C string encoder the JSON encoder itself uses (non-ASCII kept, same escapes).
_string = json.encoder.encode_basestring


def _value(value: Any) -> str:
    """A value as the encoder writes it; strings, None and integers without the encoder."""
    kind = type(value)
    if kind is str:
        return _string(value)
    if value is None:
        return "null"
    if kind is int:
        return str(value)
    return _dumps(value)


def _block_line(block: Block) -> str:
    """One block as the encoder writes its dict; plain paragraphs (the bulk) without it."""
    if block.spans or block.rows:
        return _dumps(block.to_dict())
    line = f'{{"text": {_string(block.text)}, "kind": {_string(block.kind)}'
    if block.line_start is not None:
        line += f', "lines": [{_value(block.line_start)}, {_value(block.line_end)}]'
    return line + "}"


def _annotation_values(annotations: dict[str, Any]) -> dict[str, Any]:
    """Annotations ready for :func:`_mapping`: plugin names as strings, values as given.

    Each value is written by the C encoder, which turns tuples into lists and non-string keys
    into strings exactly as a ``json.dumps``/``json.loads`` round trip would, without it.
    """
    if all(type(key) is str for key in annotations):
        return annotations
    return json.loads(json.dumps(annotations))


def _mapping(items: dict[str, Any]) -> str:
    if not items:
        return "{}"
    inner = ",\n".join(f"    {_string(k)}: {_value(v)}" for k, v in items.items())
    return f"{{\n{inner}\n  }}"


def _layout(doc: Document) -> str:
    """The keys of :func:`~corpus.model.document_to_dict` in its order, two-space indented.

    One line per top-level key, per block, per source field and per annotation. Each value is
    what the C JSON encoder writes for it (``json.dumps`` with ``indent`` falls back to a
    pure-Python encoder, several times slower), so a changed paragraph is a one-line diff.
    Written straight from the document, without building the dict first.
    """
    if doc.blocks:
        blocks = ",\n".join("    " + _block_line(block) for block in doc.blocks)
        blocks = f"[\n{blocks}\n  ]"
    else:
        blocks = "[]"
    source = "null" if doc.source is None else _mapping(doc.source.to_dict())
    annotations = _mapping(_annotation_values(doc.annotations)) if doc.annotations else "{}"
    return (
        f'{{\n  "model_version": {MODEL_VERSION},\n'
        f'  "key": {_value(doc.key)},\n'
        f'  "title": {_value(doc.title)},\n'
        f'  "date": {_value(doc.date.isoformat() if doc.date else None)},\n'
        f'  "issued": {_value(doc.issued.isoformat() if doc.issued else None)},\n'
        f'  "byline": {_value(doc.byline)},\n'
        f'  "dateline": {_value(doc.dateline)},\n'
        f'  "abstract": {_value(doc.abstract)},\n'
        f'  "keywords": {_dumps(list(doc.keywords))},\n'
        f'  "urgency": {_value(doc.urgency)},\n'
        f'  "language": {_value(doc.language)},\n'
        f'  "blocks": {blocks},\n'
        f'  "source": {source},\n'
        f'  "annotations": {annotations}\n}}\n'
    )


def document_json_bytes(document: Document) -> bytes:
    """The JSON file bytes of a document (layout: see :func:`_layout` and docs/json.md).

    Lone surrogates (only reachable through ``surrogateescape`` decoding) cannot be UTF-8
    encoded; they are written as ``\\uXXXX`` escapes, which JSON allows and which read back as
    the same string. NaN and infinities are not JSON: an annotation holding one is an
    :class:`~corpus.errors.ExportError` (code ``JSON_NOT_SERIALIZABLE``), never invalid output.
    """
    try:
        text = _layout(document)
    except (TypeError, ValueError) as exc:
        raise ExportError(
            f"document {document.key!r} cannot be written as JSON: {exc}; fix the plugin that "
            "added this value to the annotations",
            code="JSON_NOT_SERIALIZABLE",
            path=document.source.path if document.source else None,
        ) from exc
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub(_escape_surrogate, text).encode("utf-8")


class JSONExporter(Exporter):
    """The lossless document JSON (model_version 1)."""

    name = "json"
    extension = ".json"
    media_type = "application/json"
    description = "Lossless document JSON (schema: corpus/schemas/document.schema.json)"

    def export(self, document: Document) -> bytes:
        return document_json_bytes(document)


@hookimpl
def register_exporters(register: Callable[[Any], None]) -> None:
    register(JSONExporter())

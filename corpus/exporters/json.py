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
from corpus.model import Document, document_to_dict

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


def _block_line(block: dict[str, Any]) -> str:
    """One block as the encoder writes it; plain paragraphs (the bulk) without the encoder."""
    if "spans" in block or set(block) - {"text", "kind", "lines"}:
        return _dumps(block)
    line = f'{{"text": {_string(block["text"])}, "kind": {_string(block["kind"])}'
    if "lines" in block:
        start, end = block["lines"]
        line += f', "lines": [{_value(start)}, {_value(end)}]'
    return line + "}"


def _layout(data: dict[str, Any]) -> str:
    """Two-space indented JSON: one line per top-level key, per block and per annotation.

    Each value is encoded as the C JSON encoder writes it (``json.dumps`` with ``indent`` falls
    back to a pure-Python one, several times slower); a changed paragraph is a one-line diff.
    """
    lines = []
    for key, value in data.items():
        if value and key == "blocks":
            inner = ",\n".join("    " + _block_line(item) for item in value)
            text = f"[\n{inner}\n  ]"
        elif value and key in ("source", "annotations"):
            inner = ",\n".join(f"    {_string(k)}: {_value(v)}" for k, v in value.items())
            text = f"{{\n{inner}\n  }}"
        else:
            text = _value(value)
        lines.append(f"  {_string(key)}: {text}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def document_json_bytes(document: Document) -> bytes:
    """The JSON file bytes of a document (layout: see :func:`_layout` and docs/json.md).

    Lone surrogates (only reachable through ``surrogateescape`` decoding) cannot be UTF-8
    encoded; they are written as ``\\uXXXX`` escapes, which JSON allows and which read back as
    the same string. NaN and infinities are not JSON: an annotation holding one is an
    :class:`~corpus.errors.ExportError` (code ``JSON_NOT_SERIALIZABLE``), never invalid output.
    """
    try:
        text = _layout(document_to_dict(document))
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

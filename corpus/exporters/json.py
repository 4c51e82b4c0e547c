"""JSON exporter: the lossless document JSON (``corpus/schemas/document.schema.json``).

The exact form of :func:`corpus.model.document_to_dict`, pretty-printed with two-space indents,
keys in the model's fixed order, UTF-8 (non-ASCII written as is), and a final newline, so the
bytes are stable across runs and diff well. The ``json`` reader reads it back unchanged.
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


def document_json_bytes(document: Document) -> bytes:
    """The JSON file bytes of a document.

    Lone surrogates (only reachable through ``surrogateescape`` decoding) cannot be UTF-8
    encoded; they are written as ``\\uXXXX`` escapes, which JSON allows and which read back as
    the same string. NaN and infinities are not JSON: an annotation holding one is an
    :class:`~corpus.errors.ExportError` (code ``JSON_NOT_SERIALIZABLE``), never invalid output.
    """
    try:
        text = json.dumps(document_to_dict(document), ensure_ascii=False, indent=2, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ExportError(
            f"document {document.key!r} cannot be written as JSON: {exc}; fix the plugin that "
            "added this value to the annotations",
            code="JSON_NOT_SERIALIZABLE",
            path=document.source.path if document.source else None,
        ) from exc
    text += "\n"
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

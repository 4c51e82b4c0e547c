"""JSON reader: reads the document JSON the ``json`` exporter writes back into a Document.

The file is checked against the bundled schema (``corpus/schemas/document.schema.json``) when
the optional ``jsonschema`` package is installed, then by the model itself. The document comes
back exactly as written, key and source included: the key is the document's identity and the
source describes the original article, not this JSON file.

Rejection codes: ``JSON_INVALID`` (not UTF-8 or not JSON; with the line), ``JSON_VERSION`` (a
``model_version`` this corpus does not read), ``JSON_SCHEMA`` (valid JSON of the wrong shape;
the message names the field, e.g. ``blocks[2].spans[0].end``).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Mapping
from typing import Any

from corpus.errors import InputRejected
from corpus.formats import Reader, ReadResult
from corpus.hookspecs import hookimpl
from corpus.model import MODEL_VERSION, Block, Document, document_from_dict
from corpus.schemacheck import check_json, have_jsonschema

_BOM = b"\xef\xbb\xbf"


class _NotJSONConstant(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _NotJSONConstant(f"{name} is not a JSON value")


def _parse(data: bytes, path: str) -> Any:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputRejected(
            f"not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); JSON files must "
            "be UTF-8: re-export the document or re-save the file as UTF-8",
            code="JSON_INVALID",
            path=path,
            line=line,
        ) from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except _NotJSONConstant as exc:
        raise InputRejected(
            f"invalid JSON: {exc}; replace it with null or a number",
            code="JSON_INVALID",
            path=path,
        ) from None
    except json.JSONDecodeError as exc:
        raise InputRejected(
            f"invalid JSON: {exc.msg} (column {exc.colno}); fix the syntax or re-export the file",
            code="JSON_INVALID",
            path=path,
            line=exc.lineno,
        ) from None
    except RecursionError:
        raise InputRejected(
            "invalid JSON: nested too deeply", code="JSON_INVALID", path=path
        ) from None
    except ValueError:  # an integer longer than sys.get_int_max_str_digits()
        raise InputRejected(
            f"invalid JSON: a number has more than {sys.get_int_max_str_digits()} digits; "
            "no document field holds such a number",
            code="JSON_INVALID",
            path=path,
        ) from None


def _shape_error(path: str, message: str) -> InputRejected:
    hint = "; the file must have the document JSON form (docs/json.md): re-export it"
    return InputRejected(message + hint, code="JSON_SCHEMA", path=path)


_STR, _OPT_STR, _INT = (str,), (str, type(None)), (int,)
_TOP_TYPES: dict[str, tuple[type, ...]] = {
    "key": _STR,
    "title": _STR,
    "date": _OPT_STR,
    "issued": _OPT_STR,
    "byline": _OPT_STR,
    "dateline": _OPT_STR,
    "abstract": _OPT_STR,
    "keywords": (list,),
    "urgency": (int, type(None)),
    "language": _OPT_STR,
    "blocks": (list,),
    "source": (dict, type(None)),
    "annotations": (dict,),
}
_SOURCE_TYPES = {"path": _STR, "sha256": _STR, "encoding": _STR, "size": _INT, "format": _STR}


def _wrong(value: Any, types: tuple[type, ...]) -> bool:
    return isinstance(value, bool) or not isinstance(value, types)


def basic_shape_problem(data: Mapping[str, Any]) -> str | None:
    """The types check used when jsonschema is not installed: the first problem, or None.

    Covers what the model itself does not check (it trusts types); the full schema check
    also reports unknown keys and patterns.
    """
    for name, types in _TOP_TYPES.items():
        if name in data and _wrong(data[name], types):
            return f"{name}: {data[name]!r} has the wrong type"
    if any(_wrong(k, _STR) for k in data.get("keywords", ())):
        return "keywords: every keyword must be a string"
    for name, types in _SOURCE_TYPES.items():
        source = data.get("source") or {}
        if name in source and _wrong(source[name], types):
            return f"source.{name}: {source[name]!r} has the wrong type"
    for i, block in enumerate(data.get("blocks", ())):
        if not isinstance(block, dict):
            return f"blocks[{i}]: must be an object"
        if _wrong(block.get("text"), _STR) or _wrong(block.get("kind", ""), _STR):
            return f"blocks[{i}]: text and kind must be strings"
        lines = block.get("lines", [0, 0])
        if (
            not isinstance(lines, list)
            or len(lines) != 2
            or _wrong(lines[0], _INT)
            or _wrong(lines[1], (int, type(None)))
        ):
            return f"blocks[{i}].lines: must be [first, last] line numbers"
        spans = block.get("spans", [])
        if not isinstance(spans, list):
            return f"blocks[{i}].spans: must be a list"
        for j, span in enumerate(spans):
            where = f"blocks[{i}].spans[{j}]"
            if not isinstance(span, dict):
                return f"{where}: must be an object"
            if _wrong(span.get("start"), _INT) or _wrong(span.get("end"), _INT):
                return f"{where}: start and end must be integers"
            if _wrong(span.get("kind"), _STR):
                return f"{where}.kind: must be a string"
            attributes = span.get("attributes") or {}
            if not isinstance(attributes, dict) or any(
                _wrong(v, _STR) for v in attributes.values()
            ):
                return f"{where}.attributes: must map names to strings"
    return None


def _locate_model_error(data: Mapping[str, Any]) -> str:
    """Which field makes the model refuse data the schema let through (best effort)."""
    for name in ("date",):
        value = data.get(name)
        if value:
            try:
                dt.date.fromisoformat(value)
            except (TypeError, ValueError):
                return name
    value = data.get("issued")
    if value:
        try:
            dt.datetime.fromisoformat(value)
        except (TypeError, ValueError):
            return "issued"
    for index, block in enumerate(data.get("blocks") or ()):
        try:
            Block.from_dict(block)
        except (KeyError, ValueError, TypeError, AttributeError):
            return f"blocks[{index}]"
    return "document"


def document_from_json_bytes(data: bytes, *, path: str = "<json>") -> Document:
    """A document from our JSON bytes, or :class:`InputRejected` saying what is wrong where."""
    parsed = _parse(data, path)
    if not isinstance(parsed, dict):
        raise _shape_error(path, f"the top level must be an object, not {type(parsed).__name__}")
    if "model_version" not in parsed:
        raise _shape_error(
            path,
            "model_version: missing; this is not a corpus document JSON (the json reader reads "
            "files written by the json exporter)",
        )
    version = parsed["model_version"]
    if version != MODEL_VERSION or isinstance(version, bool):
        raise InputRejected(
            f"model_version {version!r} is not supported (this corpus reads {MODEL_VERSION}); "
            "upgrade corpus or re-export the document",
            code="JSON_VERSION",
            path=path,
        )
    if have_jsonschema():
        problems = check_json(parsed)
        if problems:
            more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
            raise _shape_error(path, f"{problems[0]}{more}")
    else:
        problem = basic_shape_problem(parsed)
        if problem:
            raise _shape_error(path, problem)
    try:
        return document_from_dict(parsed)
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        field = _locate_model_error(parsed)
        detail = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
        raise _shape_error(path, f"{field}: {detail}") from None


class JSONReader(Reader):
    """Document JSON as written by the json exporter (model_version 1)."""

    name = "json"
    extensions = (".json",)
    media_type = "application/json"
    description = "corpus document JSON (as written by the json exporter)"

    def sniff(self, head: bytes) -> bool:
        if head.startswith(_BOM):
            head = head[len(_BOM) :]
        return head.lstrip().startswith(b"{")

    def read(self, data: bytes, *, path: str, key: str) -> ReadResult:
        return ReadResult(document_from_json_bytes(data, path=path))


@hookimpl
def register_readers(register: Callable[[Any], None]) -> None:
    register(JSONReader())

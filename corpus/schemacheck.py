"""Check output against schemas, offline, and get readable problems back instead of exceptions.

* :func:`check_xml` validates XML bytes against an XSD file the user points at (for NITF: their
  copy of the official ``nitf-3-6.xsd``; imports resolve relative to that file). Nothing is
  fetched from the network and no DTD or entity is loaded.
* :func:`check_json` validates document JSON against the bundled
  ``corpus/schemas/document.schema.json`` (needs the ``jsonschema`` package).

Each returns a list of :class:`Problem`; empty means valid.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import attrs

from .errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from lxml import etree

# lxml and jsonschema are imported by the functions that use them: the JSON reader imports this
# module, and every ``corpus`` command loads the readers.

#: Package resource name of the bundled document schema.
DOCUMENT_SCHEMA = "document.schema.json"


@attrs.frozen
class Problem:
    """One schema problem: where (a line for XML, a field path for JSON) and what."""

    message: str
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        if self.field:
            where += f"{self.field}: "
        return where + self.message


def _safe_parser() -> etree.XMLParser:
    from lxml import etree

    return etree.XMLParser(
        no_network=True, resolve_entities=False, load_dtd=False, dtd_validation=False
    )


@functools.lru_cache(maxsize=8)
def _xsd(path: str, mtime: float) -> etree.XMLSchema:
    from lxml import etree

    try:
        tree = etree.parse(path, _safe_parser())
        return etree.XMLSchema(tree)
    except OSError as exc:
        raise ConfigError(f"cannot read schema {path}: {exc}") from exc
    except (etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
        raise ConfigError(f"{path} is not a usable XML Schema: {exc}") from exc


def load_xsd(path: str | os.PathLike[str]) -> etree.XMLSchema:
    """An XSD loaded offline and cached (reloaded when the file changes)."""
    text = os.fspath(path)
    try:
        mtime = os.stat(text).st_mtime
    except OSError as exc:
        raise ConfigError(f"cannot read schema {text}: {exc.strerror or exc}") from exc
    return _xsd(text, mtime)


def check_xml(data: bytes, xsd: str | os.PathLike[str] | etree.XMLSchema) -> list[Problem]:
    """Problems of XML ``data`` against ``xsd`` (a path or a loaded schema); [] when valid.

    Bytes that are not well-formed XML give one problem with the parser's line.
    """
    from lxml import etree

    schema = xsd if isinstance(xsd, etree.XMLSchema) else load_xsd(xsd)
    try:
        root = etree.fromstring(data, _safe_parser())
    except etree.XMLSyntaxError as exc:
        return [Problem(f"not well-formed XML: {exc.msg}", line=exc.lineno)]
    if schema.validate(root):
        return []
    return [Problem(e.message, line=e.line) for e in schema.error_log]


@functools.lru_cache(maxsize=1)
def document_schema() -> dict[str, Any]:
    """The bundled JSON Schema (draft 2020-12) of the document JSON form."""
    from importlib import resources

    text = (
        resources.files("corpus").joinpath("schemas").joinpath(DOCUMENT_SCHEMA).read_text("utf-8")
    )
    return json.loads(text)


@functools.lru_cache(maxsize=1)
def _document_validator() -> Any:
    try:
        import jsonschema
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ConfigError(
            "checking JSON against the document schema needs the jsonschema package: "
            "pip install jsonschema"
        ) from exc
    schema = document_schema()
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def have_jsonschema() -> bool:
    """Whether :func:`check_json` can run (the optional jsonschema package is installed)."""
    try:
        import jsonschema  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the environment
        return False
    return True


def field_path(parts: Iterable[Any]) -> str:
    """A JSON location as users write it: ``blocks[2].spans[0].end`` ('' for the top)."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _sort_key(parts: Iterable[Any]) -> list[tuple[int, Any]]:
    return [(0, p) if isinstance(p, int) else (1, str(p)) for p in parts]


def check_json(data: bytes | str | Any) -> list[Problem]:
    """Problems of document JSON (bytes, text, or already-parsed data) against the schema.

    Problems are ordered by field path, so the first is the earliest in the document.
    """
    if isinstance(data, (bytes, str)):
        try:
            data = json.loads(data)
        except ValueError as exc:
            return [Problem(f"not JSON: {exc.msg}", line=getattr(exc, "lineno", None))]
    validator = _document_validator()
    errors = sorted(validator.iter_errors(data), key=lambda e: _sort_key(e.absolute_path))
    return [Problem(e.message, field=field_path(e.absolute_path) or None) for e in errors]

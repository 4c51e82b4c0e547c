"""The one way corpus parses XML it did not write: no DTDs, no entities, no network.

News feeds arrive from outside, so every reader of untrusted XML goes through
:func:`parse_untrusted`. Its parser never loads a DTD (a ``DOCTYPE`` is kept as a name, never
fetched), never expands entities, never touches the network and keeps libxml2's size limits
(``huge_tree`` off). Documents that declare entities at all are refused with a coded
:class:`~corpus.errors.InputRejected`: an external entity (XXE) as ``XML_EXTERNAL_ENTITY``,
an internal one (the "billion laughs" bomb is made of these) as ``XML_ENTITY_DECLARED``.
No legitimate NITF or NewsML-G2 file needs either.
"""

from __future__ import annotations

import codecs
import re

import attrs
from lxml import etree

from .errors import InputRejected

#: Codes raised by :func:`parse_untrusted` (stable; users filter on them).
XML_MALFORMED = "XML_MALFORMED"
XML_EXTERNAL_ENTITY = "XML_EXTERNAL_ENTITY"
XML_ENTITY_DECLARED = "XML_ENTITY_DECLARED"
XML_EMPTY = "XML_EMPTY"


def safe_parser(*, encoding: str | None = None) -> etree.XMLParser:
    """A fresh lxml parser for untrusted input (parsers are not thread-safe: make one per use).

    ``encoding`` overrides the document's own declaration; use it only to retry a file that
    declares nothing and is not UTF-8.
    """
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=False,
        remove_blank_text=False,
        encoding=encoding,
    )


@attrs.frozen
class ParsedXML:
    """A parsed document and how its bytes were decoded."""

    root: etree._Element
    encoding: str
    #: True when the file declared no encoding, was not UTF-8, and was read as Windows-1252.
    encoding_guessed: bool = False


def parse_untrusted(data: bytes, *, path: str | None = None) -> ParsedXML:
    """Parse bytes from outside into an element tree, or raise a coded ``InputRejected``.

    The bytes are parsed as given, so the XML declaration's encoding (UTF-8, ISO-8859-1...)
    decides. A file that declares no encoding and is not valid UTF-8 is read once more as
    Windows-1252 (a superset of ISO-8859-1 for printable text) and flagged as guessed.
    """
    if not data.strip():
        raise InputRejected("the file is empty; nothing to read", code=XML_EMPTY, path=path, line=1)
    _refuse_declared_entities(data, path)
    guessed = False
    try:
        root = etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError as exc:
        if _is_encoding_error(exc) and not _declares_encoding(data):
            try:
                root = etree.fromstring(data, safe_parser(encoding="windows-1252"))
            except etree.XMLSyntaxError as exc2:
                raise _malformed(exc2, path) from None
            guessed = True
        else:
            raise _malformed(exc, path) from None
    tree = root.getroottree()
    _refuse_entities(tree, path)
    encoding = "windows-1252" if guessed else (tree.docinfo.encoding or "utf-8").lower()
    return ParsedXML(root=root, encoding=encoding, encoding_guessed=guessed)


_ENTITY_DECL = re.compile(rb"<!ENTITY\s+(?:%\s*)?([^\s>]+)\s+(SYSTEM|PUBLIC)?")


def _doctype(data: bytes) -> tuple[bytes, int]:
    """The DOCTYPE's bytes (ASCII-compatible; UTF-16 is decoded) and the line it starts on."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        data = data.decode("utf-16", errors="replace").encode("utf-8")
    start = data.find(b"<!DOCTYPE")
    if start < 0:
        return b"", 1
    end = data.find(b"]>", start)
    return data[start : end + 2 if end >= 0 else len(data)], data[:start].count(b"\n") + 1


def _refuse_declared_entities(data: bytes, path: str | None) -> None:
    """Refuse entity declarations before libxml2 even sees them (its own limits are a backstop)."""
    doctype, first_line = _doctype(data)
    for match in _ENTITY_DECL.finditer(doctype):
        name = match.group(1).decode("utf-8", errors="replace")
        line = first_line + doctype[: match.start()].count(b"\n")
        if match.group(2):
            raise _external(name, match.group(2).decode(), path, line)
        raise _declared(name, path, line)


def _external(name: str, where: str, path: str | None, line: int) -> InputRejected:
    return InputRejected(
        f"the file declares an external entity {name!r} ({where}); external entities are "
        "never loaded (XXE). Remove the DOCTYPE's internal subset.",
        code=XML_EXTERNAL_ENTITY,
        path=path,
        line=line,
    )


def _declared(name: str, path: str | None, line: int) -> InputRejected:
    return InputRejected(
        f"the file declares entity {name!r} in its DOCTYPE; entity declarations are refused "
        "(they can expand exponentially, the 'billion laughs' attack). Remove the DOCTYPE's "
        "internal subset.",
        code=XML_ENTITY_DECLARED,
        path=path,
        line=line,
    )


def _refuse_entities(tree: etree._ElementTree, path: str | None) -> None:
    """Refuse any entity declaration libxml2 saw in the DOCTYPE's internal subset."""
    dtd = tree.docinfo.internalDTD
    for entity in dtd.iterentities() if dtd is not None else ():
        if entity.system_url:
            raise _external(entity.name, entity.system_url, path, 1)
        raise _declared(entity.name, path, 1)


def _is_encoding_error(exc: etree.XMLSyntaxError) -> bool:
    text = str(exc).lower()
    return "encoding" in text or "utf-8" in text or "bytes" in text


def _declares_encoding(data: bytes) -> bool:
    if data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    first = data[:200].split(b"?>", 1)[0]
    return data.startswith(b"<?xml") and b"encoding" in first


def _malformed(exc: etree.XMLSyntaxError, path: str | None) -> InputRejected:
    line = exc.lineno if isinstance(exc.lineno, int) and exc.lineno > 0 else None
    message = exc.msg if getattr(exc, "msg", None) else str(exc)
    return InputRejected(
        f"not well-formed XML: {message}. Fix the file (or re-export it from its source "
        "system); control characters and undeclared encodings are the usual causes.",
        code=XML_MALFORMED,
        path=path,
        line=line,
    )

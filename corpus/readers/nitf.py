"""NITF reader plugin: NITF 3.x files as agencies send them, bare or inside a NewsML-G2 item.

Accepts NITF with or without the 2006-10-18 namespace and with any ``version`` string, from
UTF-8 or ISO-8859-1 bytes, with a DOCTYPE that is never fetched. The mapping is in
``docs/formats.md``; the reading itself, with lxml, is :mod:`corpus.readers.nitf_xml`, which is
imported on the first read: every ``corpus`` command loads this plugin, few read NITF. Its
public names (``inline_text``, ``parse_norm``, ``BLOCK_KINDS``...) are reachable from here too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from corpus.formats import Reader, ReadResult
from corpus.hookspecs import hookimpl

#: The plugin name, also the key of this reader's entry in ``Document.annotations``.
PLUGIN = "nitf-reader"


class NITFReader(Reader):
    """NITF 3.x XML, bare or carried in a NewsML-G2 newsItem's inlineXML."""

    name = "nitf"
    extensions = (".nitf", ".xml")
    media_type = "application/nitf+xml"
    description = "NITF 3.x XML (any version, namespaced or not), also inside NewsML-G2"

    def sniff(self, head: bytes) -> bool:
        return sniff_nitf(head)

    def read(self, data: bytes, *, path: str, key: str) -> ReadResult:
        from corpus.readers.nitf_xml import read_nitf

        return read_nitf(data, path=path, key=key, reader=self.name)


def sniff_nitf(head: bytes) -> bool:
    """Whether the first bytes look like NITF or an envelope that may carry it."""
    name = root_name(head)
    return name in {"nitf", "newsItem", "contentSet", "inlineXML"}


_ROOT = re.compile(rb"<(?![?!])(?:[\w.-]+:)?([\w.-]+)")


def root_name(head: bytes) -> str | None:
    """The local name of the first element in ``head`` (skips declaration, comments, DOCTYPE)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="ignore").encode("utf-8")
    head = re.sub(rb"<!--.*?-->", b"", head, flags=re.S)
    match = _ROOT.search(head)
    return match.group(1).decode("ascii", errors="replace") if match else None


def __getattr__(name: str) -> Any:
    """The reading functions and tables, from :mod:`corpus.readers.nitf_xml` on first use."""
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from corpus.readers import nitf_xml

    return getattr(nitf_xml, name)


@hookimpl
def register_readers(register: Callable[[Any], None]) -> None:
    register(NITFReader())

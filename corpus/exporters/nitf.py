"""NITF 3.6 exporter plugin: XML that validates against the official IPTC schema.

The mapping is documented in ``docs/nitf.md``; the writing itself is
:mod:`corpus.exporters.nitf_xml`, imported on the first export (every ``corpus`` command loads
this plugin, few export). Its public names (``build_nitf_tree``, ``nitf_bytes``,
``nest_spans``, ``nitf_norm_date``, ``NITF_NS``...) are reachable from here too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from corpus.formats import Exporter
from corpus.hookspecs import hookimpl
from corpus.model import Document, Finding, Severity


def dropped_findings(
    document: Document, losses: list[tuple[int | None, str]], exporter: str
) -> list[Finding]:
    """``CONTENT_DROPPED`` warnings from (line, message) pairs, for an exporter's report."""
    path = document.source.path if document.source is not None else None
    return [
        Finding(
            "CONTENT_DROPPED",
            Severity.WARNING,
            f"{exporter} export: {message}",
            path=path,
            line=line,
        )
        for line, message in losses
    ]


class NITFExporter(Exporter):
    """NITF 3.6 XML, valid against the official IPTC schema."""

    name = "nitf"
    extension = ".xml"
    media_type = "application/nitf+xml"
    description = "NITF 3.6 XML (IPTC), valid against the official XSD"

    def export(self, document: Document) -> bytes:
        from corpus.exporters.nitf_xml import nitf_bytes

        return nitf_bytes(document)

    def dropped(self, document: Document) -> list[Finding]:
        """``CONTENT_DROPPED`` warnings for the markup NITF cannot carry (text never is), and
        for what the NITF reader kept of ``body.head`` that cannot be written back."""
        if "nitf-reader" not in document.annotations and not any(
            block.spans or block.rows for block in document.blocks
        ):
            return []
        from corpus.exporters.nitf_xml import nitf_losses

        return dropped_findings(document, nitf_losses(document), self.name)


def __getattr__(name: str) -> Any:
    """The writing functions and tables, from :mod:`corpus.exporters.nitf_xml` on first use."""
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from corpus.exporters import nitf_xml

    return getattr(nitf_xml, name)


@hookimpl
def register_exporters(register: Callable[[Any], None]) -> None:
    register(NITFExporter())

"""Rendering stored documents for people: the ``text`` form of ``corpus show``."""

from __future__ import annotations

from ..model import Document
from ..plugins import Plugins


def plain_text(document: Document) -> str:
    """Title, date and byline, then the paragraphs separated by blank lines."""
    head = [document.title] if document.title else []
    meta = [x for x in (document.date and document.date.isoformat(), document.byline) if x]
    if meta:
        head.append(" | ".join(meta))
    parts = ["\n".join(head)] if head else []
    if document.abstract:
        parts.append(document.abstract)
    parts.extend(block.text for block in document.blocks)
    return "\n\n".join(parts) + "\n"


def render(document: Document, fmt: str, plugins: Plugins) -> bytes:
    """``document`` as ``fmt``: any registered exporter, or ``text`` for reading.

    ``text`` uses an exporter named ``article`` or ``text`` when a plugin registers one (so the
    delimited article format round-trips), else :func:`plain_text`.
    """
    if fmt == "text":
        for name in ("article", "text"):
            if name in plugins.exporters:
                return plugins.exporters.get(name).export(document)
        return plain_text(document).encode("utf-8")
    return plugins.exporters.get(fmt).export(document)

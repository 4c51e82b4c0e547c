"""corpus: ingest news articles into one canonical model, export NITF and JSON, diff versions.

The library API works without the command line::

    from corpus import read_path, export_document
    result = read_path("fixtures/articles/seed.txt")
    nitf_bytes = export_document(result.document, "nitf")

Plugins import ``hookimpl`` from here: ``from corpus import hookimpl``.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import CorpusError
from .hookspecs import hookimpl
from .model import Block, Cell, Document, Finding, Row, Severity, Source, Span

__all__ = [
    "Block",
    "Cell",
    "CorpusError",
    "Document",
    "Finding",
    "Row",
    "Severity",
    "Source",
    "Span",
    "__version__",
    "export_document",
    "hookimpl",
    "read_path",
]


def __getattr__(name: str):
    # The pipeline imports lxml and the plugins; keep ``import corpus`` cheap for plugins.
    if name in ("read_path", "export_document", "read_bytes"):
        from . import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)

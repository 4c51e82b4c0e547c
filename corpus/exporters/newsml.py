"""NewsML-G2 exporter: one ``newsItem`` envelope per document, the story as NITF inside.

The item (guid, version, ``itemMeta``, ``contentMeta`` with headline, dates, keywords and
language) validates against the NewsML-G2 2.35 schema; the NITF in ``inlineXML`` comes from
:func:`corpus.exporters.nitf.build_nitf_tree`, so it validates on its own against NITF 3.6
and carries everything that exporter carries (spans, annotations). ``docs/formats.md`` has the
mapping. The helpers here (:func:`document_uri`, :func:`version_created`,
:func:`iso_datetime`) are shared with the ninjs exporters so both name and date a document alike.
The tree itself is built with lxml by :mod:`corpus.exporters.newsml_xml`, imported on the first
export: every ``corpus`` command loads this plugin, few export.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from corpus.formats import Exporter
from corpus.hookspecs import hookimpl
from corpus.model import Document, Finding

#: The NewsML-G2 namespace (NAR = News Architecture).
NAR_NS = "http://iptc.org/std/nar/2006-10-01/"
XML_NS = "http://www.w3.org/XML/1998/namespace"
#: The schema version written to ``standardversion`` (N.N, as the schema requires).
STANDARD_VERSION = "2.35"
#: IPTC catalog that defines the ``ninat:`` and ``stat:`` schemes used in QCodes.
IPTC_CATALOG = "http://www.iptc.org/std/catalog/catalog.IPTC-G2-Standards_32.xml"
#: Prefix of every document's identifier (NewsML guid, ninjs uri).
URI_PREFIX = "urn:newscorpus:"
#: Environment variable (the reproducible-builds convention) fixing "now" for undated items.
SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"

_LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*\Z")


def document_uri(document: Document) -> str:
    """A stable URI for a document, from its key: ``urn:newscorpus:`` + percent-encoded key."""
    return URI_PREFIX + quote(document.key, safe="/-._~")


def valid_language(tag: str | None) -> str | None:
    """``tag`` if it has the shape of a BCP 47 / xs:language tag, else None."""
    return tag if tag and _LANGUAGE_TAG.match(tag) else None


def _aware(value: dt.datetime) -> dt.datetime:
    # A naive timestamp (e.g. NITF "2021-05-16T09:00:04") is taken as UTC: the formats
    # that need a zone have no way to say "unknown".
    return value if value.utcoffset() is not None else value.replace(tzinfo=dt.timezone.utc)


def iso_datetime(value: dt.datetime) -> str:
    """RFC 3339 / xs:dateTime text with a zone (``Z`` for UTC), whole seconds."""
    text = _aware(value).replace(microsecond=0).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _now() -> dt.datetime:
    epoch = os.environ.get(SOURCE_DATE_EPOCH, "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc)
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def version_created(document: Document) -> dt.datetime:
    """When this version was created: the issue time, else midnight UTC of the date.

    An undated document gets the time of export (or ``$SOURCE_DATE_EPOCH`` when set, for
    reproducible output): both formats require a timestamp here.
    """
    if document.issued is not None:
        return _aware(document.issued)
    if document.date is not None:
        return dt.datetime.combine(document.date, dt.time(0), dt.timezone.utc)
    return _now()


def content_created(document: Document) -> str | None:
    """``contentCreated``: the full timestamp when known, else the bare day (truncated)."""
    if document.issued is not None:
        return iso_datetime(document.issued)
    if document.date is not None:
        return document.date.isoformat()
    return None


class NewsMLExporter(Exporter):
    """NewsML-G2 2.35 newsItem carrying the story as NITF 3.6 in inlineXML."""

    name = "newsml"
    extension = ".newsml.xml"
    media_type = "application/vnd.iptc.g2.newsitem+xml"
    description = "NewsML-G2 2.35 newsItem with the NITF story in inlineXML (IPTC)"

    def export(self, document: Document) -> bytes:
        from corpus.exporters.newsml_xml import newsml_bytes

        return newsml_bytes(document)

    def dropped(self, document: Document) -> list[Finding]:
        """The NITF it embeds loses what the NITF exporter loses (``CONTENT_DROPPED``)."""
        if not any(block.spans or block.rows for block in document.blocks):
            return []
        from corpus.exporters.nitf import dropped_findings
        from corpus.exporters.nitf_xml import nitf_losses

        return dropped_findings(document, nitf_losses(document), self.name)


def __getattr__(name: str) -> Any:
    """``build_newsml_tree`` and ``newsml_bytes``, from :mod:`corpus.exporters.newsml_xml`."""
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from corpus.exporters import newsml_xml

    return getattr(newsml_xml, name)


@hookimpl
def register_exporters(register: Callable[[Any], None]) -> None:
    register(NewsMLExporter())

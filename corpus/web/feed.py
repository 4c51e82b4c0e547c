"""Atom feeds of changes (RFC 4287), for feed readers: one entry per new version of a document.

Built with lxml, so every piece of document text is escaped as XML; characters XML 1.0 forbids
(a stray control character in a scraped page) become U+FFFD rather than break the feed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lxml import etree

from ..store.timeutil import short
from ..xmlsafe import xml_safe
from .figures import pct

ATOM = "http://www.w3.org/2005/Atom"


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrib: str) -> Any:
    element = etree.SubElement(parent, f"{{{ATOM}}}{tag}", attrib)
    if text is not None:
        element.text = xml_safe(text)
    return element


def atom_feed(
    entries: Sequence[tuple[Any, Any]],
    *,
    site: Any,
    self_url: str,
    base: str,
    key: str | None,
) -> bytes:
    """The feed document: ``entries`` are (ChangedVersion, Change) pairs, newest first."""
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    _sub(feed, "title", f"Changes to {key}" if key else "Changes in the corpus")
    _sub(feed, "id", self_url)
    _sub(feed, "link", rel="self", href=self_url)
    alternate = site.doc_url(key) if key else site.url("/")
    _sub(feed, "link", rel="alternate", type="text/html", href=_absolute(base, alternate))
    updated = entries[0][0].version.created if entries else "1970-01-01T00:00:00Z"
    _sub(feed, "updated", short(updated))
    author = _sub(feed, "author")
    _sub(author, "name", "newscorpus")
    _sub(feed, "generator", "newscorpus")
    for item, change in entries:
        v = item.version
        url = _absolute(base, site.diff_url(v.key, **{"from": v.n - 1, "to": v.n}))
        entry = _sub(feed, "entry")
        _sub(entry, "title", f"{item.title or v.key} (version {v.n})")
        _sub(entry, "id", url)
        _sub(entry, "link", rel="alternate", type="text/html", href=url)
        _sub(entry, "updated", short(v.created))
        _sub(
            entry,
            "summary",
            f"{v.key}: {change.line}; {pct(change.ratio)} of the text changed",
        )
        _sub(entry, "category", term="headline" if change.headline else "text")
    return etree.tostring(feed, xml_declaration=True, encoding="utf-8")


def _absolute(base: str, path: str) -> str:
    return base.rstrip("/") + path if path.startswith("/") else path

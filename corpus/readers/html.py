"""HTML reader plugin: a web page's main text and metadata as a canonical document.

The extraction itself (trafilatura, lxml) lives in :mod:`corpus.readers.html_read` and is
imported on the first read: every ``corpus`` command loads this plugin, few read HTML.
Settings come from ``[plugins.html-reader]`` in ``corpus.toml`` (see ``docs/formats.md``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from corpus.formats import Reader, ReadResult
from corpus.hookspecs import hookimpl

#: The plugin name: its settings table, and its entry in ``Document.annotations``.
PLUGIN = "html-reader"

_HTML_HEAD = re.compile(
    rb"\A(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*(?:<!doctype\s+html|<html[\s>]|<head[\s>])",
    re.I | re.S,
)


def sniff_html(head: bytes) -> bool:
    """Whether the first bytes of a file are an HTML page (doctype, ``<html>`` or ``<head>``)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="ignore").encode("utf-8")
    return _HTML_HEAD.match(head[:1024]) is not None


class HTMLReader(Reader):
    """A web page: main text found by trafilatura (or a per-site CSS selector), metadata kept."""

    name = "html"
    extensions = (".html", ".htm", ".xhtml", ".shtml")
    media_type = "text/html"
    description = "web pages: main text, title, date, byline, canonical URL (trafilatura)"
    #: Also chosen for files of an extension no reader claims, when their bytes look like HTML.
    sniff_unclaimed = True

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        self._raw_settings = dict(settings or {})
        self._settings: Any = None
        self._last: HTMLReader | None = None

    def sniff(self, head: bytes) -> bool:
        return sniff_html(head)

    def configured(self, config: Any) -> HTMLReader:
        settings = config.plugin_settings(PLUGIN) if config is not None else {}
        if settings == self._raw_settings:
            return self
        if self._last is None or self._last._raw_settings != settings:
            self._last = HTMLReader(settings)
        return self._last

    @property
    def settings(self) -> Any:
        if self._settings is None:
            from corpus.readers.html_read import HTMLSettings

            self._settings = HTMLSettings.from_table(self._raw_settings)
        return self._settings

    def read(self, data: bytes, *, path: str, key: str) -> ReadResult:
        from corpus.readers.html_read import read_html

        return read_html(data, path=path, key=key, settings=self.settings)


@hookimpl
def register_readers(register: Callable[[Any], None]) -> None:
    register(HTMLReader())


def check_sites(sites: Any) -> tuple[tuple[str, ...], str | None, str] | None:
    """``sites``: each a table holding ``main``, a CSS selector (checked before any page)."""
    import difflib

    for host, site in sites.items():
        if not isinstance(site, dict):
            return (), host, f'"{host}" must be a table holding main = "<CSS selector>"'
        for key in site:
            if key != "main":
                close = difflib.get_close_matches(key, ["main"], n=1, cutoff=0.6)
                hint = "; did you mean 'main'?" if close else ""
                return (host,), key, f"has no setting {key!r}{hint} (known: main)"
        main = site.get("main")
        if not isinstance(main, str):
            if main is None:
                return (host,), None, 'needs main = "<CSS selector>"'
            return (host,), "main", f"main must be a string (a CSS selector), not {main!r}"
        from lxml.cssselect import CSSSelector, SelectorError

        try:
            CSSSelector(main, translator="html")
        except SelectorError as exc:
            return (host,), "main", f"bad CSS selector {main!r}: {exc}"
    return None


@hookimpl
def register_settings(register: Callable[..., None]) -> None:
    from corpus.settings import Setting

    register(
        PLUGIN,
        {
            "max_html_bytes": Setting(int, minimum=1, help="larger pages are capped"),
            "min_main_chars": Setting(int, minimum=0, help="less main text is none"),
            "min_main_share": Setting(float, minimum=0, help="HTML_MAIN_TEXT_SHORT under this"),
            "min_page_chars": Setting(int, minimum=0, help="...on pages this large"),
            "sites": Setting(dict, check=check_sites, help="per-site CSS selector: main"),
        },
    )

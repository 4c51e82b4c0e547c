"""Reading a web page: bytes -> text -> lxml tree -> main text (trafilatura) -> Document.

The steps, and why:

- **Decoding** follows the page's own declarations (BOM, the HTTP ``charset`` when a WARC
  record gives one, ``<meta charset>``), checked against the bytes: a page that declares
  UTF-8 but is not, or declares a single-byte encoding while its bytes are UTF-8, is read as
  what the bytes are, with a warning. Undeclared pages go through :func:`corpus.encoding.decode`
  as text files do. Never silent mojibake.
- **Size.** Extraction is about linear in the page size (~0.7 s per MB), so pages are capped
  (``max_html_bytes``): scripts, styles and comments are cut first (that is what makes most
  huge pages huge); a page still over the cap is cut there, with ``HTML_CAPPED``.
- **Main text** comes from trafilatura's structured (XML) output, with formatting, links and
  tables kept, so block kinds come from elements, not from re-splitting plain text. A per-site
  CSS selector (``[plugins.html-reader.sites."<host>"] main = "..."``) replaces extraction
  when it matches.
- **Blocks**: paragraphs, ``subheadline`` (h2-h6, and an h1 that is not the title),
  ``list-item`` (one block per item), ``blockquote``, ``table`` (rows one per line, cells
  separated by a tab: the model has no cells yet), ``preformatted``. Spans: ``emphasis``
  (attribute ``rend``: b, i, u...) and ``link`` (attribute ``href``).
"""

from __future__ import annotations

import codecs
import copy
import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urljoin, urlsplit

import attrs

from corpus.encoding import binary_kind, decode
from corpus.errors import ConfigError, InputRejected
from corpus.formats import ReadResult
from corpus.model import Block, Document, Finding, Severity, Source, Span
from corpus.readers.html import PLUGIN
from corpus.urlkey import is_web_url, url_key

FORMAT = "html"
#: Default cap on the page size given to extraction (bytes of decoded text, about).
DEFAULT_MAX_HTML_BYTES = 5 * 1024 * 1024
#: HTML_MAIN_TEXT_SHORT when the main text is less than this share of the page's visible text
DEFAULT_MIN_MAIN_SHARE = 0.1
#: ... and the page has at least this much visible text (short pages are simply short).
DEFAULT_MIN_PAGE_CHARS = 2000
#: Main text shorter than this (characters) is no main text: a menu's words, a button label.
DEFAULT_MIN_MAIN_CHARS = 25
#: Share of a page's visible text inside links above which a page reads as a listing.
LISTING_LINK_SHARE = 0.5

_META_CHARSET = re.compile(rb"<meta[^>]+?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.I)
_STRIP = re.compile(
    r"<script\b[^>]*>.*?</script\s*>|<style\b[^>]*>.*?</style\s*>|<!--.*?-->", re.I | re.S
)
_XML_DECLARATION = re.compile(r"\A\s*<\?xml[^>]*\?>")
_CLOSING_HTML = re.compile(rb"</(?:html|body)\s*>", re.I)
_WS = re.compile(r"\s+")
#: Characters XML cannot carry and no text means: C0/C1 controls, lone surrogates,
#: noncharacters. They become a space (or U+FFFD for surrogates) while text is collected.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_UNCLEAN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
#: Page types that say "not an article" (Open Graph, JSON-LD), and weaker ones that many
#: sites also put on articles: those count only on a page with much of its text in links.
_LISTING_TYPES = frozenset({"collectionpage", "itemlist", "searchresultspage", "profilepage"})
_GENERIC_TYPES = frozenset({"website", "webpage"})
#: Share of text in links that, with a generic page type, makes a page read as a listing.
GENERIC_LINK_SHARE = 0.3
_ARTICLE_TYPES = frozenset(
    {
        "article",
        "newsarticle",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "blogposting",
        "liveblogposting",
        "report",
        "backgroundnewsarticle",
    }
)
_SKIP_TAGS = frozenset(
    {"script", "style", "noscript", "template", "button", "form", "svg", "iframe", "select"}
)


@attrs.frozen
class HTMLSettings:
    """The reader's settings (``[plugins.html-reader]``), checked once."""

    max_html_bytes: int = DEFAULT_MAX_HTML_BYTES
    min_main_share: float = DEFAULT_MIN_MAIN_SHARE
    min_page_chars: int = DEFAULT_MIN_PAGE_CHARS
    min_main_chars: int = DEFAULT_MIN_MAIN_CHARS
    #: host -> CSS selector of the main content on that site.
    sites: dict[str, str] = attrs.field(factory=dict)

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> HTMLSettings:
        where = f"[plugins.{PLUGIN}]"
        known = {"max_html_bytes", "min_main_share", "min_page_chars", "min_main_chars", "sites"}
        unknown = sorted(set(table) - known)
        if unknown:
            raise ConfigError(f"{where}: unknown setting(s) {', '.join(unknown)}")
        sites: dict[str, str] = {}
        for host, site in dict(table.get("sites", {})).items():
            if not isinstance(site, dict) or not isinstance(site.get("main"), str):
                raise ConfigError(f'{where}: sites."{host}" needs main = "<CSS selector>"')
            _compile_selector(site["main"], host)
            sites[_site_host(host)] = site["main"]
        try:
            return cls(
                max_html_bytes=int(table.get("max_html_bytes", DEFAULT_MAX_HTML_BYTES)),
                min_main_share=float(table.get("min_main_share", DEFAULT_MIN_MAIN_SHARE)),
                min_page_chars=int(table.get("min_page_chars", DEFAULT_MIN_PAGE_CHARS)),
                min_main_chars=int(table.get("min_main_chars", DEFAULT_MIN_MAIN_CHARS)),
                sites=sites,
            )
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: {exc}") from None

    def too_short(self, main_chars: int, page_chars: int) -> bool:
        """Whether a main text of ``main_chars`` is none, or short for a page this size."""
        return main_chars < self.min_main_chars or (
            page_chars >= self.min_page_chars and main_chars < self.min_main_share * page_chars
        )

    def selector_for(self, url: str | None) -> str | None:
        """The main-content selector for the site of ``url`` (its host or a parent domain)."""
        if not self.sites or not url:
            return None
        host = _site_host(urlsplit(url).hostname or "")
        while host:
            if host in self.sites:
                return self.sites[host]
            host = host.partition(".")[2]
        return None


def _site_host(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


_SELECTORS: dict[str, Any] = {}


def _compile_selector(selector: str, host: str = "") -> Any:
    found = _SELECTORS.get(selector)
    if found is None:
        from lxml.cssselect import CSSSelector, SelectorError

        try:
            found = _SELECTORS[selector] = CSSSelector(selector, translator="html")
        except SelectorError as exc:
            raise ConfigError(
                f'[plugins.{PLUGIN}] sites."{host}": bad CSS selector {selector!r}: {exc}'
            ) from None
    return found


@attrs.frozen
class PageInfo:
    """What the caller knows about a page besides its bytes (a WARC record does)."""

    #: The address the page was fetched from.
    url: str | None = None
    #: Whether the key comes from ``url`` (a WARC record) rather than the canonical URL.
    key_from_url: bool = False
    #: ``charset`` of the HTTP Content-Type header.
    charset: str | None = None
    #: When the page was captured (ISO 8601, e.g. a WARC-Date).
    captured: str | None = None
    #: Provenance to keep in the annotations (archive, record offset...).
    extra: dict[str, Any] = attrs.field(factory=dict)


# -- decoding --------------------------------------------------------------------------------


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        codec = codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None
    # As browsers do (WHATWG Encoding): Latin-1 and ASCII labels mean Windows-1252.
    return "cp1252" if codec in ("latin-1", "iso8859-1", "ascii") else codec


def _nice(codec: str) -> str:
    return {"utf-8": "utf-8", "cp1252": "windows-1252"}.get(codec, codec)


def decode_html(
    data: bytes, path: str, charset: str | None = None
) -> tuple[str, str, list[Finding]]:
    """The page's text, the encoding used, and findings (see the module docstring)."""
    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        decoded = decode(data, path=path)
        return decoded.text, decoded.encoding, list(decoded.findings)
    kind = binary_kind(data)
    if kind is not None or b"\x00" in data[:4096]:
        what = kind or "binary data (NUL bytes)"
        raise InputRejected(
            f"this is {what}, not a web page; remove it or rename it",
            code="BINARY_DATA",
            path=path,
            line=1,
        )
    declared_name = charset
    if not declared_name:
        match = _META_CHARSET.search(data[:4096])
        declared_name = match.group(1).decode("ascii") if match else None
    codec = _codec(declared_name)
    findings: list[Finding] = []
    if declared_name and codec is None:
        findings.append(
            Finding(
                "HTML_UNKNOWN_CHARSET",
                Severity.WARNING,
                f"the page declares charset {declared_name!r}, which is not a known encoding; "
                "the encoding was worked out from the bytes",
                path=path,
            )
        )
    if codec is not None and codec != "utf-8":
        if not data.isascii() and _is_utf8(data):
            findings.append(_mismatch(path, declared_name, "utf-8"))
            return data.decode("utf-8"), "utf-8", findings
        try:
            return data.decode(codec), _nice(codec), findings
        except UnicodeDecodeError:
            pass
    elif codec == "utf-8":
        try:
            return data.decode("utf-8"), "utf-8", findings
        except UnicodeDecodeError:
            pass
    decoded = decode(data, path=path)
    if codec is not None:
        findings.append(_mismatch(path, declared_name, decoded.encoding))
        return (
            decoded.text,
            decoded.encoding,
            findings + [f for f in decoded.findings if f.code != "ENCODING_FALLBACK"],
        )
    return decoded.text, decoded.encoding, findings + list(decoded.findings)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _mismatch(path: str, declared: str | None, used: str) -> Finding:
    return Finding(
        "HTML_ENCODING_MISMATCH",
        Severity.WARNING,
        f"the page declares charset {declared!r} but its bytes are not in that encoding; read "
        f"as {used}: fix the declaration at the source",
        path=path,
    )


# -- the tree --------------------------------------------------------------------------------


def _parse(text: str, path: str) -> Any:
    import lxml.html
    from lxml import etree

    parser = lxml.html.HTMLParser(
        remove_comments=True, remove_pis=True, default_doctype=False, huge_tree=False
    )
    text = _XML_DECLARATION.sub("", text, count=1)  # lxml refuses str input with one
    try:
        root = lxml.html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError):
        return None
    return root


def _meta(root: Any) -> dict[str, str]:
    """``<meta>`` values by lower-cased name or property (first one wins)."""
    out: dict[str, str] = {}
    for meta in root.iter("meta"):
        name = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        content = meta.get("content")
        if name and content and name not in out:
            out[name] = content.strip()
    return out


def _json_ld(root: Any) -> list[dict[str, Any]]:
    """The JSON-LD objects of a page (``@graph`` flattened); bad JSON is ignored."""
    found: list[dict[str, Any]] = []
    for script in root.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, dict):
                found.append(item)
                graph = item.get("@graph")
                if isinstance(graph, list):
                    stack.extend(graph)
            elif isinstance(item, list):
                stack.extend(item)
    return found


def _ld_types(objects: Iterable[dict[str, Any]]) -> set[str]:
    types: set[str] = set()
    for obj in objects:
        value = obj.get("@type")
        for t in value if isinstance(value, list) else [value]:
            if isinstance(t, str):
                types.add(t.lower())
    return types


_XPATHS: dict[str, Any] = {}


def _xpath(expression: str) -> Any:
    """A compiled XPath (compiling is a share of a small page's time); strings come back
    plain, not as lxml's "smart" strings that know their element."""
    found = _XPATHS.get(expression)
    if found is None:
        from lxml import etree

        found = _XPATHS[expression] = etree.XPath(expression, smart_strings=False)
    return found


def _visible_text_length(root: Any) -> tuple[int, int]:
    """Characters of visible text on the page (white space runs counted as one), and how many
    of them are inside links. XPath's string functions do the counting in C."""
    total = int(_xpath("string-length(normalize-space(//body))")(root))
    if total:
        hidden = _xpath("//body//script | //body//style | //body//noscript | //body//template")
        length = _xpath("string-length(normalize-space(.))")
        total -= sum(int(length(el)) for el in hidden(root))
    linked = len(" ".join(" ".join(_xpath("//body//a//text()")(root)).split()))
    return max(total, 0), max(0, min(linked, total))


def _max_depth(root: Any) -> int:
    deepest = 0
    stack = [(root, 1)]
    while stack:
        el, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in el)
    return deepest


# -- blocks ----------------------------------------------------------------------------------


class _Text:
    """Text built from pieces with white space collapsed, and spans over it."""

    __slots__ = ("parts", "length", "space", "spans")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.space = True  # at the start, leading white space is dropped
        #: (start, end, kind, attributes), untrimmed: Span objects are made by finish().
        self.spans: list[tuple[int, int, str, dict[str, str]]] = []

    def add(self, text: str | None) -> None:
        if not text:
            return
        text = _clean(text)
        # Each run of white space becomes one space: str.split() and the regex ``\s`` agree on
        # what white space is, and splitting is several times faster than a regex substitution.
        core = " ".join(text.split())
        if core:
            if text[0].isspace() and not self.space:
                core = " " + core
            if text[-1].isspace():
                core += " "
        elif self.space:
            return
        else:
            core = " "
        self.parts.append(core)
        self.length += len(core)
        self.space = core[-1] == " "

    def finish(self) -> tuple[str, tuple[Span, ...]]:
        """The text, right-trimmed, and its spans, trimmed to the words they cover."""
        stripped = "".join(self.parts).rstrip()
        end = len(stripped)
        spans = []
        for start, stop, kind, attributes in self.spans:
            s, e = min(start, end), min(stop, end)
            while s < e and stripped[s] == " ":
                s += 1
            while e > s and stripped[e - 1] == " ":
                e -= 1
            if e > s:
                spans.append(Span(s, e, kind, attributes))
        return stripped, tuple(spans)


def _clean(text: str) -> str:
    """``text`` without control characters and lone surrogates (see ``_CONTROL``)."""
    if _UNCLEAN.search(text) is None:  # nearly always: one scan, no copy
        return text
    return _SURROGATE.sub("\ufffd", _CONTROL.sub(" ", text))


def _inline(el: Any, out: _Text, *, trafilatura_xml: bool, base: str | None) -> None:
    """Text of ``el`` and its children into ``out``, with emphasis and link spans."""
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag in _SKIP_TAGS:
        out.add(el.tail)
        return
    start = out.length
    if tag in ("lb", "br"):
        out.add(" ")
    out.add(el.text)
    for child in el:
        _inline(child, out, trafilatura_xml=trafilatura_xml, base=base)
    end = out.length
    kind, attributes = _span_of(el, tag, trafilatura_xml, base)
    if kind and end > start:
        out.spans.append((start, end, kind, attributes))  # trimmed by finish()
    out.add(el.tail)


_EMPHASIS_HTML = {"em": "i", "i": "i", "strong": "b", "b": "b", "u": "u", "mark": "mark"}


def _span_of(
    el: Any, tag: str, trafilatura_xml: bool, base: str | None
) -> tuple[str | None, dict[str, str]]:
    if trafilatura_xml:
        if tag == "hi":
            return "emphasis", {"rend": (el.get("rend") or "").lstrip("#")}
        if tag == "ref" and el.get("target"):
            return "link", {"href": el.get("target")}
        return None, {}
    if tag in _EMPHASIS_HTML:
        return "emphasis", {"rend": _EMPHASIS_HTML[tag]}
    if tag == "a" and el.get("href"):
        href = el.get("href").strip()
        return "link", {"href": urljoin(base, href) if base else href}
    return None, {}


def _block(el: Any, kind: str, trafilatura_xml: bool, base: str | None) -> Block | None:
    if not len(el):  # text only (many headings and list items): no spans to place
        text = " ".join(_clean(el.text).split()) if el.text else ""
        return Block(text=text, kind=kind) if text else None
    out = _Text()
    out.add(el.text)
    for child in el:
        _inline(child, out, trafilatura_xml=trafilatura_xml, base=base)
    text, spans = out.finish()
    if not text:
        return None
    return Block(text=text, kind=kind, spans=spans)


def _table_block(rows: Iterable[Iterable[Any]], trafilatura_xml: bool) -> Block | None:
    lines = []
    for cells in rows:
        texts = []
        for cell in cells:
            out = _Text()
            out.add(cell.text)
            for child in cell:
                _inline(child, out, trafilatura_xml=trafilatura_xml, base=None)
            texts.append(out.finish()[0])
        if any(texts):
            lines.append("\t".join(texts))
    return Block(text="\n".join(lines), kind="table") if lines else None


def blocks_from_trafilatura(body: Any) -> list[Block]:
    """Blocks from trafilatura's XML body (``head``, ``p``, ``list/item``, ``quote``...)."""
    blocks: list[Block] = []

    def walk(container: Any, kind: str | None = None) -> None:
        for el in container:
            tag = el.tag if isinstance(el.tag, str) else ""
            if tag == "list":
                for item in el:
                    if not isinstance(item.tag, str):
                        continue
                    nested = [c for c in item if c.tag == "list"]
                    for c in nested:
                        item.remove(c)  # text of the item first, then its sub-list
                    block = _block(item, "list-item", True, None)
                    if block is not None:
                        blocks.append(block)
                    for c in nested:
                        walk([c])
            elif tag == "quote":
                if any(c.tag in ("p", "list", "head") for c in el):
                    walk(el, "blockquote")
                else:
                    _add(blocks, _block(el, "blockquote", True, None))
            elif tag == "table":
                rows = [[c for c in row if c.tag == "cell"] for row in el.iter("row")]
                _add(blocks, _table_block(rows, True))
            elif tag == "head":
                _add(blocks, _block(el, kind or _head_kind(el.get("rend")), True, None))
            elif tag == "code":
                _add(blocks, _block(el, "preformatted", True, None))
            elif tag in ("p", "div"):
                _add(blocks, _block(el, kind or "paragraph", True, None))
            elif tag in ("graphic", "lb"):
                continue
            else:
                _add(blocks, _block(el, kind or "paragraph", True, None))

    walk(body)
    return blocks


def _head_kind(rend: str | None) -> str:
    return "heading-1" if rend == "h1" else "subheadline"


def _add(blocks: list[Block], block: Block | None) -> None:
    if block is not None:
        blocks.append(block)


_HTML_BLOCKS = {
    "p": "paragraph",
    "h1": "heading-1",
    "h2": "subheadline",
    "h3": "subheadline",
    "h4": "subheadline",
    "h5": "subheadline",
    "h6": "subheadline",
    "li": "list-item",
    "dt": "list-item",
    "dd": "list-item",
    "pre": "preformatted",
    "figcaption": "caption",
    "caption": "caption",
}
_HTML_CONTAINERS = frozenset(
    {"div", "section", "article", "main", "ul", "ol", "dl", "header", "footer", "figure",
     "blockquote", "aside", "span", "body", "center", "font"}
)  # fmt: skip


def blocks_from_html(elements: Iterable[Any], base: str | None) -> list[Block]:
    """Blocks from HTML elements a site selector chose, walked as a browser would lay them out."""
    blocks: list[Block] = []

    def walk(el: Any, kind: str | None) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in _SKIP_TAGS or tag in ("nav", "img", "picture", "video", "audio"):
            return
        if tag == "table":
            rows = [[c for c in row if c.tag in ("td", "th")] for row in el.iter("tr")]
            _add(blocks, _table_block(rows, False))
            return
        if tag in _HTML_BLOCKS and not any(
            isinstance(c.tag, str) and c.tag in _HTML_BLOCKS for c in el
        ):
            _add(blocks, _block(el, kind or _HTML_BLOCKS[tag], False, base))
            return
        if tag in _HTML_CONTAINERS or tag in _HTML_BLOCKS:
            inner = "blockquote" if tag == "blockquote" else kind
            loose = _Text()
            loose.add(el.text)
            for child in el:
                ctag = child.tag if isinstance(child.tag, str) else ""
                if ctag in _HTML_BLOCKS or ctag in _HTML_CONTAINERS or ctag == "table":
                    _flush(loose, inner)
                    loose = _Text()
                    walk(child, inner)
                    loose.add(child.tail)
                else:
                    _inline(child, loose, trafilatura_xml=False, base=base)
            _flush(loose, inner)
            return
        _add(blocks, _block(el, kind or "paragraph", False, base))

    def _flush(loose: _Text, kind: str | None) -> None:
        text, spans = loose.finish()
        if text:
            blocks.append(Block(text=text, kind=kind or "paragraph", spans=spans))

    for element in elements:
        walk(element, None)
    return blocks


# -- metadata --------------------------------------------------------------------------------


def _day(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _moment(value: str | None) -> dt.datetime | None:
    """A date-time with a time of day (``2024-05-03T10:00:00Z``), or None."""
    if not value or len(value) < 16 or value[10] not in "T ":
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def _canonical(root: Any, meta: dict[str, str], base: str | None) -> str | None:
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        if "canonical" in rel and link.get("href"):
            url = urljoin(base or "", link.get("href").strip())
            if is_web_url(url):
                return url
    url = meta.get("og:url")
    if url:
        url = urljoin(base or "", url)
        if is_web_url(url):
            return url
    return None


def _language(root: Any, meta: dict[str, str]) -> str | None:
    lang = root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang")
    lang = lang or meta.get("content-language") or meta.get("og:locale")
    if not lang:
        return None
    lang = lang.strip().replace("_", "-").split(",")[0].strip()
    return lang or None


def _first_ld(objects: list[dict[str, Any]], field: str) -> str | None:
    for obj in objects:
        value = obj.get(field)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


# -- reading ---------------------------------------------------------------------------------


def read_html(
    data: bytes,
    *,
    path: str,
    key: str,
    settings: HTMLSettings | None = None,
    page: PageInfo | None = None,
    reader: str = FORMAT,
) -> ReadResult:
    """One web page's bytes -> document and findings; raises InputRejected when it has none."""
    settings = settings or HTMLSettings()
    page = page or PageInfo()
    if not data.strip():
        raise InputRejected(
            "the page is empty; remove it or fetch it again", code="HTML_EMPTY", path=path
        )
    text, encoding, findings = decode_html(data, path, page.charset)
    if not text.strip():
        raise InputRejected(
            "the page is empty; remove it or fetch it again", code="HTML_EMPTY", path=path
        )
    if len(text) > settings.max_html_bytes:
        text = _cap(text, settings.max_html_bytes, path, findings)
    text, removed = _CONTROL.subn(" ", text)
    if removed:
        text = _SURROGATE.sub("\ufffd", text)
        findings.append(
            Finding(
                "CONTROL_CHARACTER",
                Severity.WARNING,
                f"{removed} control characters (U+0000-U+001F, U+007F-U+009F, noncharacters) "
                "in the page were replaced by spaces: they are not text",
                path=path,
            )
        )
    if _CLOSING_HTML.search(data[-4096:]) is None:
        findings.append(
            Finding(
                "HTML_TRUNCATED",
                Severity.WARNING,
                "the page has no closing </body> or </html>: it may be cut short (an "
                "interrupted download); check the main text is whole",
                path=path,
            )
        )
    root = _parse(text, path)
    if root is None:
        raise InputRejected(
            "no HTML could be parsed from this page", code="HTML_NO_MAIN_TEXT", path=path
        )
    meta = _meta(root)
    ld = _json_ld(root)
    canonical = _canonical(root, meta, page.url)
    language = _language(root, meta)
    page_chars, linked_chars = _visible_text_length(root)
    ld_types = _ld_types(ld)
    head_title = (root.findtext(".//title") or "").strip()
    site_url = canonical or page.url
    selector = settings.selector_for(site_url)
    extraction = "trafilatura"
    blocks: list[Block] = []
    if selector is not None:
        chosen = _compile_selector(selector)(root)
        if chosen:
            blocks = blocks_from_html(chosen, site_url)
            extraction = "selector"
        else:
            findings.append(
                Finding(
                    "HTML_SELECTOR_NO_MATCH",
                    Severity.WARNING,
                    f"the site's main-content selector {selector!r} matches nothing on this "
                    "page; the main text was found by extraction instead: check the selector",
                    path=path,
                )
            )
    only_scripts = page_chars == 0 and root.find(".//script") is not None
    found = _declared_metadata(meta, ld)
    if not found.get("title") or not found.get("date"):
        # What the page does not declare, trafilatura finds (``<title>`` without the site's
        # name, htmldate's search of the markup and address): slower, so only when needed.
        for name, value in _trafilatura_metadata(root, page.url or canonical).items():
            found[name] = found.get(name) or value
    if extraction == "trafilatura":
        blocks = _extract(root, page.url or canonical, fast=True)
        if settings.too_short(_chars(blocks), page_chars):
            # The fast pass missed: the full one also tries trafilatura's other algorithms.
            fuller = _extract(root, page.url or canonical, fast=False)
            if _chars(fuller) > _chars(blocks):
                blocks = fuller
    title = (found.get("title") or head_title or "").strip()
    title = _WS.sub(" ", _clean(title)).strip()
    if (
        blocks
        and blocks[0].kind in ("heading-1", "subheadline")
        and (not title or blocks[0].text == title)
    ):
        title = title or blocks[0].text
        blocks = blocks[1:]
    blocks = [attrs.evolve(b, kind="subheadline") if b.kind == "heading-1" else b for b in blocks]
    main_chars = _chars(blocks)
    if main_chars < settings.min_main_chars:
        raise InputRejected(
            _no_text_message(root, only_scripts, main_chars), code="HTML_NO_MAIN_TEXT", path=path
        )
    if settings.too_short(main_chars, page_chars):
        findings.append(
            Finding(
                "HTML_MAIN_TEXT_SHORT",
                Severity.WARNING,
                f"the main text found is {main_chars} characters, {main_chars * 100 // page_chars}"
                f"% of the page's {page_chars}: extraction may have missed the article (a diff "
                "against another capture would show changes that are not there); set a CSS "
                "selector for this site",
                path=path,
            )
        )
    og_type = (meta.get("og:type") or "").lower()
    listing = _listing(og_type, ld_types, page_chars, linked_chars, path)
    if listing is not None:
        findings.append(listing)
    date = _day(found.get("date"))
    issued = _moment(found.get("published"))
    if date is None and issued is not None:
        date = issued.date()
    if issued is not None and date is not None and issued.date() != date:
        issued = None
    if not title:
        findings.append(
            Finding(
                "HTML_NO_TITLE",
                Severity.WARNING,
                "no title found (no <title>, og:title, JSON-LD headline or leading heading)",
                path=path,
            )
        )
    if date is None:
        findings.append(
            Finding(
                "HTML_NO_DATE",
                Severity.WARNING,
                "no publication date found in the page's metadata, markup or address",
                path=path,
            )
        )
    byline = found.get("author")
    notes: dict[str, Any] = {"extraction": extraction}
    if selector is not None and extraction == "selector":
        notes["selector"] = selector
    for name, value in (
        ("url", canonical),
        ("page_url", page.url),
        ("site_name", found.get("sitename")),
        ("description", found.get("description")),
        ("page_type", og_type or None),
        ("head_title", head_title if head_title != title else None),
        ("captured", page.captured),
    ):
        if value:
            notes[name] = value
    notes.update(page.extra)
    document_key = key
    key_url = page.url if page.key_from_url else canonical
    if key_url:
        document_key = url_key(key_url) or key
    source = Source(
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        encoding=encoding,
        size=len(data),
        format=reader,
    )
    document = Document(
        key=document_key,
        title=title,
        date=date,
        issued=issued,
        byline=_WS.sub(" ", _clean(byline)).strip() or None if byline else None,
        blocks=tuple(blocks),
        source=source,
        language=language,
        annotations={PLUGIN: notes},
    )
    return ReadResult(document, findings)


def _chars(blocks: list[Block]) -> int:
    return sum(len(b.text) for b in blocks)


def _listing(
    og_type: str, ld_types: set[str], page_chars: int, linked_chars: int, path: str
) -> Finding | None:
    """HTML_NOT_ARTICLE when the page's types or its links say it lists other pages."""
    if og_type == "article" or ld_types & _ARTICLE_TYPES:
        return None
    types = ld_types | {og_type}
    link_share = linked_chars / page_chars if page_chars else 0.0
    if not (
        types & _LISTING_TYPES
        or link_share > LISTING_LINK_SHARE
        or (types & _GENERIC_TYPES and link_share > GENERIC_LINK_SHARE)
    ):
        return None
    return Finding(
        "HTML_NOT_ARTICLE",
        Severity.WARNING,
        f"this page looks like a listing or index, not an article (type "
        f"{og_type or ', '.join(sorted(ld_types)) or 'not given'}, {int(link_share * 100)}% of "
        "its text in links); leave it out of the corpus if it is not an article",
        path=path,
    )


def _ld_author(ld: list[dict[str, Any]]) -> str | None:
    for obj in ld:
        author = obj.get("author")
        names = []
        for a in author if isinstance(author, list) else [author]:
            if isinstance(a, dict) and isinstance(a.get("name"), str):
                names.append(a["name"].strip())
            elif isinstance(a, str):
                names.append(a.strip())
        if any(names):
            return "; ".join(n for n in names if n)
    return None


def _cap(text: str, limit: int, path: str, findings: list[Finding]) -> str:
    size = len(text)
    stripped = _STRIP.sub("", text)
    if len(stripped) <= limit:
        return stripped
    findings.append(
        Finding(
            "HTML_CAPPED",
            Severity.WARNING,
            f"the page is {size} characters ({len(stripped)} without scripts and styles), over "
            f"the limit of {limit}: only the first {limit} were read, so the end of the article "
            "may be missing; raise max_html_bytes in [plugins.html-reader] if this is right",
            path=path,
        )
    )
    return stripped[:limit]


def _no_text_message(root: Any, only_scripts: bool, found: int) -> str:
    if only_scripts:
        return (
            "the page holds only scripts, no text: it is built by JavaScript in the browser; "
            "save the rendered page instead"
        )
    depth = _max_depth(root)
    if depth > 200:
        return (
            f"no main text found; the markup is nested {depth} levels deep, which parsers "
            "do not follow: the page is broken or hostile"
        )
    return (
        f"no main text found on this page ({found} characters: navigation, forms or "
        "boilerplate only); if it is an article, set a CSS selector for its site in "
        "[plugins.html-reader]"
    )


_TF_FIELDS = ("title", "author", "date", "sitename", "description")
#: ``<meta>`` names that carry a publication date, most specific first.
_DATE_METAS = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "dc.date.issued",
    "dcterms.created",
    "dc.date",
    "date",
    "pubdate",
    "publishdate",
    "publish-date",
    "sailthru.date",
    "parsely-pub-date",
)


def _declared_metadata(meta: dict[str, str], ld: list[dict[str, Any]]) -> dict[str, Any]:
    """Title, date, author, site name and description as the page declares them.

    Open Graph, JSON-LD and the usual ``<meta>`` names: cheap, and what news sites publish for
    search engines and social networks.
    """
    published = next((meta[n] for n in _DATE_METAS if meta.get(n)), None)
    published = published or _first_ld(ld, "datePublished") or _first_ld(ld, "dateCreated")
    author = _ld_author(ld) or meta.get("author")
    if (
        not author
        and meta.get("article:author", "").strip()
        and not is_web_url(meta["article:author"])
    ):
        author = meta["article:author"]
    site = meta.get("og:site_name") or _ld_publisher(ld)
    return {
        "title": meta.get("og:title") or meta.get("twitter:title") or _first_ld(ld, "headline"),
        "date": published[:10] if published and _day(published) else None,
        "published": published,
        "author": author,
        "sitename": site,
        "description": meta.get("og:description") or meta.get("description"),
    }


def _ld_publisher(ld: list[dict[str, Any]]) -> str | None:
    for obj in ld:
        publisher = obj.get("publisher")
        if isinstance(publisher, dict) and isinstance(publisher.get("name"), str):
            return publisher["name"].strip() or None
    return None


def _trafilatura_metadata(root: Any, url: str | None) -> dict[str, Any]:
    """trafilatura's metadata of the page (it does not change the tree)."""
    from trafilatura.metadata import extract_metadata

    try:
        result = extract_metadata(root, default_url=url)
    except (RecursionError, ValueError):
        return {}
    return {name: getattr(result, name, None) for name in _TF_FIELDS}


#: trafilatura's settings for the fast and the full pass, built once (reading its config file
#: each time is a measurable share of a small page); each read takes a copy with its URL.
_EXTRACTORS: dict[bool, Any] = {}


def _extractor(url: str | None, *, fast: bool) -> Any:
    template = _EXTRACTORS.get(fast)
    if template is None:
        from trafilatura.settings import Extractor

        # "xml": trafilatura leaves its body as a tree. With "python" it also renders the body
        # as plain text, which the reader does not use: about a fifth of the reader's time.
        template = _EXTRACTORS[fast] = Extractor(
            output_format="xml",
            fast=fast,
            comments=False,
            tables=True,
            formatting=True,
            links=True,
            with_metadata=False,
            dedup=False,
        )
    options = copy.copy(template)
    options.url = url
    options.source = url and url.encode("utf-8", "replace").decode("utf-8")
    return options


def _extract(root: Any, url: str | None, *, fast: bool) -> list[Block]:
    """trafilatura's main text as blocks (empty when it finds none). ``root`` is not changed.

    ``fast`` runs trafilatura's own algorithm only; without it, trafilatura also runs its
    fallbacks (readability, jusText) and keeps the best: about 1.3x the time.
    """
    from trafilatura import bare_extraction

    try:
        result = bare_extraction(root, options=_extractor(url, fast=fast))
    except (RecursionError, ValueError):
        return []
    if result is None or result.body is None:
        return []
    return blocks_from_trafilatura(result.body)

"""Writing NITF 3.6: documents become XML that validates against the official XSD.

The exporter plugin (:mod:`corpus.exporters.nitf`) imports this module on the first export.
There are two writers of one mapping: :func:`build_nitf_tree` builds an lxml tree (for formats
that embed NITF), and :func:`nitf_bytes`, which exports use, writes the same bytes as text,
several times faster; the tests hold them equal on generated documents.

The mapping (model field -> element) is documented in ``docs/nitf.md``; the NITF reader and
the NewsML-G2 exporter rely on it. Three things the schema makes us decide:

* Order is strict, so the tree is built in schema order, never patched afterwards.
* Inline markup must nest, and ``person``/``org``/``location`` may not contain other inline
  elements. Stand-off spans that cross are split at the boundary they cross; markup that would
  land inside an entity element (or deeper than :data:`MAX_INLINE_DEPTH`) is dropped, its text
  kept. See :func:`nest_spans`.
* XML 1.0 forbids most control characters: every string passes :func:`corpus.xmlsafe.xml_safe`
  first (one regex search for clean text), so no document can make the export fail.
"""

from __future__ import annotations

import datetime as dt
import heapq
import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
from lxml import etree

from corpus.errors import ExportError
from corpus.model import Block, Document, Span, canonical_json
from corpus.xmlsafe import xml_safe

#: The NITF 3.6 namespace (the XSD's target namespace).
NITF_NS = "http://iptc.org/std/NITF/2006-10-18/"
#: The value the XSD fixes for ``nitf/@version``.
NITF_VERSION = "-//IPTC//DTD NITF 3.6//EN"
XML_NS = "http://www.w3.org/XML/1998/namespace"

#: Span kind -> NITF inline element (local name). Other kinds keep their text, lose markup.
INLINE_ELEMENTS: dict[str, str] = {
    "emphasis": "em",
    "quote": "q",
    "person": "person",
    "org": "org",
    "location": "location",
    "link": "a",
}
#: Span attributes copied to the element, per kind (all are plain strings in the XSD).
INLINE_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "link": ("href", "title", "name"),
    "quote": ("quote-source",),
    "person": ("idsrc", "value"),
    "org": ("idsrc", "value"),
    "location": ("location-code", "code-source"),
}
#: Kinds whose NITF element may not contain other inline elements.
ENTITY_KINDS = frozenset({"person", "org", "location"})
#: Deepest inline nesting written; deeper markup is dropped (libxml2 refuses very deep trees).
MAX_INLINE_DEPTH = 32

#: ``head/meta/@name`` values this exporter writes.
META_SOURCE_PREFIX = "corpus-source-"
META_ANNOTATIONS = "corpus-annotations"
#: Source fields written as ``corpus-source-<field>`` metas, in this order (None: not written).
SOURCE_FIELDS = ("path", "sha256", "encoding", "size", "format", "captured")
_SOURCE_META_NAMES = tuple((field, META_SOURCE_PREFIX + field) for field in SOURCE_FIELDS)

_LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*\Z")


def _q(local: str) -> str:
    return f"{{{NITF_NS}}}{local}"


_T = {
    name: _q(name)
    for name in [
        "nitf",
        "head",
        "title",
        "meta",
        "docdata",
        "doc-id",
        "urgency",
        "date.issue",
        "key-list",
        "keyword",
        "body",
        "body.head",
        "hedline",
        "hl1",
        "byline",
        "dateline",
        "abstract",
        "body.content",
        "p",
        "em",
        "q",
        "person",
        "org",
        "location",
        "a",
    ]
}
_INLINE_TAGS = {kind: _T[local] for kind, local in INLINE_ELEMENTS.items()}
_P = _T["p"]
_META = _T["meta"]
_SubElement = etree.SubElement
#: Any character that is not plain XML text: a break, a tab, or one XML forbids.
_PLAIN = re.compile("[^\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_XML_LANG = f"{{{XML_NS}}}lang"
_XML_SPACE = f"{{{XML_NS}}}space"


def nitf_norm_date(value: dt.date | dt.datetime) -> str:
    """A date or date-time as NITF's ``norm`` form ``YYYYMMDDTHHMMSS±HHMM``.

    A plain date (no time known) becomes midnight ``T000000+0000``; a naive date-time is taken
    as UTC (``+0000``). Fractions of a second and of a zone minute are truncated.
    """
    if isinstance(value, dt.datetime):
        offset = value.utcoffset()
        minutes = int(offset.total_seconds() / 60) if offset is not None else 0
        sign = "-" if minutes < 0 else "+"
        hours, mins = divmod(abs(minutes), 60)
        return (
            f"{value.year:04d}{value.month:02d}{value.day:02d}T"
            f"{value.hour:02d}{value.minute:02d}{value.second:02d}{sign}{hours:02d}{mins:02d}"
        )
    return f"{value.year:04d}{value.month:02d}{value.day:02d}T000000+0000"


@attrs.define
class InlineNode:
    """One inline element to write: ``text[start:end]`` of a block, inside its parent node."""

    start: int
    end: int
    kind: str
    attributes: Mapping[str, str]
    children: list[InlineNode] = attrs.field(factory=list)


def nest_spans(spans: Iterable[Span], length: int) -> list[InlineNode]:
    """Turn stand-off spans into properly nested nodes NITF accepts.

    Rules, in order: spans of kinds without a NITF element are skipped; spans are opened by
    start, longer first, and for equal ranges em/q/a before entities (so ``em`` wraps
    ``person``, not the reverse); a span that crosses the end of an open one is split there
    and its rest is placed after it; a span (or piece) that would sit inside ``person``,
    ``org`` or ``location``, or deeper than :data:`MAX_INLINE_DEPTH`, is dropped.
    """
    heap: list[tuple[int, int, int, str, int, Span]] = []
    for seq, span in enumerate(spans):
        if span.kind in INLINE_ELEMENTS and span.end <= length:
            heap.append((span.start, -span.end, span.kind in ENTITY_KINDS, span.kind, seq, span))
    if not heap:
        return []
    heapq.heapify(heap)
    root = InlineNode(0, length, "", {})
    stack = [root]
    while heap:
        start, neg_end, rank, kind, seq, span = heapq.heappop(heap)
        end = -neg_end
        while len(stack) > 1 and stack[-1].end <= start:
            stack.pop()
        top = stack[-1]
        if end > top.end:  # crosses the end of the open span: split, queue the rest
            heapq.heappush(heap, (top.end, neg_end, rank, kind, seq, span))
            end = top.end
        if top.kind in ENTITY_KINDS or len(stack) > MAX_INLINE_DEPTH:
            continue
        node = InlineNode(start, end, kind, span.attributes)
        top.children.append(node)
        stack.append(node)
    return root.children


def _inline_attributes(kind: str, attributes: Mapping[str, Any]) -> dict[str, str]:
    names = INLINE_ATTRIBUTES.get(kind, ())
    return {n: xml_safe(str(attributes[n])) for n in names if n in attributes}


def _fill(element: etree._Element, text: str, start: int, end: int, nodes: list[InlineNode]):
    """Write ``text[start:end]`` into ``element`` with ``nodes`` as child elements."""
    pos = start
    last: etree._Element | None = None
    for node in nodes:
        if node.start > pos:
            if last is None:
                element.text = text[pos : node.start]
            else:
                last.tail = text[pos : node.start]
        child = etree.SubElement(
            element, _INLINE_TAGS[node.kind], _inline_attributes(node.kind, node.attributes)
        )
        _fill(child, text, node.start, node.end, node.children)
        last = child
        pos = node.end
    if end > pos:
        if last is None:
            element.text = text[pos:end]
        else:
            last.tail = text[pos:end]


_Pending = list[tuple[etree._Element, str, Block]]


def _paragraph(parent: etree._Element, block: Block, pending: _Pending) -> None:
    """A ``p`` for a block; text-only now, inline markup later (after indenting, see below)."""
    p = _SubElement(parent, _P)
    kind = block.kind
    if kind != "paragraph":
        p.set("class", xml_safe(kind))
    text = block.text
    if _PLAIN.search(text) is not None:  # one search: clean, break- and tab-free text
        text = xml_safe(text)
        if "\n" in text or "\t" in text or "\r" in text:
            # A reader collapses white-space runs with breaks or tabs unless told to keep them.
            p.set(_XML_SPACE, "preserve")
    if block.spans:
        pending.append((p, text, block))
    elif text:
        p.text = text


def _text_element(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, tag)
    if text:
        element.text = xml_safe(text)
    return element


def _annotations_error(doc: Document, exc: Exception) -> ExportError:
    return ExportError(
        f"document {doc.key!r}: annotations are not JSON ({exc}); fix the plugin that added them",
        code="JSON_NOT_SERIALIZABLE",
        path=doc.source.path if doc.source else None,
    )


def _head(root: etree._Element, doc: Document) -> None:
    head = etree.SubElement(root, _T["head"])
    if doc.title:
        _text_element(head, _T["title"], doc.title)
    if doc.source is not None:
        source = doc.source
        for field, name in _SOURCE_META_NAMES:
            value = getattr(source, field)
            if value is None:
                continue
            # Two set() calls cost less than lxml's keyword-argument attribute handling.
            meta = _SubElement(head, _META)
            meta.set("name", name)
            meta.set("content", xml_safe(str(value)))
    if doc.annotations:
        try:
            content = xml_safe(canonical_json(doc.annotations))
        except (TypeError, ValueError) as exc:
            raise _annotations_error(doc, exc) from exc
        meta = _SubElement(head, _META)
        meta.set("name", META_ANNOTATIONS)
        meta.set("content", content)
    docdata = etree.SubElement(head, _T["docdata"])
    _SubElement(docdata, _T["doc-id"]).set("id-string", xml_safe(doc.key))
    if doc.urgency is not None:
        etree.SubElement(docdata, _T["urgency"], {"ed-urg": str(int(doc.urgency))})
    when = doc.issued or doc.date
    if when is not None:
        _SubElement(docdata, _T["date.issue"]).set("norm", nitf_norm_date(when))
    if doc.keywords:
        key_list = etree.SubElement(docdata, _T["key-list"])
        for keyword in doc.keywords:
            etree.SubElement(key_list, _T["keyword"], key=xml_safe(keyword))


def _body(root: etree._Element, doc: Document, pending: _Pending) -> None:
    attrib = {}
    if doc.language and _LANGUAGE_TAG.match(doc.language):
        attrib[_XML_LANG] = doc.language
    body = etree.SubElement(root, _T["body"], attrib)
    if doc.title or doc.byline is not None or doc.dateline is not None or doc.abstract is not None:
        body_head = etree.SubElement(body, _T["body.head"])
        if doc.title:
            _text_element(etree.SubElement(body_head, _T["hedline"]), _T["hl1"], doc.title)
        if doc.byline is not None:
            _text_element(body_head, _T["byline"], doc.byline)
        if doc.dateline is not None:
            _text_element(body_head, _T["dateline"], doc.dateline)
        if doc.abstract is not None:
            _text_element(etree.SubElement(body_head, _T["abstract"]), _T["p"], doc.abstract)
    content = etree.SubElement(body, _T["body.content"])
    for block in doc.blocks:
        _paragraph(content, block, pending)


def _tree(document: Document) -> tuple[etree._Element, _Pending]:
    """The tree without inline markup, and the paragraphs whose markup is still to add."""
    attrib = {"version": NITF_VERSION}
    if document.language:
        attrib["baselang"] = xml_safe(document.language)
    root = etree.Element(_T["nitf"], attrib, nsmap={None: NITF_NS})
    pending: _Pending = []
    _head(root, document)
    _body(root, document, pending)
    return root, pending


def _add_markup(pending: _Pending) -> None:
    for p, text, block in pending:
        _fill(p, text, 0, len(text), nest_spans(block.spans, len(text)))


def build_nitf_tree(document: Document, *, indent: bool = True) -> etree._Element:
    """The ``<nitf>`` element for a document (namespace :data:`NITF_NS`), schema-valid.

    Used by the exporter and by formats that embed NITF (NewsML-G2 ``inlineXML``).
    ``indent`` adds white space inside element-only containers only, never in text.
    """
    root, pending = _tree(document)
    if indent:
        # etree.indent only touches elements that have children. Paragraphs with inline
        # markup get their children after this, so no white space can land in their text.
        etree.indent(root)
    _add_markup(pending)
    return root


def nitf_tree_bytes(document: Document) -> bytes:
    """:func:`nitf_bytes` by way of the lxml tree: the reference the fast writer must equal."""
    root, pending = _tree(document)
    if not pending:
        # No inline markup: every element holds either text or only elements, and libxml2's
        # pretty printer then writes exactly what etree.indent plus a final newline give.
        return etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True)
    etree.indent(root)
    _add_markup(pending)
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"


# -- the fast writer -------------------------------------------------------------------------
#
# Exports write text directly: the same mapping, order and bytes as serializing the tree
# (``nitf_tree_bytes``; the tests compare the two on generated documents), at a fraction of
# the cost of building thousands of lxml elements per document.

_DECLARATION = "<?xml version='1.0' encoding='UTF-8'?>\n"
_OPEN_NITF = f'<nitf xmlns="{NITF_NS}" version="{NITF_VERSION}"'
#: Characters libxml2 escapes in text, and in attribute values.
_TEXT_SPECIAL = re.compile("[&<>\r]")
_ATTR_SPECIAL = re.compile('[&<>"\t\n\r]')
#: Anything but plain text that needs no escaping: one search clears most strings at once.
_NOT_PLAIN_TEXT = re.compile(
    "[^\u0020-\u0025\u0027-\u003b=\u003f-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
_NOT_PLAIN_ATTR = re.compile(
    "[^\u0020\u0021\u0023-\u0025\u0027-\u003b=\u003f-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
_ESCAPES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "\t": "&#9;",
    "\n": "&#10;",
    "\r": "&#13;",
}


def _escape_match(match: re.Match[str]) -> str:
    return _ESCAPES[match.group()]


def _text(value: str) -> str:
    """Element text as libxml2 writes it (already XML-safe)."""
    if _TEXT_SPECIAL.search(value) is None:
        return value
    return _TEXT_SPECIAL.sub(_escape_match, value)


def _attr(value: str) -> str:
    """An attribute value as libxml2 writes it (already XML-safe)."""
    if _ATTR_SPECIAL.search(value) is None:
        return value
    return _ATTR_SPECIAL.sub(_escape_match, value)


def _safe_attr(value: str) -> str:
    """Any string as an attribute value: forbidden characters replaced, then escaped."""
    if _NOT_PLAIN_ATTR.search(value) is None:
        return value
    return _attr(xml_safe(value))


def _leaf(indent: str, local: str, text: str) -> str:
    """A text-only element on its own line; empty text is an empty element, as lxml has it."""
    if not text:
        return f"{indent}<{local}/>\n"
    if _NOT_PLAIN_TEXT.search(text) is not None:
        text = _text(xml_safe(text))
    return f"{indent}<{local}>{text}</{local}>\n"


def _inline(out: list[str], text: str, start: int, end: int, nodes: list[InlineNode]) -> None:
    """``text[start:end]`` with ``nodes`` as inline elements (see :func:`_fill`)."""
    pos = start
    for node in nodes:
        if node.start > pos:
            out.append(_text(text[pos : node.start]))
        local = INLINE_ELEMENTS[node.kind]
        attributes = "".join(
            f' {name}="{_attr(value)}"'
            for name, value in _inline_attributes(node.kind, node.attributes).items()
        )
        if node.end > node.start or node.children:
            out.append(f"<{local}{attributes}>")
            _inline(out, text, node.start, node.end, node.children)
            out.append(f"</{local}>")
        else:
            out.append(f"<{local}{attributes}/>")
        pos = node.end
    if end > pos:
        out.append(_text(text[pos:end]))


def _paragraph_text(out: list[str], block: Block) -> None:
    """One ``p`` of ``body.content`` (see :func:`_paragraph`)."""
    kind = block.kind
    attributes = "" if kind == "paragraph" else f' class="{_attr(xml_safe(kind))}"'
    text = block.text
    plain = _NOT_PLAIN_TEXT.search(text) is None
    if not plain and _PLAIN.search(text) is not None:
        text = xml_safe(text)
        if "\n" in text or "\t" in text or "\r" in text:
            attributes += ' xml:space="preserve"'
    if block.spans:
        nodes = nest_spans(block.spans, len(text))
        if nodes:
            out.append(f"      <p{attributes}>")
            _inline(out, text, 0, len(text), nodes)
            out.append("</p>\n")
            return
    if text:
        out.append(f"      <p{attributes}>{text if plain else _text(text)}</p>\n")
    else:
        out.append(f"      <p{attributes}/>\n")


def _head_text(out: list[str], doc: Document) -> None:
    out.append("  <head>\n")
    if doc.title:
        out.append(_leaf("    ", "title", doc.title))
    if doc.source is not None:
        source = doc.source
        for field, name in _SOURCE_META_NAMES:
            value = getattr(source, field)
            if value is not None:
                out.append(f'    <meta name="{name}" content="{_safe_attr(str(value))}"/>\n')
    if doc.annotations:
        try:
            content = canonical_json(doc.annotations)
        except (TypeError, ValueError) as exc:
            raise _annotations_error(doc, exc) from exc
        out.append(f'    <meta name="{META_ANNOTATIONS}" content="{_safe_attr(content)}"/>\n')
    out.append("    <docdata>\n")
    out.append(f'      <doc-id id-string="{_safe_attr(doc.key)}"/>\n')
    if doc.urgency is not None:
        out.append(f'      <urgency ed-urg="{int(doc.urgency)}"/>\n')
    when = doc.issued or doc.date
    if when is not None:
        out.append(f'      <date.issue norm="{nitf_norm_date(when)}"/>\n')
    if doc.keywords:
        out.append("      <key-list>\n")
        for keyword in doc.keywords:
            out.append(f'        <keyword key="{_safe_attr(keyword)}"/>\n')
        out.append("      </key-list>\n")
    out.append("    </docdata>\n  </head>\n")


def _body_text(out: list[str], doc: Document) -> None:
    if doc.language and _LANGUAGE_TAG.match(doc.language):
        out.append(f'  <body xml:lang="{_attr(doc.language)}">\n')
    else:
        out.append("  <body>\n")
    if doc.title or doc.byline is not None or doc.dateline is not None or doc.abstract is not None:
        out.append("    <body.head>\n")
        if doc.title:
            out.append("      <hedline>\n")
            out.append(_leaf("        ", "hl1", doc.title))
            out.append("      </hedline>\n")
        if doc.byline is not None:
            out.append(_leaf("      ", "byline", doc.byline))
        if doc.dateline is not None:
            out.append(_leaf("      ", "dateline", doc.dateline))
        if doc.abstract is not None:
            out.append("      <abstract>\n")
            out.append(_leaf("        ", "p", doc.abstract))
            out.append("      </abstract>\n")
        out.append("    </body.head>\n")
    if doc.blocks:
        out.append("    <body.content>\n")
        for block in doc.blocks:
            _paragraph_text(out, block)
        out.append("    </body.content>\n")
    else:
        out.append("    <body.content/>\n")
    out.append("  </body>\n")


def nitf_bytes(document: Document) -> bytes:
    """Complete NITF file bytes: XML declaration, UTF-8, two-space indents, final newline."""
    out = [_DECLARATION, _OPEN_NITF]
    if document.language:
        out.append(f' baselang="{_attr(xml_safe(document.language))}"')
    out.append(">\n")
    _head_text(out, document)
    _body_text(out, document)
    out.append("</nitf>\n")
    return "".join(out).encode("utf-8")

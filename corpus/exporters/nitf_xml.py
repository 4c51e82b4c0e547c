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
import functools
import heapq
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from copy import deepcopy
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

_NMTOKEN = re.compile(r"[\w.:-]+\Z")
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*\Z")


def _any(value: str) -> bool:
    return True


def _nmtoken(value: str) -> bool:
    return _NMTOKEN.match(value) is not None


def _language(value: str) -> bool:
    return _LANGUAGE_TAG.match(value) is not None


def _one_of(*values: str):
    allowed = frozenset(values)
    return allowed.__contains__


#: Attributes every ``commonNITFAttributes`` element takes (``id`` is left out: an ID must be
#: unique in the file, which copied values cannot promise).
_COMMON = {"class": _any, "style": _any, "xml:lang": _language}
_IDS = {"idsrc": _any, "value": _any}
#: Inline kinds ``enrichedText`` allows anywhere (in ``p``, ``em``, ``q``, ``a``...).
TOP_INLINE = frozenset(
    {
        "emphasis", "quote", "link", "lang", "pronounce", "person", "org", "location", "chron",
        "money", "num", "event", "function", "object.title", "virtloc", "classifier", "copyrite",
    }
)  # fmt: skip


@attrs.frozen
class InlineSpec:
    """How one span kind is written: element, attributes it may carry, what it may contain.

    ``children`` None means any of :data:`TOP_INLINE` (``enrichedText`` in the XSD);
    otherwise only the kinds named. ``required`` attributes must be present, or the markup
    is not written (its text is).
    """

    element: str
    attributes: Mapping[str, Callable[[str], bool]]
    children: frozenset[str] | None = frozenset()
    required: tuple[str, ...] = ()
    empty: bool = False


_ALT = frozenset({"alt-code"})
#: Span kind -> how it is written in NITF (every element of the XSD's ``enrichedText`` except
#: ``br``, which readers turn into a line break, and ``postaddr``, and the children some of
#: them allow). Other kinds keep their text and lose their markup (``CONTENT_DROPPED``).
INLINE: dict[str, InlineSpec] = {
    "emphasis": InlineSpec("em", _COMMON, None),
    "quote": InlineSpec("q", {**_COMMON, "quote-source": _any}, None),
    "link": InlineSpec(
        "a",
        {**_COMMON, "href": _any, "name": _any, "title": _any, "rel": _nmtoken, "rev": _nmtoken},
        None,
    ),
    "lang": InlineSpec("lang", {**_COMMON, **_IDS}, None),
    "pronounce": InlineSpec("pronounce", {**_COMMON, "guide": _any, "phonetic": _any}, None),
    "person": InlineSpec(
        "person",
        {**_COMMON, **_IDS, "gender": _one_of("male", "female")},
        frozenset({"name.given", "name.family", "function", "alt-code"}),
    ),
    "org": InlineSpec("org", {**_COMMON, **_IDS}, _ALT),
    "location": InlineSpec(
        "location",
        {**_COMMON, "location-code": _any, "code-source": _any},
        frozenset({"sublocation", "city", "state", "region", "country", "alt-code"}),
    ),
    "chron": InlineSpec("chron", {**_COMMON, "norm": _any}),
    "money": InlineSpec("money", {**_COMMON, "unit": _any, "date": _any}),
    "num": InlineSpec(
        "num",
        {**_COMMON, "units": _any, "decimal-ch": _any, "thousands-ch": _any},
        frozenset({"sub", "sup"}),
    ),
    "event": InlineSpec("event", {**_COMMON, **_IDS, "start-date": _any, "end-date": _any}, _ALT),
    "function": InlineSpec("function", _IDS, _ALT),
    "object.title": InlineSpec("object.title", {**_COMMON, **_IDS}, _ALT),
    "virtloc": InlineSpec("virtloc", {**_COMMON, **_IDS}, _ALT),
    "classifier": InlineSpec("classifier", {**_COMMON, **_IDS, "type": _any}, _ALT),
    "copyrite": InlineSpec("copyrite", {}, frozenset({"copyrite.year", "copyrite.holder"})),
    # Allowed only inside the kinds above:
    "name.given": InlineSpec("name.given", _COMMON),
    "name.family": InlineSpec("name.family", _COMMON),
    "sublocation": InlineSpec(
        "sublocation", {**_COMMON, "location-code": _any, "code-source": _any}, _ALT
    ),
    "city": InlineSpec("city", {**_COMMON, "city-code": _any, "code-source": _any}, _ALT),
    "state": InlineSpec("state", {**_COMMON, "state-code": _any, "code-source": _any}, _ALT),
    "region": InlineSpec("region", {**_COMMON, "region-code": _any, "code-source": _any}, _ALT),
    "country": InlineSpec("country", {**_COMMON, "iso-cc": _any}, _ALT),
    "copyrite.year": InlineSpec("copyrite.year", {}),
    "copyrite.holder": InlineSpec("copyrite.holder", {}),
    "sub": InlineSpec("sub", _COMMON),
    "sup": InlineSpec("sup", _COMMON),
    "alt-code": InlineSpec("alt-code", _IDS, required=("idsrc", "value"), empty=True),
}
#: Span kind -> NITF inline element (local name), for every kind in :data:`INLINE`.
INLINE_ELEMENTS: dict[str, str] = {kind: spec.element for kind, spec in INLINE.items()}
#: Kinds whose NITF element may not contain the general inline elements.
ENTITY_KINDS = frozenset(kind for kind, spec in INLINE.items() if spec.children is not None)
#: Deepest inline nesting written; deeper markup is dropped (libxml2 refuses very deep trees).
MAX_INLINE_DEPTH = 32

#: ``head/meta/@name`` values this exporter writes.
META_SOURCE_PREFIX = "corpus-source-"
META_ANNOTATIONS = "corpus-annotations"
#: Source fields written as ``corpus-source-<field>`` metas, in this order (None: not written).
SOURCE_FIELDS = ("path", "sha256", "encoding", "size", "format", "captured")
_SOURCE_META_NAMES = tuple((field, META_SOURCE_PREFIX + field) for field in SOURCE_FIELDS)


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
        "hl2",
        "table",
        "caption",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "th",
        "td",
        "block",
        "bq",
        "ul",
        "ol",
        "li",
        "media",
        "media-reference",
        "media-caption",
        "media-producer",
        "body.end",
        "tagline",
        "bibliography",
    ]
}
_INLINE_TAGS = {kind: _q(local) for kind, local in INLINE_ELEMENTS.items()}
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


def _may_contain(parent: str, kind: str) -> bool:
    children = INLINE[parent].children if parent else None
    return kind in TOP_INLINE if children is None else kind in children


def _writable(span: Span, length: int) -> bool:
    spec = INLINE.get(span.kind)
    if spec is None or span.end > length:
        return False
    if spec.empty and span.end > span.start:
        return False
    return all(span.attributes.get(name) for name in spec.required)


def nest_spans(
    spans: Iterable[Span], length: int, dropped: list[Span] | None = None
) -> list[InlineNode]:
    """Turn stand-off spans into properly nested nodes NITF accepts.

    Rules, in order: spans of kinds without a NITF element are skipped; spans are opened by
    start, longer first, and for equal ranges the general elements (em, q, a...) before
    entities (person, org, chron...) before their parts (``name.given``, ``city``...); a span
    that crosses the end of an open one is split there and its rest is placed after it; a
    span (or piece) the XSD does not allow where it would sit (general markup inside an
    entity, a part outside its entity), or deeper than :data:`MAX_INLINE_DEPTH`, is dropped.
    Dropped spans are appended to ``dropped`` when it is given (once each).
    """
    heap: list[tuple[int, int, int, str, int, Span]] = []
    for seq, span in enumerate(spans):
        if _writable(span, length):
            rank = 0 if span.kind not in ENTITY_KINDS else 1 if span.kind in TOP_INLINE else 2
            heap.append((span.start, -span.end, rank, span.kind, seq, span))
        elif dropped is not None:
            dropped.append(span)
    if not heap:
        return []
    heapq.heapify(heap)
    root = InlineNode(0, length, "", {})
    stack = [root]
    lost: set[int] = set()
    while heap:
        start, neg_end, rank, kind, seq, span = heapq.heappop(heap)
        end = -neg_end
        while len(stack) > 1 and stack[-1].end <= start:
            stack.pop()
        top = stack[-1]
        if end > top.end:  # crosses the end of the open span: split, queue the rest
            heapq.heappush(heap, (top.end, neg_end, rank, kind, seq, span))
            end = top.end
        if not _may_contain(top.kind, kind) or len(stack) > MAX_INLINE_DEPTH:
            if dropped is not None and seq not in lost:
                lost.add(seq)
                dropped.append(span)
            continue
        node = InlineNode(start, end, kind, span.attributes)
        top.children.append(node)
        stack.append(node)
    return root.children


#: Span attributes NITF has no attribute of their own for, written as another one: how an
#: emphasis is rendered (``rend``: b, i, u... from HTML) goes into ``em``'s ``class``.
ATTRIBUTE_ALIASES: dict[tuple[str, str], str] = {("emphasis", "rend"): "class"}


def _nitf_name(kind: str, name: str, attributes: Mapping[str, Any]) -> str:
    alias = ATTRIBUTE_ALIASES.get((kind, name))
    return alias if alias is not None and alias not in attributes else name


def _inline_attributes(kind: str, attributes: Mapping[str, Any]) -> dict[str, str]:
    """The attributes of a span the XSD allows on its element, with values it accepts."""
    allowed = INLINE[kind].attributes
    out = {}
    for key, value in attributes.items():
        name = _nitf_name(kind, key, attributes)
        check = allowed.get(name)
        if check is not None:
            text = xml_safe(str(value))
            if check(text):
                out[name] = text
    return out


def _tree_attributes(attributes: dict[str, str]) -> dict[str, str]:
    if "xml:lang" in attributes:
        attributes[_XML_LANG] = attributes.pop("xml:lang")
    return attributes


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
            element,
            _INLINE_TAGS[node.kind],
            _tree_attributes(_inline_attributes(node.kind, node.attributes)),
        )
        _fill(child, text, node.start, node.end, node.children)
        last = child
        pos = node.end
    if end > pos:
        if last is None:
            element.text = text[pos:end]
        else:
            last.tail = text[pos:end]


#: Elements whose content is added after indenting: (element, text, spans) for inline markup,
#: (element, None, kept element) for XML the reader kept (see :func:`body_head`).
_Pending = list[tuple[etree._Element, Any, Any]]
#: Block kind -> the body.content element written for it (``p`` with a class otherwise).
BLOCK_ELEMENTS = {"subheadline": "hl2"}


def _text_content(element: etree._Element, text: str, spans: tuple[Span, ...], pending) -> None:
    """Text of a mixed-content element; inline markup later (after indenting, see below)."""
    if _PLAIN.search(text) is not None:  # one search: clean, break- and tab-free text
        text = xml_safe(text)
        if "\n" in text or "\t" in text or "\r" in text:
            # A reader collapses white-space runs with breaks or tabs unless told to keep them.
            element.set(_XML_SPACE, "preserve")
    if spans:
        pending.append((element, text, spans))
    elif text:
        element.text = text


def _paragraph(
    parent: etree._Element,
    block: Block,
    pending: _Pending,
    kept: Mapping[str, str] | None = None,
) -> None:
    """A ``p`` (or ``hl2``) for a block, with the attributes the reader ``kept`` for it."""
    kind = block.kind
    local = BLOCK_ELEMENTS.get(kind)
    if local is not None:
        p = _SubElement(parent, _T[local])
    else:
        p = _SubElement(parent, _P)
        if kind != "paragraph":
            p.set("class", xml_safe(kind))
        for name, value in _tree_attributes(dict(kept or {})).items():
            p.set(name, value)
    _text_content(p, block.text, block.spans, pending)


# -- body.content with structure: tables, lists, media, block containers -----------------------

#: The reader annotation holding container records (see ``corpus.readers.nitf_xml``).
READER_ANNOTATION = "nitf-reader"
#: Containers restored from the reader's records, and the attributes each may carry.
_CONTAINER_ATTRIBUTES: dict[str, Mapping[str, Callable[[str], bool]]] = {
    "block": _COMMON,
    "ul": _COMMON,
    "ol": {**_COMMON, "seqnum": _nmtoken},
    "bq": {**_COMMON, "nowrap": _one_of("nowrap"), "quote-source": _any},
    "media": {**_COMMON, "media-type": _any},
}
_MEDIA_REFERENCE_ATTRIBUTES: Mapping[str, Callable[[str], bool]] = {
    **{
        name: _any
        for name in (
            "source", "name", "mime-type", "coding", "time", "time-unit-of-measure", "outcue",
            "source-credit", "copyright", "alternate-text", "imagemap", "data-location",
        )
    },
    "height": _nmtoken,
    "width": _nmtoken,
    "units": _one_of("pixels"),
    "noflow": _one_of("noflow"),
}  # fmt: skip
_CELL_ATTRIBUTES: Mapping[str, Callable[[str], bool]] = {
    **_COMMON,
    "axis": _any,
    "axes": _any,
    "nowrap": _one_of("nowrap"),
    "rowspan": _nmtoken,
    "colspan": _nmtoken,
    "align": _one_of("left", "center", "right", "justify", "char"),
    "valign": _one_of("top", "middle", "bottom", "baseline"),
}
_TABLE_ATTRIBUTES: Mapping[str, Callable[[str], bool]] = {
    **_COMMON,
    "align": _one_of("left", "center", "right"),
}
_MEDIA_TEXT = ("media-caption", "media-producer")
_SECTIONS = (("head", "thead"), ("foot", "tfoot"), ("body", "tbody"))


def _allowed(attributes: Any, spec: Mapping[str, Callable[[str], bool]]) -> dict[str, str]:
    if not isinstance(attributes, Mapping):
        return {}
    out = {}
    for name, value in attributes.items():
        check = spec.get(name)
        if check is not None and isinstance(value, str):
            text = xml_safe(value)
            if check(text):
                out[name] = text
    return _tree_attributes(out)


#: What a ``p`` carries back besides its ``class`` (the block's kind) and ``id``.
_P_ATTRIBUTES: Mapping[str, Callable[[str], bool]] = {
    "style": _any,
    "xml:lang": _language,
    "lede": _any,
    "summary": _any,
    "optional-text": _any,
}


def _id_counts(doc: Document, head: BodyHead | None = None) -> Counter[str]:
    """How often each ``id`` occurs among what the NITF reader kept (body attributes and
    containers) and what ``body.head`` writes: an id is written back only when it is unique."""
    counts: Counter[str] = Counter()
    reader = doc.annotations.get(READER_ANNOTATION)
    if not isinstance(reader, Mapping):
        return counts
    for key in ("block_attributes", "containers"):
        records = reader.get(key)
        for record in records if isinstance(records, list) else ():
            attributes = record.get("attributes") if isinstance(record, Mapping) else None
            value = attributes.get("id") if isinstance(attributes, Mapping) else None
            if isinstance(value, str):
                counts[value] += 1
    head = head if head is not None else body_head(doc)
    fragments = [*head.kept.values()]
    nodes = [node for fragment in fragments for element in fragment for node in element.iter()]
    nodes += [node for element in head.byline or () for node in element.iter()]
    for element in (head.dateline, head.hedline):
        if element is not None:
            nodes.extend(element.iter())
    for node in nodes:
        value = node.get("id") if isinstance(node.tag, str) else None
        if value is not None:
            counts[value] += 1
    if isinstance(head.attributes.get("id"), str):
        counts[head.attributes["id"]] += 1
    return counts


def _ids_for(doc: Document, attributes: Any) -> Counter[str]:
    """:func:`_id_counts`, worked out only for attributes that hold an ``id``."""
    if isinstance(attributes, Mapping) and "id" in attributes:
        return _id_counts(doc)
    return Counter()


def _written(
    attributes: Any, spec: Mapping[str, Callable[[str], bool]], ids: Counter[str]
) -> dict[str, str]:
    """The attributes written back (XML names: ``xml:lang``): those ``spec`` allows, and an
    ``id`` that is an XML ID used once in the document."""
    if not isinstance(attributes, Mapping):
        return {}
    out = {}
    for name, value in attributes.items():
        if not isinstance(value, str):
            continue
        text = xml_safe(value)
        if name == "id":
            if ids[value] == 1 and _is_xml_id(text):
                out[name] = text
            continue
        check = spec.get(name)
        if check is not None and check(text):
            out[name] = text
    return out


def _written_as_p(block: Block) -> bool:
    return not block.rows and BLOCK_ELEMENTS.get(block.kind, "p") == "p"


def _block_spec(block: Block) -> Mapping[str, Callable[[str], bool]]:
    """The attributes a block's element carries back besides ``id`` (none for an ``hl2``...)."""
    if block.rows:
        return _TABLE_ATTRIBUTES
    return _P_ATTRIBUTES if _written_as_p(block) else {}


def paragraph_attributes(doc: Document, head: BodyHead | None = None) -> dict[int, dict[str, str]]:
    """The attributes the NITF reader kept on paragraphs, as written back: block index ->
    attributes (``id``, ``xml:lang``, ``lede``...; the ``class`` is the block's kind)."""
    reader = doc.annotations.get(READER_ANNOTATION)
    kept = reader.get("block_attributes") if isinstance(reader, Mapping) else None
    if not kept or not isinstance(kept, list):
        return {}
    with_id = any(
        isinstance(item, Mapping)
        and isinstance(item.get("attributes"), Mapping)
        and "id" in item["attributes"]
        for item in kept
    )
    ids = _id_counts(doc, head) if with_id else Counter()
    blocks = doc.blocks
    out = {}
    for item in kept:
        index = item.get("block") if isinstance(item, Mapping) else None
        if isinstance(index, int) and 0 <= index < len(blocks) and _written_as_p(blocks[index]):
            written = _written(item.get("attributes"), _P_ATTRIBUTES, ids)
            if written:
                out[index] = written
    return out


@attrs.define
class Group:
    """A container element around a range of blocks (``element`` empty for body.content)."""

    element: str
    start: int
    end: int
    attributes: Mapping[str, Any] = attrs.field(factory=dict)
    references: list[Any] = attrs.field(factory=list)
    children: list[Group | int] = attrs.field(factory=list)


def _record_fits(record: Any, blocks: tuple[Block, ...]) -> bool:
    """Whether a reader's container record still describes ``blocks`` (plugins may change them)."""
    if not isinstance(record, Mapping) or record.get("element") not in _CONTAINER_ATTRIBUTES:
        return False
    span = record.get("blocks")
    if not (isinstance(span, list) and len(span) == 2 and all(type(i) is int for i in span)):
        return False
    first, last = span
    if not 0 <= first < last <= len(blocks):
        return False
    kinds = [b.kind for b in blocks[first:last]]
    element = record["element"]
    if element in ("ul", "ol"):
        return all(k == "list-item" for k in kinds)
    if element == "media":
        references = record.get("references")
        return (
            isinstance(references, list)
            and bool(references)
            and all(k in _MEDIA_TEXT for k in kinds)
            and kinds == sorted(kinds, key=_MEDIA_TEXT.index)
        )
    return True


def body_layout(document: Document) -> Group | None:
    """The structure of body.content, or None when it is a flat run of paragraphs.

    Tables come from the model; ``block``, ``ul``/``ol``, ``bq`` and ``media`` around blocks
    come from the NITF reader's ``containers`` records, used when they still fit the blocks.
    """
    blocks = document.blocks
    ending = len(end_blocks(document))
    reader = document.annotations.get(READER_ANNOTATION)
    records = reader.get("containers") if isinstance(reader, Mapping) else None
    fitting = []
    if isinstance(records, list):
        # The reader records inner containers first; an outer one of the same range wraps it.
        for order, record in enumerate(records):
            if _record_fits(record, blocks):
                first, last = record["blocks"]
                fitting.append((first, -last, -order, record))
    if not fitting and not ending and not any(b.rows for b in blocks):
        return None
    root = Group("", 0, len(blocks) - ending)
    stack = [root]
    for first, neg_last, _order, record in sorted(fitting, key=lambda item: item[:3]):
        last = -neg_last
        while stack[-1].end <= first and len(stack) > 1:
            stack.pop()
        top = stack[-1]
        if last > top.end or top.element in ("ul", "ol", "media"):
            continue  # crosses its parent, or inside an element that holds no containers
        element = record["element"]
        if element == "block" and not (
            top.element == "" or (top.element == "bq" and (first, last) == (top.start, top.end))
        ):
            continue  # block only in body.content, or as the one block of a bq
        group = Group(
            record["element"],
            first,
            last,
            record.get("attributes") or {},
            record.get("references") or [],
        )
        top.children.append(group)
        stack.append(group)
    _fill_groups(root)
    return root


def end_blocks(document: Document) -> tuple[Block, ...]:
    """The trailing ``tagline`` then ``bibliography`` blocks, written in ``body.end``.

    ``bibliography`` holds plain text only, so one with spans stays a paragraph.
    """
    blocks = document.blocks
    count = 0
    if blocks and blocks[-1].kind == "bibliography" and not blocks[-1].spans:
        count = 1
    if len(blocks) > count and blocks[-1 - count].kind == "tagline":
        count += 1
    if count == len(blocks):
        count = 0  # body.content needs something to say: the blocks stay there
    return blocks[len(blocks) - count :]


def _fill_groups(group: Group) -> None:
    """Put each block index into the innermost group holding it, in order."""
    inner = [g for g in group.children if isinstance(g, Group)]
    children: list[Group | int] = []
    pos = group.start
    for child in inner:
        children.extend(range(pos, child.start))
        _fill_groups(child)
        children.append(child)
        pos = child.end
    children.extend(range(pos, group.end))
    group.children = children


def _write_group(parent: etree._Element, group: Group, doc: Document, pending: _Pending) -> None:
    items = group.children
    blocks = doc.blocks
    kept = paragraph_attributes(doc) if any(isinstance(i, int) for i in items) else {}
    index = 0
    while index < len(items):
        item = items[index]
        index += 1
        if isinstance(item, Group):
            _write_container(parent, item, doc, pending)
            continue
        block = blocks[item]
        if group.element in ("ul", "ol"):
            _text_content(_SubElement(parent, _T["li"]), block.text, block.spans, pending)
        elif group.element == "media":
            element = _SubElement(parent, _T[block.kind])
            _text_content(element, block.text, block.spans, pending)
        elif block.rows:
            _table(parent, None, block, pending, _table_attributes(doc, item))
        elif (
            block.kind == "table-caption"
            and index < len(items)
            and isinstance(items[index], int)
            and blocks[items[index]].rows
        ):
            following = items[index]
            _table(parent, block, blocks[following], pending, _table_attributes(doc, following))
            index += 1
        else:
            _paragraph(parent, block, pending, kept.get(item))


def _write_container(
    parent: etree._Element, group: Group, doc: Document, pending: _Pending
) -> None:
    kept = group.attributes
    spec = _CONTAINER_ATTRIBUTES[group.element]
    attributes = _tree_attributes(_written(kept, spec, _ids_for(doc, kept)))
    if group.element == "media":
        attributes.setdefault("media-type", "other")
    element = _SubElement(parent, _T[group.element], attributes)
    if group.element == "bq":
        # bq holds block elements only: the reader's own block, or one made here.
        (only,) = group.children if len(group.children) == 1 else (None,)
        if isinstance(only, Group) and only.element == "block":
            _write_container(element, only, doc, pending)
            return
        element = _SubElement(element, _T["block"])
    if group.element == "media":
        for reference in group.references:
            _SubElement(
                element, _T["media-reference"], _allowed(reference, _MEDIA_REFERENCE_ATTRIBUTES)
            )
    _write_group(element, group, doc, pending)


def _table_attributes(doc: Document, index: int) -> dict[str, str]:
    """The attributes the NITF reader kept for the table at block ``index`` (align, class...)."""
    reader = doc.annotations.get(READER_ANNOTATION)
    kept = reader.get("block_attributes") if isinstance(reader, Mapping) else None
    for item in kept if isinstance(kept, list) else ():
        if isinstance(item, Mapping) and item.get("block") == index:
            kept = item.get("attributes")
            return _tree_attributes(_written(kept, _TABLE_ATTRIBUTES, _ids_for(doc, kept)))
    return {}


def _table(
    parent: etree._Element,
    caption: Block | None,
    block: Block,
    pending: _Pending,
    attributes: dict[str, str],
) -> None:
    """A ``table``: caption, then head, foot and body rows, as the XSD orders them."""
    table = _SubElement(parent, _T["table"], attributes)
    if caption is not None:
        _text_content(_SubElement(table, _T["caption"]), caption.text, caption.spans, pending)
    for section, local in _SECTIONS:
        rows = [row for row in block.rows if row.section == section]
        if not rows:
            continue
        group = _SubElement(table, _T[local])
        for row in rows:
            tr = _SubElement(group, _T["tr"])
            for cell in row.cells:
                element = _SubElement(
                    tr,
                    _T["th" if cell.header else "td"],
                    _allowed(cell.attributes, _CELL_ATTRIBUTES),
                )
                _text_content(element, cell.text, cell.spans, pending)


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


def decks(doc: Document) -> list[str]:
    """The hedline's ``hl2`` texts the NITF reader kept (a deck under the headline)."""
    kept = doc.annotations.get(READER_ANNOTATION)
    found = kept.get("hl2") if isinstance(kept, Mapping) else None
    if not isinstance(found, (list, tuple)):
        return []
    return [text for text in found if isinstance(text, str) and text]


#: ``body.head`` children in the XSD's order, and how many of each it allows (None: any).
BODY_HEAD_ORDER: tuple[tuple[str, int | None], ...] = (
    ("hedline", None),
    ("note", None),
    ("rights", 1),
    ("byline", None),
    ("distributor", 1),
    ("dateline", None),
    ("abstract", None),
    ("series", 1),
)
_BODY_HEAD_MAX = dict(BODY_HEAD_ORDER)
_FRAGMENT_PARSER = etree.XMLParser(
    no_network=True, resolve_entities=False, load_dtd=False, huge_tree=False
)


def _fragment(xml: Any, namespaces: frozenset[str | None]) -> etree._Element | None:
    """XML the reader kept, as an element in no namespace; None if it is not plain NITF."""
    if not isinstance(xml, str):
        return None
    try:
        element = etree.fromstring(xml.encode("utf-8"), _FRAGMENT_PARSER)
    except etree.XMLSyntaxError:
        return None
    for node in element.iter():
        if not isinstance(node.tag, str):
            continue  # comments and processing instructions are written as they are
        name = etree.QName(node)
        if name.namespace not in namespaces:
            return None
        node.tag = name.localname
        for key in node.attrib:
            if key.startswith("{") and not key.startswith(f"{{{XML_NS}}}"):
                return None
    etree.cleanup_namespaces(element)
    return element


@attrs.frozen
class BodyHead:
    """What ``body.head`` gets besides the model's fields: kept XML, by element name."""

    kept: Mapping[str, list[etree._Element]]
    byline: list[etree._Element] | None
    dateline: etree._Element | None
    losses: list[tuple[int | None, str]]
    #: The hedline as read (its attributes, hl1 and hl2 with theirs and their markup), while
    #: the headline and decks are unchanged; None writes them from the model.
    hedline: etree._Element | None = None
    #: Attributes of ``body.head`` itself (written as XML attribute names: ``id``).
    attributes: Mapping[str, str] = attrs.field(factory=dict)

    def __bool__(self) -> bool:
        return bool(
            self.kept
            or self.byline
            or self.dateline is not None
            or self.hedline is not None
            or self.attributes
        )


def _kept_markup(
    kept: Any, current: str | None, name: str, namespaces: frozenset[str | None], losses
) -> list[etree._Element] | None:
    if not isinstance(kept, Mapping):
        return None
    line = kept.get("line") if isinstance(kept.get("line"), int) else None
    if kept.get("text") != current:
        losses.append(
            (
                line,
                f"<{name}>: its markup from the NITF file (byttl, person, location...) is not "
                f"written: the {name} changed since it was read; its text is written",
            )
        )
        return None
    xml = kept.get("xml")
    elements = [_fragment(x, namespaces) for x in xml] if isinstance(xml, list) else []
    if not elements or any(e is None or local_name(e) != name for e in elements):
        losses.append((line, f"<{name}>: the kept XML is not NITF; its text is written"))
        return None
    return elements  # type: ignore[return-value]


def local_name(element: etree._Element) -> str:
    return etree.QName(element).localname


#: One ``xs:ID`` attribute: libxml2's schema check of an id is stricter than its check of
#: element names (XML 1.0 4th edition characters), and the exported NITF must pass it.
_ID_SCHEMA_XML = (
    b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="x">'
    b'<xs:complexType><xs:attribute name="id" type="xs:ID"/></xs:complexType>'
    b"</xs:element></xs:schema>"
)


@functools.cache
def _id_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.fromstring(_ID_SCHEMA_XML))


def _is_xml_id(value: str) -> bool:
    """Whether ``value`` is what the XSD's ``id`` attributes accept (an NCName)."""
    element = etree.Element("x")
    element.set("id", value)
    return _id_schema().validate(element)


#: What hedline, hl1 and hl2 (commonNITFAttributes) and body.head (global) may carry.
_HEDLINE_ATTRIBUTES = {**_COMMON, "id": _any}
_BODY_HEAD_ATTRIBUTES = {"id": _any}


class _Ids:
    """The ``id`` values a document's body.head will hold: an ID must be unique in the file."""

    def __init__(self, fragments: Iterable[etree._Element]) -> None:
        self.taken = {
            node.get("id")
            for fragment in fragments
            for node in fragment.iter()
            if isinstance(node.tag, str) and node.get("id") is not None
        }

    def claim(self, value: str) -> str | None:
        """Why ``value`` cannot be written as an id, or None (and it is taken from now on)."""
        if not _is_xml_id(value):
            return "is not an XML ID"
        if value in self.taken:
            return "is already an id in the document"
        self.taken.add(value)
        return None


def _head_attributes(
    attributes: Mapping[str, Any],
    spec: Mapping[str, Callable[[str], bool]],
    where: str,
    ids: _Ids,
    line: int | None,
    losses: list[tuple[int | None, str]],
) -> dict[str, str]:
    """The attributes NITF allows on a body.head element (``xml:lang`` spelled so); a loss for
    each other one, and for an id that is not an XML ID or is already used."""
    out: dict[str, str] = {}
    for name, value in attributes.items():
        check = spec.get(name)
        text = xml_safe(value) if isinstance(value, str) else None
        if check is None or text is None or not check(text):
            losses.append((line, f"<{where}>: attribute {name}={value!r} is not NITF here"))
            continue
        if name == "id":
            problem = ids.claim(text)
            if problem is not None:
                losses.append((line, f"<{where}>: id={text!r} {problem}; not written"))
                continue
        out[name] = text
    return out


def _xml_names(element: etree._Element) -> dict[str, str]:
    """An element's attributes with ``xml:`` names as the reader spells them."""
    prefix = f"{{{XML_NS}}}"
    return {
        ("xml:" + key[len(prefix) :] if key.startswith(prefix) else key): value
        for key, value in element.attrib.items()
    }


def _set_attributes(element: etree._Element, attributes: Mapping[str, str]) -> None:
    element.attrib.clear()
    for name, value in _tree_attributes(dict(attributes)).items():
        element.set(name, value)


def _kept_hedline(
    kept: Any,
    doc: Document,
    namespaces: frozenset[str | None],
    ids: _Ids,
    losses: list[tuple[int | None, str]],
) -> etree._Element | None:
    """The hedline the reader kept, cleaned to what NITF allows (hl1 then hl2s, their
    attributes), if the headline and decks are what was read; None to write the model's."""
    if not isinstance(kept, Mapping):
        return None
    line = kept.get("line") if isinstance(kept.get("line"), int) else None
    if not doc.title:
        return None
    read_decks = kept.get("hl2") if isinstance(kept.get("hl2"), list) else []
    if kept.get("text") != doc.title or [d for d in read_decks if d] != decks(doc):
        losses.append(
            (
                line,
                "<hedline>: its attributes and markup from the NITF file (hl1 id, class...) "
                "are not written: the headline changed since it was read; its text is written",
            )
        )
        return None
    xml = kept.get("xml")
    hedline = _fragment(xml[0], namespaces) if isinstance(xml, list) and xml else None
    if hedline is None or local_name(hedline) != "hedline":
        losses.append((line, "<hedline>: the kept XML is not NITF; its text is written"))
        return None
    cleaned = etree.Element("hedline")
    _set_attributes(
        cleaned,
        _head_attributes(_xml_names(hedline), _HEDLINE_ATTRIBUTES, "hedline", ids, line, losses),
    )
    children = [c for c in hedline if isinstance(c.tag, str)]
    hl1 = next((c for c in children if c.tag == "hl1"), None)
    if hl1 is None:
        losses.append((line, "<hedline>: the kept XML has no hl1; its text is written"))
        return None
    for child in (hl1, *(c for c in children if c.tag == "hl2")):
        copy = deepcopy(child)
        copy.tail = None
        _set_attributes(
            copy,
            _head_attributes(_xml_names(child), _HEDLINE_ATTRIBUTES, child.tag, ids, line, losses),
        )
        for node in copy.iterdescendants():
            value = node.get("id") if isinstance(node.tag, str) else None
            problem = ids.claim(value) if value is not None else None
            if problem is not None:
                del node.attrib["id"]
                losses.append((line, f"<{node.tag}> in <{child.tag}>: id={value!r} {problem}"))
        cleaned.append(copy)
    for child in children:
        if child is not hl1 and child.tag != "hl2":
            where = "a second hl1" if child.tag == "hl1" else f"<{child.tag}>"
            losses.append(
                (line, f"{where} in <hedline>: NITF allows only hl1 and hl2 there; not written")
            )
    return cleaned


def body_head(doc: Document) -> BodyHead:
    """The ``body.head`` elements the NITF reader kept as XML: byline and dateline markup,
    ``note``, ``rights``, ``distributor``, ``series``, more hedlines, datelines and abstracts.
    What cannot be written back is in ``losses``.
    """
    reader = doc.annotations.get(READER_ANNOTATION)
    losses: list[tuple[int | None, str]] = []
    if not isinstance(reader, Mapping):
        return BodyHead({}, None, None, losses)
    namespaces = frozenset({None, NITF_NS, reader.get("namespace")})
    byline = _kept_markup(reader.get("byline_xml"), doc.byline, "byline", namespaces, losses)
    dated = _kept_markup(reader.get("dateline_xml"), doc.dateline, "dateline", namespaces, losses)
    kept: dict[str, list[etree._Element]] = {}
    unmapped = reader.get("unmapped")
    hedline_kept = reader.get("hedline_xml")
    for record in unmapped if isinstance(unmapped, list) else []:
        if not isinstance(record, Mapping) or record.get("where") != "body/body.head":
            continue
        element = _fragment(record.get("xml"), namespaces)
        if element is None:
            xml = record.get("xml")
            found = re.match(r"\s*<([^\s/>]+)", xml) if isinstance(xml, str) else None
            name = found.group(1) if found else "?"
            losses.append((None, f"<{name}> in body.head, kept by the NITF reader, is not NITF"))
            continue
        name = local_name(element)
        limit = _BODY_HEAD_MAX.get(name, 0)
        if name in ("byline",) or (limit is not None and len(kept.get(name, ())) >= limit):
            losses.append((None, f"<{name}>: body.head allows no more of it here; not written"))
            continue
        kept.setdefault(name, []).append(element)
    ids = _Ids([*(byline or ()), *(dated or ()), *(e for found in kept.values() for e in found)])
    found = reader.get("attributes")
    found = found.get("body/body.head") if isinstance(found, Mapping) else None
    head_line = hedline_kept.get("line") if isinstance(hedline_kept, Mapping) else None
    head_attributes = _head_attributes(
        found if isinstance(found, Mapping) else {},
        _BODY_HEAD_ATTRIBUTES,
        "body.head",
        ids,
        head_line if isinstance(head_line, int) else None,
        losses,
    )
    hedline = _kept_hedline(hedline_kept, doc, namespaces, ids, losses)
    return BodyHead(
        kept,
        byline,
        dated[0] if dated else None,
        losses,
        hedline,
        _tree_attributes(head_attributes),
    )


def _copy_into(placeholder: etree._Element, source: etree._Element) -> None:
    """Give an empty element ``source``'s attributes, text and children (in NITF's namespace)."""
    for key, value in source.attrib.items():
        placeholder.set(key, value)
    placeholder.text = source.text
    for child in source:
        copy = deepcopy(child)
        for node in copy.iter():
            if isinstance(node.tag, str):
                node.tag = _q(node.tag)
        placeholder.append(copy)


def _fragment_text(indent: str, element: etree._Element) -> str:
    return indent + etree.tostring(element, encoding="unicode", with_tail=False) + "\n"


def _has_head(doc: Document, extra: BodyHead) -> bool:
    """Whether ``body.head`` is written: both writers decide it the same way."""
    return bool(
        doc.title
        or doc.byline is not None
        or doc.dateline is not None
        or doc.abstract is not None
        or extra
    )


def _body(root: etree._Element, doc: Document, pending: _Pending) -> None:
    attrib = {}
    if doc.language and _LANGUAGE_TAG.match(doc.language):
        attrib[_XML_LANG] = doc.language
    body = etree.SubElement(root, _T["body"], attrib)
    extra = body_head(doc)
    if _has_head(doc, extra):
        head = etree.SubElement(body, _T["body.head"], extra.attributes)
        for name, _ in BODY_HEAD_ORDER:
            if name == "hedline" and extra.hedline is not None:
                hedline = etree.SubElement(head, _T["hedline"], extra.hedline.attrib)
                for source in extra.hedline:
                    pending.append((_SubElement(hedline, _q(source.tag)), None, source))
            elif name == "hedline" and doc.title:
                hedline = etree.SubElement(head, _T["hedline"])
                _text_element(hedline, _T["hl1"], doc.title)
                for deck in decks(doc):
                    _text_element(hedline, _T["hl2"], deck)
            elif name == "byline" and extra.byline:
                for source in extra.byline:
                    pending.append((_SubElement(head, _T["byline"]), None, source))
            elif name == "byline" and doc.byline is not None:
                _text_element(head, _T["byline"], doc.byline)
            elif name == "dateline" and extra.dateline is not None:
                pending.append((_SubElement(head, _T["dateline"]), None, extra.dateline))
            elif name == "dateline" and doc.dateline is not None:
                _text_element(head, _T["dateline"], doc.dateline)
            elif name == "abstract" and doc.abstract is not None:
                _text_element(etree.SubElement(head, _T["abstract"]), _T["p"], doc.abstract)
            for source in extra.kept.get(name, ()):
                pending.append((_SubElement(head, _q(name)), None, source))
    content = etree.SubElement(body, _T["body.content"])
    layout = body_layout(doc)
    if layout is None:
        kept = paragraph_attributes(doc, extra)
        for index, block in enumerate(doc.blocks):
            _paragraph(content, block, pending, kept.get(index))
    else:
        _write_group(content, layout, doc, pending)
        ending = end_blocks(doc)
        if ending:
            body_end = _SubElement(body, _T["body.end"])
            for block in ending:
                _text_content(
                    _SubElement(body_end, _T[block.kind]), block.text, block.spans, pending
                )


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
    for p, text, spans in pending:
        if text is None:  # kept XML of body.head, copied in after indenting (mixed content)
            _copy_into(p, spans)
        else:
            _fill(p, text, 0, len(text), nest_spans(spans, len(text)))


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
    # One str.replace per character (C scans, "&" first) rather than a Python callback per
    # match: plugin annotations are JSON here, with a double quote around every key.
    for char, entity in _ESCAPES.items():
        value = value.replace(char, entity)
    return value


def _safe_attr(value: str) -> str:
    """Any string as an attribute value: forbidden characters replaced, then escaped."""
    if _NOT_PLAIN_ATTR.search(value) is None:
        return value
    return _attr(xml_safe(value))


def _attributes_text(attributes: Mapping[str, str]) -> str:
    """Attributes (values already XML-safe; ``xml:`` names in Clark notation) as lxml writes."""
    prefix = f"{{{XML_NS}}}"
    return "".join(
        f' {"xml:" + name[len(prefix) :] if name.startswith(prefix) else name}="{_attr(value)}"'
        for name, value in attributes.items()
    )


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


def _paragraph_text(out: list[str], block: Block, kept: Mapping[str, str] | None = None) -> None:
    """One ``p`` of ``body.content`` (see :func:`_paragraph`)."""
    kind = block.kind
    local = BLOCK_ELEMENTS.get(kind, "p")
    plain_p = local != "p" or kind == "paragraph"
    attributes = "" if plain_p else f' class="{_attr(xml_safe(kind))}"'
    if kept and local == "p":
        attributes += _attributes_text(_tree_attributes(dict(kept)))
    text = block.text
    plain = _NOT_PLAIN_TEXT.search(text) is None
    if not plain and _PLAIN.search(text) is not None:
        text = xml_safe(text)
        if "\n" in text or "\t" in text or "\r" in text:
            attributes += ' xml:space="preserve"'
    if block.spans:
        nodes = nest_spans(block.spans, len(text))
        if nodes:
            out.append(f"      <{local}{attributes}>")
            _inline(out, text, 0, len(text), nodes)
            out.append(f"</{local}>\n")
            return
    if text:
        out.append(f"      <{local}{attributes}>{text if plain else _text(text)}</{local}>\n")
    else:
        out.append(f"      <{local}{attributes}/>\n")


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
    extra = body_head(doc)
    if _has_head(doc, extra):
        opening = len(out)
        out.append(f"    <body.head{_attributes_text(extra.attributes)}>\n")
        for name, _ in BODY_HEAD_ORDER:
            if name == "hedline" and extra.hedline is not None:
                out.append(f"      <hedline{_attributes_text(extra.hedline.attrib)}>\n")
                out.extend(_fragment_text("        ", source) for source in extra.hedline)
                out.append("      </hedline>\n")
            elif name == "hedline" and doc.title:
                out.append("      <hedline>\n")
                out.append(_leaf("        ", "hl1", doc.title))
                for deck in decks(doc):
                    out.append(_leaf("        ", "hl2", deck))
                out.append("      </hedline>\n")
            elif name == "byline" and extra.byline:
                out.extend(_fragment_text("      ", source) for source in extra.byline)
            elif name == "byline" and doc.byline is not None:
                out.append(_leaf("      ", "byline", doc.byline))
            elif name == "dateline" and extra.dateline is not None:
                out.append(_fragment_text("      ", extra.dateline))
            elif name == "dateline" and doc.dateline is not None:
                out.append(_leaf("      ", "dateline", doc.dateline))
            elif name == "abstract" and doc.abstract is not None:
                out.append("      <abstract>\n")
                out.append(_leaf("        ", "p", doc.abstract))
                out.append("      </abstract>\n")
            out.extend(_fragment_text("      ", source) for source in extra.kept.get(name, ()))
        if len(out) == opening + 1:  # attributes only: an empty element, as lxml writes it
            out[opening] = out[opening][: -len(">\n")] + "/>\n"
        else:
            out.append("    </body.head>\n")
    if doc.blocks:
        out.append("    <body.content>\n")
        kept = paragraph_attributes(doc, extra) if READER_ANNOTATION in doc.annotations else {}
        for index, block in enumerate(doc.blocks):
            _paragraph_text(out, block, kept.get(index))
        out.append("    </body.content>\n")
    else:
        out.append("    <body.content/>\n")
    out.append("  </body>\n")


def _span_losses(spans: tuple[Span, ...], text: str, where: str) -> list[str]:
    dropped: list[Span] = []
    nest_spans(spans, len(text), dropped)
    messages = []
    for span in dropped:
        piece = text[span.start : span.end]
        if len(piece) > 30:
            piece = piece[:29] + "…"
        why = "has no NITF element" if span.kind not in INLINE else "is not allowed there"
        messages.append(
            f"{where}: markup {span.kind!r} over {piece!r} {why}; the text is written, "
            "the markup is not"
        )
    lost = {id(span) for span in dropped}
    for span in spans:
        spec = INLINE.get(span.kind)
        if spec is None or id(span) in lost:
            continue
        kept = _inline_attributes(span.kind, span.attributes)
        for name, value in span.attributes.items():
            if _nitf_name(span.kind, name, span.attributes) not in kept:
                messages.append(
                    f"{where}: attribute {name}={str(value)!r} of <{spec.element}> is not "
                    "valid NITF; not written"
                )
    return messages


def _refused(
    attributes: Any, spec: Mapping[str, Callable[[str], bool]], ids: Counter[str]
) -> list[str]:
    """The attributes :func:`_written` leaves out (not allowed there, a refused value, an id
    that is not an XML ID or not unique)."""
    if not isinstance(attributes, Mapping):
        return []
    written = _written(attributes, spec, ids)
    return [f"{name}={value!r}" for name, value in attributes.items() if name not in written]


def _attribute_losses(document: Document, head: BodyHead) -> list[tuple[int | None, str]]:
    """The attributes the NITF reader kept on body elements that are not written back: on
    a paragraph (its ``class`` is its kind, nothing else is written), on a table, and on the
    containers written (``block``, lists, ``bq``, ``media``), such as ``id``."""
    reader = document.annotations.get(READER_ANNOTATION)
    if not isinstance(reader, Mapping):
        return []
    out: list[tuple[int | None, str]] = []
    blocks = document.blocks
    ids = _id_counts(document, head)
    kept = reader.get("block_attributes")
    for item in kept if isinstance(kept, list) else ():
        index = item.get("block") if isinstance(item, Mapping) else None
        if not isinstance(index, int) or not 0 <= index < len(blocks):
            continue
        block = blocks[index]
        refused = _refused(item.get("attributes"), _block_spec(block), ids)
        if refused:
            what = f"block {index + 1} ({'table' if block.rows else block.kind})"
            out.append(
                (block.line_start, f"{what}: attributes {', '.join(refused)} are not written")
            )
    layout = body_layout(document)
    groups = list(layout.children) if layout is not None else []
    while groups:
        group = groups.pop(0)
        if not isinstance(group, Group):
            continue
        groups.extend(group.children)
        refused = _refused(group.attributes, _CONTAINER_ATTRIBUTES[group.element], ids)
        if refused:
            line = blocks[group.start].line_start if group.start < len(blocks) else None
            where = f"<{group.element}> around blocks {group.start + 1} to {group.end}"
            out.append((line, f"{where}: attributes {', '.join(refused)} are not written"))
    return out


def nitf_losses(document: Document) -> list[tuple[int | None, str]]:
    """What :func:`nitf_bytes` cannot write of ``document``, as (line, message) pairs.

    Text is always written; what can be lost is inline markup (kinds NITF has no element for,
    markup the XSD does not allow where it sits, too deep) and attribute values NITF refuses
    or the writer does not carry back (a paragraph's ``id``, say).
    """
    head = body_head(document)
    out: list[tuple[int | None, str]] = list(head.losses)
    out.extend(_attribute_losses(document, head))
    for number, block in enumerate(document.blocks, 1):
        if block.spans:
            for message in _span_losses(block.spans, block.text, f"block {number}"):
                out.append((block.line_start, message))
        for r, row in enumerate(block.rows, 1):
            for c, cell in enumerate(row.cells, 1):
                if cell.spans:
                    where = f"block {number} (table row {r}, cell {c})"
                    for message in _span_losses(cell.spans, cell.text, where):
                        out.append((block.line_start, message))
    return out


def nitf_bytes(document: Document) -> bytes:
    """Complete NITF file bytes: XML declaration, UTF-8, two-space indents, final newline."""
    if body_layout(document) is not None:
        # Tables and containers are rare: they go through the tree (the same bytes).
        return nitf_tree_bytes(document)
    out = [_DECLARATION, _OPEN_NITF]
    if document.language:
        out.append(f' baselang="{_attr(xml_safe(document.language))}"')
    out.append(">\n")
    _head_text(out, document)
    _body_text(out, document)
    out.append("</nitf>\n")
    return "".join(out).encode("utf-8")

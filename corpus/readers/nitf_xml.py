"""Reading NITF 3.x with lxml, as agencies send it, bare or inside a NewsML-G2 ``newsItem``.

The plugin (:mod:`corpus.readers.nitf`) imports this module on the first read only.

Accepts NITF with or without the 2006-10-18 namespace and with any ``version`` string, from
UTF-8 or ISO-8859-1 bytes, with a DOCTYPE that is never fetched (parsing goes through
:mod:`corpus.safexml`). It is the inverse of the NITF exporter (``docs/nitf.md``): what that
exporter writes comes back as the same title, date, byline, paragraphs and spans.

The mapping is in ``docs/formats.md``. In short: ``hl1`` is the title, ``date.issue/@norm`` the
date, ``byline``/``dateline``/``abstract``/``key-list``/``urgency`` their fields, and the
paragraphs of ``body.content`` the blocks, with inline elements (``em``, ``q``, ``person``,
``org``, ``location``, ``a``...) as stand-off spans. Everything else is kept, never dropped: it
goes to ``annotations["nitf-reader"]`` (values) or, as serialized XML, to its ``unmapped`` list.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html.entities
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import attrs
from lxml import etree

from corpus.errors import InputRejected
from corpus.formats import ReadResult
from corpus.model import Block, Cell, Document, Finding, Row, Severity, Source, Span
from corpus.readers.nitf import PLUGIN
from corpus.safexml import parse_untrusted

XML_NS = "http://www.w3.org/XML/1998/namespace"
_XML_SPACE = f"{{{XML_NS}}}space"
_XML_LANG = f"{{{XML_NS}}}lang"

#: NITF inline element -> span kind. Other inline elements keep their NITF name as kind.
INLINE_KINDS: dict[str, str] = {
    "em": "emphasis",
    "q": "quote",
    "person": "person",
    "org": "org",
    "location": "location",
    "a": "link",
}
#: body.content elements read as blocks, and the block kind each gets (``p@class`` wins).
BLOCK_KINDS: dict[str, str] = {
    "p": "paragraph",
    "hl1": "subheadline",
    "hl2": "subheadline",
    "li": "list-item",
    "pre": "preformatted",
}
#: Containers whose children are read in order as if they stood in body.content. Each is
#: recorded in ``containers`` (element, attributes, range of blocks) so the NITF exporter can
#: put it back around its blocks.
_BLOCK_CONTAINERS = frozenset({"block", "ul", "ol", "bq"})
#: ``media`` children read as blocks (kind = element name); the rest is kept in its record.
MEDIA_TEXT = ("media-caption", "media-producer")
#: ``body.end`` children read as the document's last blocks (kind = element name).
END_KINDS = ("tagline", "bibliography")
#: Table children holding rows, and the row section each stands for.
_ROW_GROUPS = {"thead": "head", "tbody": "body", "tfoot": "foot"}
#: ``head/meta`` names the NITF exporter writes for provenance and annotations.
_META_ANNOTATIONS = "corpus-annotations"
_META_SOURCE_PREFIX = "corpus-source-"

# date.issue/@norm as seen in the samples: 2021-05-16T09:00:04, 20151210T191044Z,
# 20170102T222800+0000, 20020225T143000-0500; also plain days and minute precision.
_NORM = re.compile(
    r"(\d{4})-?(\d{2})-?(\d{2})"
    r"(?:[T ](\d{2}):?(\d{2})(?::?(\d{2})(?:[.,](\d{1,6})\d*)?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?\Z"
)
_LAYOUT_WS = re.compile(r"[ \t\r\n]*[\t\r\n][ \t\r\n]*")
_XML_WS = " \t\r\n"


def parse_norm(value: str) -> tuple[dt.date, dt.datetime | None] | None:
    """A NITF ``norm`` date string as (day, timestamp or None), or None if unreadable.

    The day is the calendar day as written (local to the zone given). A midnight written
    with a zero offset (``T000000+0000``/``Z``) is read as a day without a time: that is what
    the NITF exporter writes for a date-only document. A time without a zone stays naive.
    """
    match = _NORM.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, frac, zone = match.groups()
    try:
        day_value = dt.date(int(year), int(month), int(day))
        if hour is None:
            return day_value, None
        tz = _zone(zone)
        stamp = dt.datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            int((frac or "0").ljust(6, "0")),
            tzinfo=tz,
        )
    except ValueError:
        return None
    if stamp.time() == dt.time(0) and tz is not None and tz.utcoffset(None) == dt.timedelta(0):
        return day_value, None
    return day_value, stamp


def _zone(zone: str | None) -> dt.tzinfo | None:
    if zone is None:
        return None
    if zone == "Z":
        return dt.timezone.utc
    digits = zone[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) >= 4 else 0)
    return dt.timezone(dt.timedelta(minutes=minutes if zone[0] == "+" else -minutes))


def local(element: Any) -> str | None:
    """The local name of an element (namespace dropped), or None for comments, PIs, entities."""
    if not isinstance(element.tag, str):
        return None
    return etree.QName(element).localname


def _children(element: etree._Element, name: str | None = None) -> Iterator[etree._Element]:
    for child in element:
        if local(child) is not None and (name is None or local(child) == name):
            yield child


def _child(element: etree._Element | None, name: str) -> etree._Element | None:
    if element is None:
        return None
    return next(_children(element, name), None)


def _attr_name(name: str) -> str:
    if name.startswith(f"{{{XML_NS}}}"):
        return "xml:" + name.split("}", 1)[1]
    return name


#: Above this many attributes, read them through XPath: lxml's ``attrib.items()`` looks each
#: value up by name again, which is quadratic (100,000 attributes took 73 s).
_MANY_ATTRIBUTES = 32


def _attributes(element: etree._Element) -> dict[str, str]:
    names = element.keys()  # linear, and cheap
    if len(names) <= _MANY_ATTRIBUTES:
        return {_attr_name(k): v for k, v in element.attrib.items()}
    return {_attr_name(value.attrname): str(value) for value in element.xpath("@*")}


def _xml(element: etree._Element) -> str:
    return etree.tostring(element, encoding="unicode", with_tail=False)


def _preserves_space(element: etree._Element) -> bool:
    for node in (element, *element.iterancestors()):
        value = node.get(_XML_SPACE)
        if value is not None:
            return value == "preserve"
    return False


# -- inline text with stand-off spans ------------------------------------------------------


@attrs.define
class _Inline:
    """Text of one mixed-content element, collected with raw span offsets."""

    parts: list[str] = attrs.field(factory=list)
    length: int = 0
    spans: list[tuple[int, int, str, dict[str, str]]] = attrs.field(factory=list)
    unknown_entities: list[str] = attrs.field(factory=list)

    def add(self, text: str | None) -> None:
        if text:
            self.parts.append(text)
            self.length += len(text)

    def walk(self, element: etree._Element, *, skip: frozenset[str] = frozenset()) -> None:
        self.add(element.text)
        for child in element:
            if isinstance(child, etree._Entity):
                self.add(self._entity(child))
            elif local(child) is None or local(child) in skip:
                pass  # comments and processing instructions carry no text
            elif local(child) == "br":
                self.add("\n")
            else:
                start = self.length
                self.walk(child, skip=skip)
                name = local(child) or ""
                kind = INLINE_KINDS.get(name, name)
                self.spans.append((start, self.length, kind, _attributes(child)))
            self.add(child.tail)

    def _entity(self, entity: etree._Entity) -> str:
        # Only reachable for a DOCTYPE whose DTD was (rightly) not loaded, e.g. &nbsp;.
        code = html.entities.name2codepoint.get(entity.name)
        if code is not None:
            return chr(code)
        self.unknown_entities.append(entity.name)
        return f"&{entity.name};"

    def result(self, *, preserve: bool) -> tuple[str, tuple[Span, ...]]:
        raw = "".join(self.parts)
        if preserve:
            return raw, tuple(Span(s, e, k, a) for s, e, k, a in self.spans)
        text, position, layout = _normalize(raw)
        spans = []
        for start, end, kind, attributes in self.spans:
            new_start, new_end = position[start], position[end]
            # A span edge inside collapsed layout white space moves inward; spaces typed
            # inside the element are text and stay in the span.
            while new_start < new_end and new_start in layout:
                new_start += 1
            while new_end > new_start and new_end - 1 in layout:
                new_end -= 1
            spans.append(Span(new_start, new_end, kind, attributes))
        return text, tuple(spans)


def _normalize(raw: str) -> tuple[str, list[int], set[int]]:
    """Collapse layout white space; return text, a raw -> text offset map, layout positions.

    A run of XML white space that holds a tab or line break is pretty-printing: it becomes
    one space (whose position is in the returned set). Runs of plain spaces are text and are
    kept exactly; then the ends are trimmed. NBSP and other Unicode spaces are never touched.
    """
    out: list[str] = []
    position = [0] * (len(raw) + 1)
    layout: set[int] = set()
    size = 0
    index = 0
    for match in _LAYOUT_WS.finditer(raw):
        for i in range(index, match.start()):
            position[i] = size
            size += 1
        out.append(raw[index : match.start()])
        for i in range(match.start(), match.end()):
            position[i] = size
        layout.add(size)
        out.append(" ")
        size += 1
        index = match.end()
    for i in range(index, len(raw)):
        position[i] = size
        size += 1
    out.append(raw[index:])
    position[len(raw)] = size
    text = "".join(out)
    lead = len(text) - len(text.lstrip(_XML_WS))
    stripped = text.strip(_XML_WS)
    limit = len(stripped)
    edges = set(range(lead)) | set(range(lead + limit, len(text)))
    layout = {p - lead for p in layout | edges}
    return stripped, [min(max(p - lead, 0), limit) for p in position], layout


def inline_text(
    element: etree._Element, *, skip: frozenset[str] = frozenset()
) -> tuple[str, tuple[Span, ...], list[str]]:
    """The text of a mixed-content element, its spans, and unknown entity names met."""
    collected = _Inline()
    collected.walk(element, skip=skip)
    text, spans = collected.result(preserve=_preserves_space(element))
    return text, spans, collected.unknown_entities


def plain_text(element: etree._Element | None, *, skip: frozenset[str] = frozenset()) -> str:
    if element is None:
        return ""
    return inline_text(element, skip=skip)[0]


# -- the document ----------------------------------------------------------------------------


@attrs.define
class _State:
    """What reading one file collects before it becomes a Document."""

    path: str
    extra: dict[str, Any] = attrs.field(factory=dict)
    unmapped: list[dict[str, str]] = attrs.field(factory=list)
    findings: list[Finding] = attrs.field(factory=list)
    # id -> element: holding the element keeps its lxml proxy (and so its id) alive.
    consumed: dict[int, etree._Element] = attrs.field(factory=dict)

    def use(self, element: etree._Element | None) -> etree._Element | None:
        if element is not None:
            self.consumed[id(element)] = element
        return element

    def keep(self, element: etree._Element, where: str) -> None:
        self.unmapped.append({"where": where, "xml": _xml(element)})

    def leftovers(self, container: etree._Element | None, where: str) -> None:
        """Keep the attributes of ``container`` and every child nothing consumed (as XML)."""
        if container is None:
            return
        attributes = _attributes(container)
        if attributes:
            self.extra.setdefault("attributes", {})[where] = attributes
        for child in _children(container):
            if id(child) not in self.consumed:
                self.keep(child, where)

    def dropped(self, element: etree._Element, what: str = "") -> None:
        """A ``CONTENT_DROPPED`` warning: ``element`` (or ``what`` of it) has no place in the
        model; what it held is only in ``annotations`` now, not in the body any exporter writes.
        """
        name = local(element) or "?"
        part = f"{what} of <{name}>" if what else f"<{name}>"
        self.warn(
            "CONTENT_DROPPED",
            f"{part} has no place in the document model; it is kept only as XML in the "
            f"reader's annotations, so exported bodies lack it",
            element,
        )

    def warn(self, code: str, message: str, element: etree._Element | None = None) -> None:
        line = element.sourceline if element is not None else None
        self.findings.append(
            Finding(
                code=code, severity=Severity.WARNING, message=message, path=self.path, line=line
            )
        )


def find_nitf(root: etree._Element) -> etree._Element | None:
    """The ``nitf`` element: the root itself, or the first one inside (NewsML-G2 inlineXML)."""
    if local(root) == "nitf":
        return root
    return next((el for el in root.iter() if local(el) == "nitf"), None)


def read_nitf(data: bytes, *, path: str, key: str, reader: str = "nitf") -> ReadResult:
    """Read NITF (bare or in a NewsML-G2 envelope) from ``data``; the NITF reader's work."""
    parsed = parse_untrusted(data, path=path)
    root = parsed.root
    nitf = find_nitf(root)
    if nitf is None:
        raise InputRejected(
            f"no NITF here: the root element is <{local(root)}> and holds no <nitf> "
            "(a NewsML-G2 item must carry NITF in inlineXML); use another reader",
            code="NITF_NOT_FOUND",
            path=path,
            line=root.sourceline,
        )
    state = _State(path=path)
    if parsed.encoding_guessed:
        state.warn(
            "NITF_ENCODING_GUESSED",
            "the file declares no encoding and is not UTF-8; read as Windows-1252. Add an "
            "encoding to its XML declaration to be sure.",
        )
    fields = _read_nitf(nitf, state)
    if nitf is not root:
        _read_envelope(root, nitf, fields, state)
    if not fields.get("blocks") and not fields.get("title"):
        raise InputRejected(
            "the NITF has neither a headline nor body text; nothing to read",
            code="NITF_EMPTY",
            path=path,
            line=nitf.sourceline,
        )
    if not fields.get("blocks"):
        state.warn("NITF_NO_BODY", "the NITF has no body paragraphs; only metadata was read")
    if not fields.get("title"):
        state.warn("NITF_NO_TITLE", "the NITF has no hl1 or head title", nitf)
    annotations = dict(fields.pop("annotations", {}))
    if state.unmapped:
        state.extra["unmapped"] = state.unmapped
    if state.extra:
        annotations[PLUGIN] = {**annotations.get(PLUGIN, {}), **state.extra}
    source = Source(
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        encoding=parsed.encoding,
        size=len(data),
        format=reader,
    )
    document = Document(key=key, source=source, annotations=annotations, **fields)
    return ReadResult(document, state.findings)


def _read_nitf(nitf: etree._Element, state: _State) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    attributes = _attributes(nitf)
    namespace = etree.QName(nitf).namespace
    if namespace:
        state.extra["namespace"] = namespace
    if attributes.get("baselang"):
        fields["language"] = attributes["baselang"]
    head = state.use(_child(nitf, "head"))
    body = state.use(_child(nitf, "body"))
    _read_head(head, fields, state)
    state.leftovers(head, "head")
    if body is not None:
        _read_body(body, fields, state)
        if "language" not in fields and body.get(_XML_LANG):
            fields["language"] = body.get(_XML_LANG)
    state.leftovers(nitf, "nitf")
    return fields


def _not_json(token: str) -> Any:
    raise ValueError(f"{token} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text} is out of range")
    return value


def _read_head(head: etree._Element | None, fields: dict[str, Any], state: _State) -> None:
    if head is None:
        return
    title = state.use(_child(head, "title"))
    if title is not None and plain_text(title):
        state.extra["head_title"] = plain_text(title)
    origin: dict[str, str] = {}
    for meta in _children(head, "meta"):
        name = meta.get("name", "")
        if name == _META_ANNOTATIONS:
            try:
                restored = json.loads(
                    meta.get("content", ""), parse_constant=_not_json, parse_float=_finite
                )
            except ValueError:
                state.warn("NITF_BAD_ANNOTATIONS", "meta corpus-annotations is not JSON", meta)
                continue
            if isinstance(restored, dict):
                state.use(meta)
                fields["annotations"] = restored
        elif name.startswith(_META_SOURCE_PREFIX):
            state.use(meta)
            origin[name[len(_META_SOURCE_PREFIX) :]] = meta.get("content", "")
    if origin:
        state.extra["origin_source"] = origin
    docdata = state.use(_child(head, "docdata"))
    if docdata is not None:
        _read_docdata(docdata, fields, state)
        state.leftovers(docdata, "head/docdata")


def _read_docdata(docdata: etree._Element, fields: dict[str, Any], state: _State) -> None:
    doc_id = state.use(_child(docdata, "doc-id"))
    if doc_id is not None:
        state.extra["doc_id"] = _attributes(doc_id)
    urgency = state.use(_child(docdata, "urgency"))
    if urgency is not None and urgency.get("ed-urg") is not None:
        raw = urgency.get("ed-urg", "").strip()
        if raw.isdigit() and 1 <= int(raw) <= 9:
            fields["urgency"] = int(raw)
        else:
            state.extra["urgency"] = raw
            state.warn("NITF_BAD_URGENCY", f"urgency ed-urg={raw!r} is not 1-9; kept", urgency)
    issue = state.use(_child(docdata, "date.issue"))
    if issue is not None:
        norm = issue.get("norm") or plain_text(issue)
        state.extra["date_issue"] = norm
        parsed = parse_norm(norm) if norm else None
        if parsed is None:
            state.warn(
                "NITF_BAD_DATE",
                f"date.issue norm {norm!r} is not a date (expected e.g. 20020225T143000-0500)",
                issue,
            )
        else:
            fields["date"], fields["issued"] = parsed
    key_list = state.use(_child(docdata, "key-list"))
    if key_list is not None:
        keywords = [k.get("key", "").strip() for k in _children(key_list, "keyword")]
        fields["keywords"] = tuple(k for k in keywords if k)
        others = [c for c in _children(key_list) if local(c) != "keyword"]
        for other in others:
            state.keep(other, "head/docdata/key-list")
        if _attributes(key_list):
            state.extra.setdefault("attributes", {})["head/docdata/key-list"] = _attributes(
                key_list
            )


def _read_body(body: etree._Element, fields: dict[str, Any], state: _State) -> None:
    body_head = state.use(_child(body, "body.head"))
    if body_head is not None:
        _read_body_head(body_head, fields, state)
        state.leftovers(body_head, "body/body.head")
    blocks: list[Block] = []
    for content in _children(body, "body.content"):
        state.use(content)
        _read_blocks(content, blocks, state, "body/body.content")
        attributes = _attributes(content)
        if attributes:
            state.extra.setdefault("attributes", {})["body/body.content"] = attributes
    body_end = state.use(_child(body, "body.end"))
    if body_end is not None:
        _read_body_end(body_end, blocks, state)
    fields["blocks"] = tuple(blocks)
    state.leftovers(body, "body")


def _read_body_end(body_end: etree._Element, blocks: list[Block], state: _State) -> None:
    """``body.end``: its ``tagline`` and ``bibliography`` become the last blocks (kind = name)."""
    attributes = _attributes(body_end)
    if attributes:
        state.extra.setdefault("attributes", {})["body/body.end"] = attributes
    for child in _children(body_end):
        name = local(child) or ""
        if name in END_KINDS:
            block = _block(child, name, state, len(blocks))
            if block is not None:
                blocks.append(block)
        else:
            state.keep(child, "body/body.end")
            state.dropped(child)


def _read_body_head(body_head: etree._Element, fields: dict[str, Any], state: _State) -> None:
    hedline = state.use(_child(body_head, "hedline"))
    if hedline is not None:
        hl1 = state.use(_child(hedline, "hl1"))
        if hl1 is not None:
            fields["title"] = plain_text(hl1)
        subheads = [plain_text(state.use(h)) for h in _children(hedline, "hl2")]
        if subheads:
            state.extra["hl2"] = subheads
        if _hedline_has_markup(hedline):
            # Attributes (AP's hl1 id="headline"), inline markup or other children: the XML
            # itself, for the NITF exporter, which writes it back while the headline is unchanged.
            state.extra["hedline_xml"] = {
                "text": fields.get("title"),
                "hl2": subheads,
                "line": hedline.sourceline,
                "xml": [_xml(hedline)],
            }
        state.leftovers(hedline, "body/body.head/hedline")
    head_title = state.extra.get("head_title")
    if "title" not in fields and head_title:
        fields["title"] = head_title
    if head_title is not None and head_title == fields.get("title"):
        state.extra.pop("head_title")
    bylines = list(_children(body_head, "byline"))
    if bylines:
        for byline in bylines:
            state.use(byline)
        _read_bylines(bylines, fields, state)
        if len(bylines) > 1 or any(len(byline) for byline in bylines):
            # Markup (byttl, person...) or more bylines: the XML itself, for the NITF exporter.
            state.extra["byline_xml"] = {
                "text": fields["byline"],
                "line": bylines[0].sourceline,
                "xml": [_xml(byline) for byline in bylines],
            }
    datelines = list(_children(body_head, "dateline"))
    if datelines:
        fields["dateline"] = _read_dateline(state.use(datelines[0]), state)
        if len(datelines[0]):
            state.extra["dateline_xml"] = {
                "text": fields["dateline"],
                "line": datelines[0].sourceline,
                "xml": [_xml(datelines[0])],
            }
        for other in datelines[1:]:
            state.use(other)
            state.keep(other, "body/body.head")
    abstract = state.use(_child(body_head, "abstract"))
    if abstract is not None:
        parts = [plain_text(p) for p in _children(abstract)]
        text = "\n\n".join(p for p in parts if p) or plain_text(abstract)
        fields["abstract"] = text


def _hedline_has_markup(hedline: etree._Element) -> bool:
    """Whether ``hedline`` holds more than plain ``hl1``/``hl2`` text (attributes, elements)."""
    if hedline.keys():
        return True
    for child in _children(hedline):
        if local(child) not in ("hl1", "hl2") or child.keys() or len(child):
            return True
    return False


def _read_bylines(bylines: list[etree._Element], fields: dict[str, Any], state: _State) -> None:
    texts = []
    titles: list[str] = []
    persons: list[str] = []
    for byline in bylines:
        text = plain_text(byline, skip=frozenset({"byttl"}))
        byttl = [plain_text(t) for t in _children(byline, "byttl")]
        titles.extend(t for t in byttl if t)
        persons.extend(plain_text(p) for p in byline.iter() if local(p) == "person")
        if byttl and text.endswith((",", ";")):
            text = text[:-1].rstrip()  # the separator before a byttl belongs to neither
        texts.append(text or " ".join(t for t in byttl if t))
    fields["byline"] = texts[0]
    if len(texts) > 1:
        state.extra["bylines"] = texts
    if titles:
        state.extra["byline_titles"] = titles
    if persons:
        state.extra["byline_persons"] = persons


def _read_dateline(dateline: etree._Element, state: _State) -> str | None:
    story_dates = [el for el in dateline.iter() if local(el) == "story.date"]
    skip: set[str] = set()
    for story_date in story_dates:
        state.extra["story_date"] = story_date.get("norm") or plain_text(story_date)
        if plain_text(story_date) == (story_date.get("norm") or "").strip():
            skip.add("story.date")  # a machine date, not part of the written dateline
    text = plain_text(dateline, skip=frozenset(skip))
    return text or None


def _read_blocks(
    container: etree._Element, blocks: list[Block], state: _State, where: str, kind: str = ""
) -> None:
    for child in _children(container):
        name = local(child) or ""
        if name in BLOCK_KINDS:
            block = _block(child, kind or BLOCK_KINDS[name], state, len(blocks))
            if block is not None:
                blocks.append(block)
        elif name == "table":
            _read_table(child, blocks, state, f"{where}/table")
        elif name in _BLOCK_CONTAINERS or name == "media":
            first = len(blocks)
            record: dict[str, Any] = {"element": name, "attributes": _attributes(child)}
            if name == "media":
                _read_media(child, blocks, state, f"{where}/media", record)
            else:
                inner_kind = "blockquote" if name == "bq" else kind
                _read_blocks(child, blocks, state, f"{where}/{name}", inner_kind)
            record["blocks"] = [first, len(blocks)]
            state.extra.setdefault("containers", []).append(record)
        else:
            state.keep(child, where)
            state.dropped(child)


def _read_media(
    media: etree._Element, blocks: list[Block], state: _State, where: str, record: dict
) -> None:
    """``media``: caption and producer become blocks; references are kept in ``record``."""
    for child in _children(media):
        name = local(child) or ""
        if name in MEDIA_TEXT:
            block = _block(child, name, state, len(blocks))
            if block is not None:
                blocks.append(block)
        elif name == "media-reference":
            record.setdefault("references", []).append(_attributes(child))
            if plain_text(child):
                record.setdefault("reference_texts", {})[str(len(record["references"]) - 1)] = (
                    plain_text(child)
                )
        else:
            state.keep(child, where)
            state.dropped(child)


def _read_table(table: etree._Element, blocks: list[Block], state: _State, where: str) -> None:
    """A ``table`` as a block of kind ``table``; its caption as a ``table-caption`` block."""
    rows: list[Row] = []
    for child in _children(table):
        name = local(child) or ""
        if name == "caption":
            block = _block(child, "table-caption", state, len(blocks))
            if block is not None:
                blocks.append(block)
        elif name == "tr":
            rows.append(_row(child, "body", state))
        elif name in _ROW_GROUPS:
            if _attributes(child):
                state.dropped(child, "its attributes")
            rows.extend(_row(tr, _ROW_GROUPS[name], state) for tr in _children(child, "tr"))
            for other in _children(child):
                if local(other) != "tr":
                    state.keep(other, f"{where}/{name}")
                    state.dropped(other)
        else:  # col, colgroup: presentation the model does not hold
            state.keep(child, where)
            state.dropped(child)
    if not rows:
        return
    attributes = _attributes(table)
    if attributes:
        state.extra.setdefault("block_attributes", []).append(
            {"block": len(blocks), "attributes": attributes}
        )
    line = table.sourceline
    blocks.append(
        Block.table(
            rows,
            line_start=line,
            line_end=line + _xml(table).count("\n") if line is not None else None,
        )
    )


def _row(tr: etree._Element, section: str, state: _State) -> Row:
    if _attributes(tr):
        state.dropped(tr, "its attributes")
    cells = []
    for cell in _children(tr):
        name = local(cell)
        if name not in ("td", "th"):
            state.dropped(cell)
            continue
        text, spans, unknown = inline_text(cell)
        for entity in unknown:
            state.warn("NITF_UNKNOWN_ENTITY", f"entity &{entity}; is not defined; kept", cell)
        cells.append(Cell(text, header=name == "th", spans=spans, attributes=_attributes(cell)))
    return Row(cells, section)


def _block(element: etree._Element, kind: str, state: _State, index: int) -> Block | None:
    text, spans, unknown = inline_text(element)
    for name in unknown:
        state.warn(
            "NITF_UNKNOWN_ENTITY",
            f"entity &{name}; is not defined without the DTD (which is never loaded); kept as "
            "written",
            element,
        )
    attributes = _attributes(element)
    css = attributes.pop("class", None)
    if css and local(element) == "p":
        kind = css
    elif css:
        attributes["class"] = css
    if not text:
        return None
    if attributes:
        state.extra.setdefault("block_attributes", []).append(
            {"block": index, "attributes": attributes}
        )
    line = element.sourceline
    span_lines = _xml(element).count("\n")
    return Block(
        text=text,
        kind=kind,
        line_start=line,
        line_end=line + span_lines if line is not None else None,
        spans=spans,
    )


def _read_envelope(
    root: etree._Element, nitf: etree._Element, fields: dict[str, Any], state: _State
) -> None:
    """Metadata of a NewsML-G2 item around the NITF: fills what the NITF left empty."""
    envelope: dict[str, Any] = {"root": local(root)}
    if local(root) == "newsItem":
        envelope.update({k: v for k, v in _attributes(root).items() if not k.startswith("{")})
    for child in _children(root):
        name = local(child) or ""
        if name not in ("itemMeta", "contentMeta", "contentSet"):
            envelope.setdefault(name, []).append(_envelope_value(child))
    for meta in (_child(root, "itemMeta"), _child(root, "contentMeta")):
        if meta is None:
            continue
        for child in _children(meta):
            envelope.setdefault(local(child) or "", []).append(_envelope_value(child))
    _fill_from_envelope(envelope, fields)
    if "language" not in fields and root.get(_XML_LANG):
        fields["language"] = root.get(_XML_LANG)
    state.extra["newsml"] = envelope


def _envelope_value(element: etree._Element) -> Any:
    """A property of the envelope: its text, or its attributes (and XML when it has children)."""
    attributes = {k: v for k, v in _attributes(element).items() if not k.startswith("{")}
    if list(_children(element)):
        return {**attributes, "xml": _xml(element)}
    text = plain_text(element)
    if not attributes:
        return text
    return {**attributes, "text": text} if text else attributes


def _first_text(envelope: dict[str, Any], name: str) -> str | None:
    for value in envelope.get(name, []):
        if isinstance(value, str) and value:
            return value
        if isinstance(value, dict) and value.get("text"):
            return value["text"]
    return None


def _fill_from_envelope(envelope: dict[str, Any], fields: dict[str, Any]) -> None:
    simple: dict[str, Callable[[str], Any]] = {
        "title": lambda _: _first_text(envelope, "headline"),
        "byline": lambda _: _first_text(envelope, "by"),
        "dateline": lambda _: _first_text(envelope, "dateline"),
        "abstract": lambda _: _first_text(envelope, "description"),
    }
    for field, get in simple.items():
        if not fields.get(field):
            value = get(field)
            if value:
                fields[field] = value
    if not fields.get("keywords"):
        values = envelope.get("keyword", [])
        keywords = tuple(filter(None, (_first_text({"k": [v]}, "k") for v in values)))
        if keywords:
            fields["keywords"] = keywords
    if "language" not in fields:
        for value in envelope.get("language", []):
            if isinstance(value, dict) and value.get("tag"):
                fields["language"] = value["tag"]
                break
    if "urgency" not in fields:
        text = _first_text(envelope, "urgency")
        if text and text.isdigit() and 1 <= int(text) <= 9:
            fields["urgency"] = int(text)
    if "date" not in fields:
        # contentCreated only: versionCreated dates the item, not the story (an exporter
        # must invent one for an undated story).
        text = _first_text(envelope, "contentCreated")
        parsed = parse_norm(text) if text else None
        if parsed is not None:
            fields["date"], fields["issued"] = parsed

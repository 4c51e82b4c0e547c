"""NITF 3.6 exporter: schema validity for every document, the field mapping, inline spans."""

from __future__ import annotations

import datetime as dt
import json

import attrs
import pytest
from conftest import assert_golden
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from corpus.errors import ConfigError, ExportError
from corpus.exporters.nitf import (
    MAX_INLINE_DEPTH,
    NITF_NS,
    NITF_VERSION,
    SOURCE_FIELDS,
    build_nitf_tree,
    nest_spans,
    nitf_bytes,
    nitf_norm_date,
    nitf_tree_bytes,
)
from corpus.model import Block, Document, Source, Span
from corpus.pipeline import export_document, read_path
from corpus.schemacheck import check_xml
from corpus.xmlsafe import REPLACEMENT, has_forbidden, xml_safe

NS = {"n": NITF_NS}
KINDS = ["emphasis", "quote", "person", "org", "location", "link"]
TAG_OF = {"em": "emphasis", "q": "quote", "person": "person", "org": "org"}
TAG_OF.update({"location": "location", "a": "link"})


def export(document: Document) -> bytes:
    from corpus.exporters.nitf import NITFExporter

    return NITFExporter().export(document)


def parse(data: bytes) -> etree._Element:
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    return etree.fromstring(data, parser)


def assert_valid(data: bytes, schema) -> etree._Element:
    root = parse(data)
    assert schema.validate(root), "\n".join(str(e) for e in schema.error_log)
    return root


def read_spans(p: etree._Element) -> list[tuple[int, int, str, dict]]:
    """Stand-off spans back from a NITF paragraph: (start, end, kind, attributes)."""
    out = []
    pos = 0

    def walk(element: etree._Element) -> None:
        nonlocal pos
        pos += len(element.text or "")
        for child in element:
            start = pos
            walk(child)
            out.append((start, pos, TAG_OF[etree.QName(child).localname], dict(child.attrib)))
            pos += len(child.tail or "")

    walk(p)
    return sorted(out, key=lambda s: (s[0], -s[1], s[2]))


def paragraphs(root: etree._Element) -> list[etree._Element]:
    return root.findall("n:body/n:body.content/n:p", NS)


FULL = Document(
    key="world/2022/duma",
    title="The Russian flag flies on the State Duma building in Moscow",
    date=dt.date(2022, 2, 26),
    issued=dt.datetime(2022, 2, 26, 14, 5, 9, tzinfo=dt.timezone(dt.timedelta(hours=3))),
    byline="By  AFP",
    dateline="MOSCOW, Feb 26",
    abstract="Russians are not keen on the war.",
    keywords=("Russia", "Ukraine", "State Duma"),
    urgency=4,
    language="en-GB",
    source=Source("world/2022/duma.txt", "ab" * 32, "utf-8", 1234, "article"),
    annotations={"classify": {"title_role": "caption", "score": 0.75}, "n": [1, None, "x"]},
    blocks=[
        Block(
            "Putin said “no” in Moscow, says Reuters: see https://example.org now.",
            line_start=3,
            line_end=3,
            spans=[
                Span(0, 5, "person", {"idsrc": "wikidata", "value": "Q7747"}),
                Span(6, 16, "quote", {"quote-source": "Putin"}),
                Span(11, 15, "emphasis"),
                Span(20, 26, "location", {"location-code": "RU-MOW", "code-source": "iso3166-2"}),
                Span(33, 40, "org"),
                Span(46, 65, "link", {"href": "https://example.org", "title": "Example"}),
                Span(0, 3, "sentiment", {"score": "0.1"}),
            ],
        ),
        Block("Photo: AFP", kind="credit", line_start=5, line_end=5),
        Block("Second paragraph.", line_start=7, line_end=8),
    ],
)


def test_full_document_is_valid_and_maps_every_field(nitf_schema):
    data = export(FULL)
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<nitf ")
    assert data.endswith(b"</nitf>\n")
    root = assert_valid(data, nitf_schema)

    assert root.tag == f"{{{NITF_NS}}}nitf"
    assert root.get("version") == NITF_VERSION
    assert root.get("change.date") is None and root.get("change.time") is None
    assert root.get("baselang") == "en-GB"
    assert root.find("n:body", NS).get("{http://www.w3.org/XML/1998/namespace}lang") == "en-GB"

    head = root.find("n:head", NS)
    assert head.findtext("n:title", namespaces=NS) == FULL.title
    metas = {m.get("name"): m.get("content") for m in head.findall("n:meta", NS)}
    assert metas["corpus-source-path"] == "world/2022/duma.txt"
    assert metas["corpus-source-sha256"] == "ab" * 32
    assert metas["corpus-source-encoding"] == "utf-8"
    assert metas["corpus-source-size"] == "1234"
    assert metas["corpus-source-format"] == "article"
    assert json.loads(metas["corpus-annotations"]) == FULL.annotations

    docdata = head.find("n:docdata", NS)
    assert docdata.find("n:doc-id", NS).get("id-string") == "world/2022/duma"
    assert docdata.find("n:urgency", NS).get("ed-urg") == "4"
    assert docdata.find("n:date.issue", NS).get("norm") == "20220226T140509+0300"
    keys = [k.get("key") for k in docdata.findall("n:key-list/n:keyword", NS)]
    assert keys == ["Russia", "Ukraine", "State Duma"]

    body_head = root.find("n:body/n:body.head", NS)
    assert body_head.findtext("n:hedline/n:hl1", namespaces=NS) == FULL.title
    assert body_head.findtext("n:byline", namespaces=NS) == "By  AFP"
    assert body_head.findtext("n:dateline", namespaces=NS) == "MOSCOW, Feb 26"
    assert body_head.findtext("n:abstract/n:p", namespaces=NS) == FULL.abstract

    ps = paragraphs(root)
    assert [p.get("class") for p in ps] == [None, "credit", None]
    assert ["".join(p.itertext()) for p in ps] == [b.text for b in FULL.blocks]
    expected = [
        (s.start, s.end, s.kind, dict(s.attributes))
        for s in FULL.blocks[0].spans
        if s.kind != "sentiment"
    ]
    assert read_spans(ps[0]) == expected


def test_every_source_field_is_carried():
    assert tuple(f.name for f in attrs.fields(Source)) == SOURCE_FIELDS


def test_minimal_document_is_valid(nitf_schema):
    root = assert_valid(export(Document(key="k")), nitf_schema)
    assert root.find("n:head/n:title", NS) is None
    assert root.find("n:body/n:body.head", NS) is None
    assert root.find("n:head/n:docdata/n:date.issue", NS) is None
    assert root.find("n:head/n:docdata/n:doc-id", NS).get("id-string") == "k"
    assert paragraphs(root) == []
    assert root.get("baselang") is None


def test_empty_strings_are_written_as_empty_elements(nitf_schema):
    doc = Document(key="k", byline="", dateline="", abstract="", blocks=[Block("")])
    root = assert_valid(export(doc), nitf_schema)
    body_head = root.find("n:body/n:body.head", NS)
    assert body_head.find("n:hedline", NS) is None
    assert body_head.findtext("n:byline", namespaces=NS) == ""
    assert body_head.findtext("n:dateline", namespaces=NS) == ""
    assert body_head.findtext("n:abstract/n:p", namespaces=NS) == ""
    assert len(paragraphs(root)) == 1


@pytest.mark.parametrize(
    ("value", "norm"),
    [
        (dt.date(2022, 2, 26), "20220226T000000+0000"),
        (dt.date(5, 1, 2), "00050102T000000+0000"),
        (dt.datetime(2022, 2, 26, 9, 8, 7), "20220226T090807+0000"),
        (
            dt.datetime(2022, 2, 26, 9, 8, 7, 999, tzinfo=dt.timezone(dt.timedelta(hours=5.5))),
            "20220226T090807+0530",
        ),
        (
            dt.datetime(2022, 12, 31, 23, 59, tzinfo=dt.timezone(-dt.timedelta(hours=3.5))),
            "20221231T235900-0330",
        ),
        (
            dt.datetime(2022, 1, 1, tzinfo=dt.timezone(-dt.timedelta(minutes=1, seconds=30))),
            "20220101T000000-0001",
        ),
        (dt.datetime(2022, 1, 1, tzinfo=dt.timezone.utc), "20220101T000000+0000"),
    ],
)
def test_nitf_norm_date(value, norm):
    assert nitf_norm_date(value) == norm


def test_date_issue_prefers_issued_over_date():
    doc = Document(key="k", date=dt.date(2022, 2, 26))
    root = build_nitf_tree(doc)
    assert root.find(".//n:date.issue", NS).get("norm") == "20220226T000000+0000"
    issued = dt.datetime(2022, 2, 27, 1, 0, tzinfo=dt.timezone.utc)
    root = build_nitf_tree(Document(key="k", date=dt.date(2022, 2, 26), issued=issued))
    assert root.find(".//n:date.issue", NS).get("norm") == "20220227T010000+0000"


def spans_after_export(text: str, spans: list[Span], schema) -> list[tuple]:
    root = assert_valid(export(Document(key="k", blocks=[Block(text, spans=spans)])), schema)
    (p,) = paragraphs(root)
    assert "".join(p.itertext()) == xml_safe(text)
    return read_spans(p)


def test_crossing_span_is_split_at_the_boundary(nitf_schema):
    text = "abcdefghijklmnopqrst"
    got = spans_after_export(text, [Span(0, 10, "emphasis"), Span(5, 15, "quote")], nitf_schema)
    assert got == [(0, 10, "emphasis", {}), (5, 10, "quote", {}), (10, 15, "quote", {})]


def test_span_crossing_several_open_spans(nitf_schema):
    text = "x" * 30
    spans = [Span(0, 20, "emphasis"), Span(2, 10, "quote"), Span(5, 25, "link", {"href": "u"})]
    got = spans_after_export(text, spans, nitf_schema)
    assert got == [
        (0, 20, "emphasis", {}),
        (2, 10, "quote", {}),
        (5, 10, "link", {"href": "u"}),
        (10, 20, "link", {"href": "u"}),
        (20, 25, "link", {"href": "u"}),
    ]


def test_equal_ranges_put_entities_inside(nitf_schema):
    doc = Document(
        key="k",
        blocks=[Block("Vladimir Putin", spans=[Span(0, 14, "person"), Span(0, 14, "quote")])],
    )
    (p,) = paragraphs(assert_valid(export(doc), nitf_schema))
    assert [etree.QName(e).localname for e in p.iter()] == ["p", "q", "person"]
    assert read_spans(p) == [(0, 14, "person", {}), (0, 14, "quote", {})]
    root = build_nitf_tree(Document(key="k", blocks=[Block("ab", spans=[Span(0, 2, "person")])]))
    assert etree.QName(paragraphs(root)[0][0]).localname == "person"


def test_markup_inside_entities_is_dropped_text_kept(nitf_schema):
    text = "The United Nations Security Council met."
    spans = [Span(4, 32, "org"), Span(11, 18, "emphasis"), Span(4, 18, "org")]
    got = spans_after_export(text, spans, nitf_schema)
    assert got == [(4, 32, "org", {})]


def test_entity_crossing_out_of_an_entity_keeps_its_outside_part(nitf_schema):
    text = "Angela Merkel Berlin"
    got = spans_after_export(text, [Span(0, 13, "person"), Span(7, 20, "location")], nitf_schema)
    assert got == [(0, 13, "person", {}), (13, 20, "location", {})]


def test_unknown_kinds_and_attributes_are_not_written(nitf_schema):
    text = "click here please"
    spans = [
        Span(0, 10, "link", {"href": "https://x.test/?a=1&b=2", "rel": "not a token", "x": "y"}),
        Span(0, 5, "sentiment"),
        Span(11, 17, "person", {"gender": "unknown", "value": "P1"}),
    ]
    got = spans_after_export(text, spans, nitf_schema)
    assert got == [
        (0, 10, "link", {"href": "https://x.test/?a=1&b=2"}),
        (11, 17, "person", {"value": "P1"}),
    ]


def test_empty_spans_are_written_as_empty_elements(nitf_schema):
    got = spans_after_export("abc", [Span(1, 1, "emphasis"), Span(3, 3, "link")], nitf_schema)
    assert got == [(1, 1, "emphasis", {}), (3, 3, "link", {})]


def test_deep_nesting_is_capped(nitf_schema):
    text = "y" * 400
    spans = [Span(i, 400 - i, "emphasis") for i in range(150)]
    root = assert_valid(export(Document(key="k", blocks=[Block(text, spans=spans)])), nitf_schema)
    (p,) = paragraphs(root)
    depth = max(len(list(e.iterancestors())) for e in p.iter()) - len(list(p.iterancestors()))
    assert depth == MAX_INLINE_DEPTH
    assert "".join(p.itertext()) == text


FORBIDDEN = "\x00\x01\x08\x0b\x0c\x1f\ud800\udfff\ufffe\uffff"


def test_forbidden_characters_in_every_field_become_replacement(nitf_schema):
    bad = "a" + FORBIDDEN + "b"
    doc = Document(
        key=bad,
        title=bad,
        byline=bad,
        dateline=bad,
        abstract=bad,
        keywords=(bad,),
        language=bad,
        source=Source(bad, bad, bad, 1, bad),
        annotations={bad: bad},
        blocks=[
            Block(bad, kind=bad, spans=[Span(1, 12, "link", {"href": bad}), Span(11, 12, "org")])
        ],
    )
    data = export(doc)
    root = assert_valid(data, nitf_schema)
    clean = "a" + REPLACEMENT * len(FORBIDDEN) + "b"
    assert root.findtext("n:head/n:title", namespaces=NS) == clean
    assert root.find(".//n:doc-id", NS).get("id-string") == clean
    assert root.get("baselang") == clean
    assert root.find("n:body", NS).get("{http://www.w3.org/XML/1998/namespace}lang") is None
    (p,) = paragraphs(root)
    assert p.get("class") == clean
    assert read_spans(p) == [(1, 12, "link", {"href": clean}), (11, 12, "org", {})]
    assert "".join(p.itertext())[11] == "b"


def test_whitespace_and_markup_characters_survive():
    text = "  <tag> & \"quotes\" 'x'\r\n\ttabbed  "
    doc = Document(key="k", title=text, blocks=[Block(text)])
    root = parse(export(doc))
    assert root.findtext("n:head/n:title", namespaces=NS) == text
    assert paragraphs(root)[0].text == text


def test_indent_touches_only_containers():
    doc = Document(key="k", title="t", blocks=[Block("ab", spans=[Span(0, 1, "emphasis")])])
    compact = build_nitf_tree(doc, indent=False)
    assert etree.tostring(compact).count(b"\n") == 0
    pretty = build_nitf_tree(doc)
    for tree in (compact, pretty):
        p = paragraphs(tree)[0]
        assert p.text is None and p[0].text == "a" and p[0].tail == "b"


def test_annotations_that_are_not_json_are_an_export_error():
    doc = Document(key="k", annotations={"p": {1, 2}}, source=Source("a.txt", "0", "utf-8", 1))
    with pytest.raises(ExportError) as info:
        export(doc)
    assert (info.value.code, info.value.path) == ("JSON_NOT_SERIALIZABLE", "a.txt")


def test_check_xml_with_a_missing_schema_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError):
        check_xml(b"<a/>", tmp_path / "missing.xsd")
    (tmp_path / "bad.xsd").write_text("<not-a-schema/>")
    with pytest.raises(ConfigError):
        check_xml(b"<a/>", tmp_path / "bad.xsd")


def test_exporter_is_registered_as_plugin(plugins):
    exporter = plugins.exporters.get("nitf")
    assert exporter.extension == ".xml"
    assert plugins.exporters.owner("nitf") == "nitf"
    assert exporter.export(FULL) == export(FULL)


def test_check_xml_reports_problems_with_lines(standards):
    xsd = standards / "nitf" / "nitf-3-6.xsd"
    good = export(FULL)
    assert check_xml(good, xsd) == []
    bad = good.replace(b'version="-//IPTC//DTD NITF 3.6//EN"', b'version="3.5"')
    problems = check_xml(bad, xsd)
    assert problems and problems[0].line == 2 and "version" in str(problems[0])
    broken = check_xml(b"<nitf>\n<body>", xsd)
    assert len(broken) == 1 and "not well-formed" in broken[0].message


def test_xml_safe_keeps_lengths_and_allowed_characters():
    allowed = "\t\n\r \ud7ff\ue000\ufffd\U00010000\U0010ffff é✓"
    assert xml_safe(allowed) is allowed
    assert not has_forbidden(allowed)
    for ch in FORBIDDEN:
        assert has_forbidden(ch)
        assert xml_safe("x" + ch) == "x" + REPLACEMENT


# -- properties ----------------------------------------------------------------------------

#: Any code point, surrogates and C0 controls included.
any_text = st.text(st.characters(exclude_categories=()), max_size=30)


@st.composite
def blocks(draw) -> Block:
    text = draw(st.text(max_size=50) | any_text)
    spans = []
    for _ in range(draw(st.integers(0, 6))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, len(text)))
        kind = draw(st.sampled_from([*KINDS, "custom"]))
        attrs = draw(st.dictionaries(st.sampled_from(["href", "value", "x"]), any_text, max_size=2))
        spans.append(Span(start, end, kind, attrs))
    kind = draw(st.sampled_from(["paragraph", "credit"]) | any_text)
    return Block(text, kind=kind, spans=spans)


optional_text = st.none() | any_text
zones = st.none() | st.builds(
    dt.timezone, st.timedeltas(min_value=dt.timedelta(hours=-23), max_value=dt.timedelta(hours=23))
)
documents = st.builds(
    Document,
    key=any_text,
    title=any_text,
    date=st.none() | st.dates(),
    issued=st.none() | st.datetimes(timezones=zones),
    byline=optional_text,
    dateline=optional_text,
    abstract=optional_text,
    keywords=st.lists(any_text, max_size=3),
    urgency=st.none() | st.integers(-10, 10**6),
    language=optional_text | st.sampled_from(["en", "de-CH", "sq"]),
    blocks=st.lists(blocks(), max_size=4),
    source=st.none()
    | st.builds(Source, any_text, any_text, any_text, st.integers(0, 2**40), any_text),
    annotations=st.dictionaries(any_text, st.none() | st.integers() | any_text, max_size=2),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=documents)
def test_every_document_exports_valid_nitf_keeping_text(nitf_schema, doc):
    root = assert_valid(export(doc), nitf_schema)
    got = ["".join(p.itertext()) for p in paragraphs(root)]
    assert got == [xml_safe(b.text) for b in doc.blocks]


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_nest_spans_gives_nested_nodes_within_bounds(data):
    block = data.draw(blocks())
    nodes = nest_spans(block.spans, len(block.text))

    def check(children, lo, hi, depth, parent_kind):
        pos = lo
        for node in children:
            assert pos <= node.start <= node.end <= hi
            assert parent_kind not in ("person", "org", "location")
            assert depth <= MAX_INLINE_DEPTH
            check(node.children, node.start, node.end, depth + 1, node.kind)
            pos = node.end

    check(nodes, 0, len(block.text), 1, "")
    covered = {s.kind for s in block.spans if s.kind in KINDS and s.end > s.start}
    top_kinds = {n.kind for n in nodes}
    assert not covered or top_kinds  # some markup survives when there was some


#: Text that stresses escaping: markup characters, quotes, breaks, tabs, controls, surrogates.
nasty_text = st.text(
    st.sampled_from(list("&<>\"'\r\t\n\x00\x0c\ud800\ufffe a\u00e9\u20ac\U0001f600]"))
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=documents)
def test_fast_writer_writes_exactly_what_the_lxml_tree_serializes(doc):
    assert nitf_bytes(doc) == nitf_tree_bytes(doc)


@settings(max_examples=200, deadline=None)
@given(
    text=nasty_text,
    title=nasty_text,
    attribute=nasty_text,
    kind=st.sampled_from(["paragraph", "credit"]) | nasty_text,
    data=st.data(),
)
def test_fast_writer_escapes_like_libxml2(text, title, attribute, kind, data):
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    span = Span(start, end, "link", {"href": attribute, "title": attribute})
    doc = Document(
        key=attribute or "k",
        title=title,
        byline=text,
        keywords=(attribute,),
        blocks=[Block(text, kind=kind), Block(text, spans=[span])],
        source=Source(attribute, attribute, "utf-8", 1, "article"),
        annotations={"x": attribute},
    )
    assert nitf_bytes(doc) == nitf_tree_bytes(doc)


# -- golden files ---------------------------------------------------------------------------

#: Golden name -> article fixture. Regenerate: CORPUS_UPDATE_GOLDEN=1 pytest tests/test_export_*.py
GOLDEN = {
    "seed": "seed.txt",
    "meta_blocks": "layout/meta_blocks.txt",
    "byline": "layout/byline.txt",
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_nitf(name, fixtures_dir, plugins, nitf_schema):
    articles = fixtures_dir / "articles"
    document = read_path(articles / GOLDEN[name], root=articles, plugins=plugins).document
    data = export_document(document, "nitf", plugins=plugins)
    expected = assert_golden(data, fixtures_dir / "golden" / f"{name}.xml", "NITF")
    root = assert_valid(expected, nitf_schema)
    assert ["".join(p.itertext()) for p in paragraphs(root)] == [b.text for b in document.blocks]


def test_every_article_fixture_exports_valid_nitf_and_json(fixtures_dir, plugins, nitf_schema):
    from corpus.errors import InputRejected
    from corpus.schemacheck import check_json

    articles = fixtures_dir / "articles"
    exported = 0
    for path in sorted(articles.rglob("*.txt")):
        try:
            document = read_path(path, root=articles, plugins=plugins).document
        except InputRejected:
            continue
        assert_valid(export_document(document, "nitf", plugins=plugins), nitf_schema)
        data = export_document(document, "json", plugins=plugins)
        assert check_json(data) == [], path
        exported += 1
    assert exported >= 10

"""Tables, lists, media and every NITF inline element: read into the model, written back.

NITF -> model -> NITF must keep every body element of real agency files; whatever a reader or
exporter cannot carry is a ``CONTENT_DROPPED`` warning naming the element and line.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from strategies import line_text

from corpus.exporters.ninjs import build_ninjs
from corpus.exporters.nitf import NITF_NS, nitf_bytes, nitf_tree_bytes
from corpus.exporters.nitf_xml import XML_NS
from corpus.model import (
    Block,
    Cell,
    Document,
    Row,
    Source,
    Span,
    document_from_json,
    document_to_dict,
    document_to_json,
)
from corpus.pipeline import export_document, process_data, read_bytes
from corpus.schemacheck import check_json

XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace"
FIXTURE = "tables-inline.xml"
#: Every inline element of NITF's enrichedText the model carries (br becomes a line break).
INLINE_ELEMENTS = [
    "chron", "money", "num", "person", "name.given", "name.family", "function", "org",
    "location", "city", "country", "event", "object.title", "virtloc", "classifier", "lang",
    "pronounce", "copyrite", "copyrite.year", "copyrite.holder", "a", "em", "q",
]  # fmt: skip


def parse(data: bytes) -> etree._Element:
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    return etree.fromstring(data, parser)


def body_elements(root: etree._Element) -> Counter:
    """Local names of the elements in the story's body.content and body.end (not a note's)."""
    found: Counter = Counter()
    for body in root.iter("{*}body"):
        for part in (*body.iterfind("{*}body.content"), *body.iterfind("{*}body.end")):
            found.update(etree.QName(e).localname for e in part.iterdescendants("{*}*"))
    return found


def dropped_elements(findings) -> set[str]:
    return {
        name
        for f in findings
        if f.code == "CONTENT_DROPPED"
        for name in re.findall(r"<([\w.-]+)>", f.message)
    }


def without_lines(blocks):
    return [attrs.evolve(b, line_start=None, line_end=None) for b in blocks]


def head_elements(root: etree._Element) -> Counter:
    """Local names of the elements in the story's body.head, with the text each holds."""
    found: Counter = Counter()
    for body in root.iter("{*}body"):
        for part in body.iterfind("{*}body.head"):
            for e in part.iterdescendants("{*}*"):
                text = " ".join("".join(e.itertext()).split())
                found[(etree.QName(e).localname, text)] += 1
    return found


def head_attributes(root: etree._Element) -> Counter:
    """body.head and every element in it, with its text and its attributes."""
    found: Counter = Counter()
    for body in root.iter("{*}body"):
        for part in body.iterfind("{*}body.head"):
            for e in part.iter("{*}*"):
                text = " ".join("".join(e.itertext()).split())
                attributes = tuple(sorted(e.attrib.items()))
                found[(etree.QName(e).localname, text, attributes)] += 1
    return found


def round_trip(data: bytes, name: str, plugins, schema):
    """Read, export NITF, check it: valid, every body element kept, the same blocks again."""
    result = read_bytes(data, name, plugins=plugins, reader="nitf")
    out = export_document(result.document, "nitf", plugins=plugins)
    root = parse(out)
    assert schema.validate(root), (name, str(schema.error_log))
    before, after = body_elements(parse(data)), body_elements(root)
    dropped = dropped_elements(result.findings)
    for element, count in before.items():
        if element not in dropped:
            assert after[element] >= count, f"{name}: <{element}> {count} -> {after[element]}"
    head_before, head_after = head_elements(parse(data)), head_elements(root)
    for (element, text), count in head_before.items():
        if element not in dropped:
            assert head_after[(element, text)] >= count, f"{name}: body.head <{element}> {text!r}"
    kept_before, kept_after = head_attributes(parse(data)), head_attributes(root)
    for (element, text, attributes), count in kept_before.items():
        if element not in dropped:
            assert kept_after[(element, text, attributes)] >= count, (name, element, attributes)
    again = read_bytes(out, name, plugins=plugins, reader="nitf")
    assert without_lines(again.document.blocks) == without_lines(result.document.blocks), name
    for field in ("title", "byline", "dateline", "abstract"):
        assert getattr(again.document, field) == getattr(result.document, field), (name, field)
    assert not [f for f in again.findings if f.code == "CONTENT_DROPPED"], name
    return result, root


def test_every_real_agency_sample_keeps_every_body_element(standards, plugins, nitf_schema):
    paths = sorted((standards / "nitf" / "samples").glob("*.xml"))
    paths += sorted((standards / "newsml-g2" / "samples").glob("*.xml"))
    assert len(paths) >= 7
    seen: Counter = Counter()
    heads: Counter = Counter()
    for path in paths:
        data = path.read_bytes()
        result, root = round_trip(data, path.name, plugins, nitf_schema)
        assert not [f for f in result.findings if f.code == "CONTENT_DROPPED"], path.name
        document = result.document
        assert nitf_bytes(document) == nitf_tree_bytes(document), path.name
        assert not plugins.exporters.get("nitf").dropped(document), path.name
        seen.update(body_elements(parse(data)))
        heads.update(name for name, _ in head_elements(parse(data)))
    # The samples hold structure, not only paragraphs: the check above covered it.
    assert {"media", "media-reference", "media-caption", "block", "ul", "li", "hl2"} <= set(seen)
    assert {"tagline", "a"} <= set(seen)  # body.end of NTB and the fishing sample
    # and body.head holds more than the model's fields: the check above covered these too.
    assert {"byttl", "distributor", "note", "rights", "person", "location"} <= set(heads)


_STRUCTURE = ("p", "block", "table", "ul", "ol", "bq", "media")


def body_attributes(root: etree._Element) -> list[tuple[str, dict[str, str]]]:
    """Each structural element of body.content with its attributes, in document order."""
    return [
        (etree.QName(e).localname, dict(e.attrib))
        for content in root.iter("{*}body.content")
        for e in content.iter()
        if isinstance(e.tag, str) and etree.QName(e).localname in _STRUCTURE
    ]


def test_every_real_agency_sample_keeps_the_attributes_of_its_body_elements(
    standards, plugins, nitf_schema
):
    """``block id``, ``p lede`` and ``p xml:lang`` of the agency samples are written back."""
    paths = sorted((standards / "nitf" / "samples").glob("*.xml"))
    written: Counter = Counter()
    for path in paths:
        data = path.read_bytes()
        result, root = round_trip(data, path.name, plugins, nitf_schema)
        assert body_attributes(root) == body_attributes(parse(data)), path.name
        written.update(name for _, attributes in body_attributes(root) for name in attributes)
    assert {"id", "lede", f"{{{XML_NS}}}lang", "class", "media-type"} <= set(written)


PARAGRAPH_IDS = b"""<?xml version="1.0" encoding="UTF-8"?>
<nitf xmlns="http://iptc.org/std/NITF/2006-10-18/">
<head><title>T</title></head>
<body><body.head><hedline><hl1 id="head">T</hl1></hedline></body.head>
<body.content>
<block id="b1" style="s"><p id="p1" lede="true" xml:lang="en">One.</p><p>Two.</p></block>
<p id="dup">Three.</p>
<p id="dup">Four.</p>
<p id="head" summary="false">Five.</p>
</body.content></body></nitf>
"""


def test_ids_are_written_back_once_unique_and_otherwise_reported(plugins, nitf_schema):
    """An ``id`` is an ``xs:ID``: one used twice (here, or in body.head) is not written, and
    the export says so (``CONTENT_DROPPED``); the other attributes are written back."""
    result, root = round_trip(PARAGRAPH_IDS, "ids.xml", plugins, nitf_schema)
    assert body_attributes(root) == [
        ("block", {"id": "b1", "style": "s"}),
        ("p", {"id": "p1", "lede": "true", f"{{{XML_NS}}}lang": "en"}),
        ("p", {}),
        ("p", {}),
        ("p", {}),
        ("p", {"summary": "false"}),
    ]
    findings = plugins.exporters.get("nitf").dropped(result.document)
    dropped = sorted(f.message for f in findings if f.code == "CONTENT_DROPPED")
    assert len(dropped) == 3
    assert all("id=" in message and "not written" in message for message in dropped)
    assert sum("'dup'" in message for message in dropped) == 2
    assert sum("'head'" in message for message in dropped) == 1
    document = result.document
    assert nitf_bytes(document) == nitf_tree_bytes(document)
    flat = attrs.evolve(
        document,
        annotations={
            "nitf-reader": {
                k: v for k, v in document.annotations["nitf-reader"].items() if k != "containers"
            }
        },
    )  # no containers: the fast writer, which must write the same paragraphs
    assert nitf_bytes(flat) == nitf_tree_bytes(flat)
    assert nitf_schema.validate(parse(nitf_bytes(flat))), str(nitf_schema.error_log)


def test_tables_lists_media_and_inline_elements_round_trip(fixtures_dir, plugins, nitf_schema):
    data = (fixtures_dir / "nitf" / FIXTURE).read_bytes()
    result, root = round_trip(data, FIXTURE, plugins, nitf_schema)
    (dropped,) = [f for f in result.findings if f.code == "CONTENT_DROPPED"]
    assert "<hr>" in dropped.message and dropped.line == 54 and dropped.path == FIXTURE
    after = body_elements(root)
    for element in INLINE_ELEMENTS + ["table", "caption", "thead", "tfoot", "th", "td", "ol"]:
        assert after[element], element
    doc = result.document
    kinds = [b.kind for b in doc.blocks]
    assert kinds[2:4] == ["table-caption", "table"]
    table = doc.blocks[3]
    assert [r.section for r in table.rows] == ["head", "foot", "body", "body"]
    assert [c.text for c in table.rows[0].cells] == ["Index", "Close", "Change"]
    assert all(c.header for c in table.rows[0].cells)
    assert table.rows[0].cells[1].attributes == {"align": "right"}
    assert table.rows[1].cells[0].attributes == {"colspan": "3"}
    money = table.rows[2].cells[1]
    assert [(s.kind, s.attributes) for s in money.spans] == [("money", {"unit": "EUR"})]
    assert table.text.splitlines()[0] == "Index\tClose\tChange"
    out = etree.tostring(root, encoding="unicode")
    assert '<chron norm="20240315">Friday</chron>' in out
    assert '<money unit="EUR">12.5 euros</money>' in out
    assert '<table align="center">' in out


def test_the_nitf_reader_warns_for_each_body_element_it_cannot_carry(plugins):
    data = (
        b'<nitf><body><body.content><p>Kept.</p><nitf-table id="t"><nitf-table-metadata/>'
        b"</nitf-table>\n<table><col/><tr><td>a</td></tr></table></body.content></body></nitf>"
    )
    result = read_bytes(data, "x.xml", plugins=plugins, reader="nitf")
    dropped = [
        (f.line, f.message.split(" has")[0]) for f in result.findings if f.code == "CONTENT_DROPPED"
    ]
    assert dropped == [(1, "<nitf-table>"), (2, "<col>")]
    assert result.document.blocks[1].rows[0].cells[0].text == "a"


def test_the_nitf_exporter_reports_markup_it_cannot_write(plugins, config_empty):
    doc_text = b"date: 2024-03-01\ntitle: T\n\nSome text here.\n"
    doc = read_bytes(doc_text, "a.txt", plugins=plugins).document
    block = Block(
        "Some text here.",
        line_start=4,
        line_end=4,
        spans=[Span(0, 4, "sentiment"), Span(5, 9, "person", {"gender": "unknown"})],
    )
    doc = attrs.evolve(doc, blocks=[block])
    findings = plugins.exporters.get("nitf").dropped(doc)
    messages = [(f.code, f.line, f.path) for f in findings]
    assert messages == [("CONTENT_DROPPED", 4, "a.txt")] * 2
    assert "'sentiment'" in findings[0].message and "gender='unknown'" in findings[1].message
    assert plugins.exporters.get("json").dropped(doc) == []
    # Through the pipeline: the file is exported, with the warning in its report entry. A
    # <sub> outside <num> is read as a span NITF does not allow where it stands.
    nitf = b"<nitf><body><body.content>\n<p>H<sub>2</sub>O</p></body.content></body></nitf>"
    result = process_data(nitf, "w.xml", plugins=plugins, config=config_empty, formats=["nitf"])
    assert "nitf" in result.outputs and result.status == "warning"
    (finding,) = [f for f in result.findings if f.code == "CONTENT_DROPPED"]
    assert (finding.code, finding.line, finding.path) == ("CONTENT_DROPPED", 2, "w.xml")
    assert "'sub' over '2'" in finding.message
    assert b"<p>H2O</p>" in result.outputs["nitf"]


@pytest.fixture
def config_empty():
    from corpus.config import Config

    return Config()


def test_table_json_form_is_schema_valid_and_lossless():
    cell = Cell("6,210.4", spans=[Span(0, 7, "money", {"unit": "EUR"})], attributes={"a": "b"})
    table = Block.table([Row([Cell("Close", header=True)], "head"), Row([cell])], line_start=3)
    doc = Document(key="k", blocks=[Block("Intro."), table])
    data = document_to_dict(doc)
    assert check_json(data) == []
    head = {"cells": [{"text": "Close", "header": True}], "section": "head"}
    assert data["blocks"][1]["rows"][0] == head
    assert document_from_json(document_to_json(doc)) == doc
    # Old stored JSON (no rows) still reads, and its content hash is unchanged by tables.
    old = {"text": "Intro.", "kind": "paragraph"}
    assert Block.from_dict(old) == Block("Intro.")
    plain = Document(key="k", blocks=[Block("x")])
    # The hash this document had before tables were part of the model:
    assert plain.content_hash == "cd0f50db8baa70c8d826c56ca30be7cd01699221b9df2ff68084f1cc2598b48e"
    edited = attrs.evolve(doc, blocks=[Block("Intro."), Block.table([Row([Cell("Close")])])])
    assert edited.content_hash != doc.content_hash


def test_a_table_block_must_be_consistent():
    with pytest.raises(ValueError, match="table_text"):
        Block("wrong", kind="table", rows=[Row([Cell("a")])])
    with pytest.raises(ValueError, match="cells"):
        Block("a", kind="table", spans=[Span(0, 1, "emphasis")], rows=[Row([Cell("a")])])
    with pytest.raises(ValueError, match="section"):
        Row([Cell("a")], "middle")
    with pytest.raises(ValueError, match="past the end"):
        Cell("ab", spans=[Span(0, 3, "money")])


def test_ninjs_html_body_carries_the_table(fixtures_dir, plugins, standards):
    from test_ninjs import errors_of, ninjs_validator

    data = (fixtures_dir / "nitf" / FIXTURE).read_bytes()
    doc = read_bytes(data, FIXTURE, plugins=plugins).document
    item = build_ninjs(doc)
    assert errors_of(ninjs_validator(standards, "ninjs"), item) == []
    html = item["bodies"][1]["value"]
    assert "<table><thead><tr><th>Index</th>" in html
    assert '<td><span class="org">PSI</span></td>' in html
    assert "PSI\t6,210.4\t+0.8%" in item["bodies"][0]["value"]
    assert {"name": "PSI", "rel": "mentioned"} in item["organisations"]


def test_old_model_documents_in_json_read_back(fixtures_dir):
    golden = json.loads((fixtures_dir / "golden" / "seed.json").read_text("utf-8"))
    doc = document_from_json(json.dumps(golden))
    assert all(not b.rows for b in doc.blocks)


_cells = st.builds(
    Cell,
    line_text(1, 12),
    st.booleans(),
    attributes=st.sampled_from([{}, {"colspan": "2"}, {"align": "left", "valign": "top"}]),
)
_rows = st.builds(
    Row, st.lists(_cells, min_size=1, max_size=3), st.sampled_from(["head", "body", "foot"])
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(_rows, min_size=1, max_size=4), caption=st.booleans())
def test_any_table_exports_valid_nitf_and_reads_back(nitf_schema, rows, caption):
    from corpus.plugins import Plugins, PluginSpec

    plugins = Plugins(PluginSpec(entry_points=False))
    blocks = [Block("Cap", kind="table-caption")] if caption else []
    blocks.append(Block.table(rows))
    doc = Document(key="k", title="T", blocks=blocks, source=Source("k.txt", "0", "utf-8", 1))
    data = nitf_bytes(doc)
    assert data == nitf_tree_bytes(doc)
    assert nitf_schema.validate(parse(data)), str(nitf_schema.error_log)
    again = read_bytes(data, "k.xml", plugins=plugins).document
    order = {"head": 0, "foot": 1, "body": 2}  # the XSD's order of row groups
    expected = sorted(rows, key=lambda r: order[r.section])
    assert again.blocks[-1].rows == tuple(expected)
    if caption:
        root = parse(data)
        assert root.find(f".//{{{NITF_NS}}}table/{{{NITF_NS}}}caption").text == "Cap"


@pytest.mark.parametrize(
    ("fmt", "golden"), [("nitf", "tables-inline.xml"), ("json", "tables-inline.json")]
)
def test_tables_fixture_golden_outputs(fixtures_dir, plugins, nitf_schema, fmt, golden):
    from conftest import assert_golden

    data = (fixtures_dir / "nitf" / FIXTURE).read_bytes()
    document = read_bytes(data, FIXTURE, plugins=plugins).document
    out = export_document(document, fmt, plugins=plugins)
    expected = assert_golden(out, fixtures_dir / "golden" / golden, fmt)
    if fmt == "nitf":
        assert nitf_schema.validate(parse(expected)), str(nitf_schema.error_log)
    else:
        assert check_json(expected) == []


def test_the_article_exporter_names_what_it_cannot_write(fixtures_dir, plugins):
    data = (fixtures_dir / "nitf" / FIXTURE).read_bytes()
    document = read_bytes(data, FIXTURE, plugins=plugins).document
    (finding,) = plugins.exporters.get("article").dropped(document)
    assert finding.code == "CONTENT_DROPPED" and finding.path == FIXTURE
    assert "inline markup span(s)" in finding.message and "2 table(s)" in finding.message
    plain = Document(key="k", title="T", blocks=[Block("Text.")])
    assert plugins.exporters.get("article").dropped(plain) == []


_KINDS = [
    "paragraph",
    "list-item",
    "media-caption",
    "media-producer",
    "table-caption",
    "subheadline",
    "tagline",
    "bibliography",
]
_ELEMENTS = ["block", "ul", "ol", "bq", "media", "table", "x"]
_attributes = st.dictionaries(
    st.sampled_from(["class", "id", "xml:lang", "media-type", "seqnum", "nowrap"]),
    st.sampled_from(["a", "a b", "nowrap", "en", "", "1"]),
    max_size=3,
) | st.just([1])
_references = st.lists(
    st.dictionaries(
        st.sampled_from(["source", "width", "units", "bogus"]),
        st.sampled_from(["x.jpg", "100", "pixels", "1 0"]),
    ),
    max_size=2,
) | st.just([{"source": "a.png"}])


@st.composite
def structured(draw) -> Document:
    """Runs of block kinds, and container records over ranges of them (fitting or not)."""
    runs = draw(
        st.lists(
            st.tuples(st.sampled_from([*_KINDS, "table"]), st.integers(1, 3)),
            min_size=1,
            max_size=4,
        )
    )
    kinds = [kind for kind, count in runs for _ in range(count)]
    blocks = [
        Block.table([Row([Cell(f"c{i}", header=True), Cell("d")])])
        if kind == "table"
        else Block(f"text {i}", kind=kind, spans=[Span(0, 4, "chron")])
        for i, kind in enumerate(kinds)
    ]
    records = []
    for _ in range(draw(st.integers(0, 4))):
        first = draw(st.integers(-1, len(blocks)))
        last = draw(st.integers(first, len(blocks) + 1))
        records.append(
            {
                "element": draw(st.sampled_from(_ELEMENTS)),
                "blocks": draw(st.just([first, last]) | st.just("bad")),
                "attributes": draw(_attributes),
                "references": draw(_references),
            }
        )
    containers = {"containers": records}
    return Document(key="k", blocks=blocks, annotations={"nitf-reader": containers})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=structured())
def test_any_container_records_give_valid_nitf_keeping_every_text(nitf_schema, doc):
    """Reader records may be stale or hand-edited: the export stays valid and loses no text."""
    data = nitf_bytes(doc)
    assert data == nitf_tree_bytes(doc)
    root = parse(data)
    assert nitf_schema.validate(root), str(nitf_schema.error_log)
    body = root.find(f"{{{NITF_NS}}}body")
    written = "".join(body.itertext())
    for block in doc.blocks:
        for piece in block.text.replace("\t", "\n").split("\n"):
            assert piece in written


def test_block_records_nest_only_where_nitf_allows(nitf_schema):
    # As the reader records them: inner containers first (<bq><block><p> is block, then bq).
    records = [{"element": "block", "blocks": [0, 1]}] * 2 + [
        {"element": "block", "blocks": [1, 2]},
        {"element": "bq", "blocks": [1, 2]},
    ]
    doc = Document(
        key="k",
        blocks=[Block("a"), Block("b", kind="blockquote")],
        annotations={"nitf-reader": {"containers": records}},
    )
    root = parse(nitf_bytes(doc))
    assert nitf_schema.validate(root), str(nitf_schema.error_log)
    content = root.find(f"{{{NITF_NS}}}body/{{{NITF_NS}}}body.content")
    names = [etree.QName(e).localname for e in content.iterdescendants()]
    assert names == ["block", "p", "bq", "block", "p"]


def test_tagline_and_bibliography_go_to_body_end(nitf_schema, plugins):
    blocks = [
        Block("Body."),
        Block("By the desk.", kind="tagline"),
        Block("Sources.", kind="bibliography"),
    ]
    data = nitf_bytes(Document(key="k", blocks=blocks))
    root = parse(data)
    assert nitf_schema.validate(root), str(nitf_schema.error_log)
    end = root.find(f"{{{NITF_NS}}}body/{{{NITF_NS}}}body.end")
    assert [(etree.QName(e).localname, e.text) for e in end] == [
        ("tagline", "By the desk."),
        ("bibliography", "Sources."),
    ]
    again = read_bytes(data, "k.xml", plugins=plugins).document.blocks
    assert without_lines(again) == blocks
    # Alone, they stay paragraphs (with their kind as class): body.content needs them.
    alone = parse(nitf_bytes(Document(key="k", blocks=[Block("x", kind="tagline")])))
    assert alone.find(f".//{{{NITF_NS}}}body.end") is None


@pytest.mark.parametrize("name", ["inline-markup.xml"])
def test_subheadlines_under_the_headline_are_written_back(fixtures_dir, plugins, nitf_schema, name):
    """A hedline's hl2 (a deck) is in the exported NITF again, not only in the annotations."""
    data = (fixtures_dir / "nitf" / name).read_bytes()
    result = read_bytes(data, name, plugins=plugins, reader="nitf")
    decks = [e.text for e in parse(data).iterfind(".//{*}hedline/{*}hl2")]
    assert decks, name
    for out in (nitf_bytes(result.document), nitf_tree_bytes(result.document)):
        root = parse(out)
        assert nitf_schema.validate(root), str(nitf_schema.error_log)
        assert [e.text for e in root.iterfind(".//{*}hedline/{*}hl2")] == decks
        again = read_bytes(out, name, plugins=plugins, reader="nitf")
        assert again.document.annotations["nitf-reader"]["hl2"] == decks


def test_body_head_markup_that_no_longer_fits_is_reported(standards, plugins, nitf_schema):
    """A byline edited after reading loses its kept markup (byttl, person) with a warning."""
    data = (standards / "nitf" / "samples" / "nitf-fishing.xml").read_bytes()
    document = read_bytes(data, "fishing.xml", plugins=plugins, reader="nitf").document
    exporter = plugins.exporters.get("nitf")
    assert not exporter.dropped(document)
    edited = attrs.evolve(document, byline="By Someone Else")
    for out in (nitf_bytes(edited), nitf_tree_bytes(edited)):
        root = parse(out)
        assert nitf_schema.validate(root), str(nitf_schema.error_log)
        assert [e.text for e in root.iterfind(".//{*}byline")] == ["By Someone Else"]
        assert root.find(".//{*}byttl") is None
        assert root.find(".//{*}distributor/{*}org") is not None  # the rest is still written
    assert nitf_bytes(edited) == nitf_tree_bytes(edited)
    findings = exporter.dropped(edited)
    assert [f.code for f in findings] == ["CONTENT_DROPPED"]
    assert "<byline>" in findings[0].message
    assert findings[0].line == parse(data).find(".//{*}byline").sourceline
    # Something the reader kept that is not NITF is never written, and said so.
    reader = dict(document.annotations["nitf-reader"])
    reader["unmapped"] = [{"where": "body/body.head", "xml": '<x:odd xmlns:x="urn:x"/>'}]
    odd = attrs.evolve(document, annotations={**document.annotations, "nitf-reader": reader})
    assert nitf_schema.validate(parse(nitf_bytes(odd)))
    assert any("<x:odd> in body.head" in f.message for f in exporter.dropped(odd))


HEDLINE_WITH_ATTRIBUTES = b"""<?xml version="1.0" encoding="UTF-8"?>
<nitf><body>
  <body.head id="head" class="x">
    <hedline class="main">
      <hl1 id="headline" xml:lang="en">A <person>Pat</person> headline</hl1>
      <hl2 id="deck" style="s">The deck</hl2>
      <odd>not NITF here</odd>
    </hedline>
    <note id="deck"><body.content><p>A note</p></body.content></note>
  </body.head>
  <body.content><p>Text.</p></body.content>
</body></nitf>
"""


def test_hedline_and_body_head_attributes_are_written_back(plugins, nitf_schema):
    """hl1/hl2/hedline/body.head attributes and hl1 markup come back, schema-valid and the
    same from both writers; an id already used, a child NITF refuses and an edited headline
    are CONTENT_DROPPED warnings naming the element."""
    document = read_bytes(HEDLINE_WITH_ATTRIBUTES, "h.xml", plugins=plugins, reader="nitf").document
    exporter = plugins.exporters.get("nitf")
    out = nitf_bytes(document)
    assert out == nitf_tree_bytes(document)
    root = parse(out)
    assert nitf_schema.validate(root), str(nitf_schema.error_log)
    head = root.find(".//{*}body.head")
    assert dict(head.attrib) == {"id": "head"}  # class is not an attribute of body.head
    hedline = head.find("{*}hedline")
    assert dict(hedline.attrib) == {"class": "main"}
    hl1, hl2 = hedline.find("{*}hl1"), hedline.find("{*}hl2")
    assert hl1.get("id") == "headline" and hl1.find("{*}person").text == "Pat"
    assert hl1.get(f"{{{XML_NAMESPACE}}}lang") == "en"
    assert hl2.get("id") is None and hl2.get("style") == "s"  # the note's id="deck" came first
    assert root.find(".//{*}note").get("id") == "deck"
    assert root.find(".//{*}odd") is None
    messages = [f.message for f in exporter.dropped(document)]
    assert all(f.code == "CONTENT_DROPPED" for f in exporter.dropped(document))
    assert any("<body.head>" in m and "class" in m for m in messages), messages
    assert any("<hl2>" in m and "'deck'" in m for m in messages), messages
    assert any("<odd> in <hedline>" in m for m in messages), messages
    again = read_bytes(out, "h.xml", plugins=plugins, reader="nitf").document
    assert again.title == document.title == "A Pat headline"
    # Edited: the model's headline is written, plainly, and the loss is said.
    edited = attrs.evolve(document, title="Another headline")
    out = nitf_bytes(edited)
    assert out == nitf_tree_bytes(edited)
    root = parse(out)
    assert nitf_schema.validate(root), str(nitf_schema.error_log)
    assert root.find(".//{*}hl1").text == "Another headline"
    assert root.find(".//{*}hl1").get("id") is None
    findings = exporter.dropped(edited)
    assert any("<hedline>" in f.message and "changed" in f.message for f in findings)
    assert all(f.line == 4 for f in findings if "<hedline>" in f.message)


#: A schema with one ID attribute: the XSD's own judgement of what an id may be.
_ID_SCHEMA = etree.XMLSchema(
    etree.fromstring(
        b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="x">'
        b'<xs:complexType><xs:attribute name="id" type="xs:ID"/></xs:complexType>'
        b"</xs:element></xs:schema>"
    )
)


def is_xml_id(value: str) -> bool:
    element = etree.Element("x")
    element.set("id", value)
    return _ID_SCHEMA.validate(element)


_attribute_values = st.one_of(line_text(max_size=12), st.sampled_from(["a", "a b", "_x.1", "1x"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    head=st.dictionaries(st.sampled_from(["id", "class"]), _attribute_values, max_size=2),
    hl1=st.dictionaries(st.sampled_from(["id", "class", "style"]), _attribute_values),
    hl2=st.lists(st.dictionaries(st.sampled_from(["id", "class"]), _attribute_values), max_size=2),
    title=line_text(max_size=20),
)
def test_any_hedline_attributes_give_the_same_valid_nitf_from_both_writers(
    nitf_schema, head, hl1, hl2, title
):
    from corpus.plugins import Plugins, PluginSpec

    plugins = Plugins(PluginSpec(entry_points=False))
    nitf = etree.Element("nitf")
    body = etree.SubElement(nitf, "body")
    hedline = etree.SubElement(etree.SubElement(body, "body.head", head), "hedline")
    etree.SubElement(hedline, "hl1", hl1).text = title
    for number, attributes in enumerate(hl2):
        etree.SubElement(hedline, "hl2", attributes).text = f"Deck {number}"
    etree.SubElement(etree.SubElement(body, "body.content"), "p").text = "Text."
    result = read_bytes(etree.tostring(nitf), "h.xml", plugins=plugins, reader="nitf")
    data = nitf_bytes(result.document)
    assert data == nitf_tree_bytes(result.document)
    root = parse(data)
    assert nitf_schema.validate(root), str(nitf_schema.error_log)
    ids = [e.get("id") for e in root.iter() if e.get("id") is not None]
    assert len(ids) == len(set(ids))
    written = root.find(".//{*}hl1")
    assert written.get("class") == hl1.get("class") and written.get("style") == hl1.get("style")
    lost = plugins.exporters.get("nitf").dropped(result.document)
    if "id" in hl1 and hl1["id"] != head.get("id") and is_xml_id(hl1["id"]):
        assert written.get("id") == hl1["id"]
    elif "id" in hl1:
        assert written.get("id") is None
        assert any("<hl1>" in f.message for f in lost)


def test_body_head_with_only_an_id_keeps_it(plugins, nitf_schema):
    data = b'<nitf><body><body.head id="h"/><body.content><p>Text.</p></body.content></body></nitf>'
    document = read_bytes(data, "h.xml", plugins=plugins, reader="nitf").document
    out = nitf_bytes(document)
    assert out == nitf_tree_bytes(document)
    root = parse(out)
    assert nitf_schema.validate(root), str(nitf_schema.error_log)
    assert root.find(".//{*}body.head").get("id") == "h"

"""The NITF reader: official samples (golden JSON), hand-made inputs, safety, sniffing."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from corpus.errors import InputRejected
from corpus.model import document_to_dict
from corpus.pipeline import read_bytes
from corpus.readers.nitf import inline_text, parse_norm, root_name, sniff_nitf
from corpus.safexml import parse_untrusted, safe_parser

GOLDEN = Path(__file__).resolve().parent.parent / "fixtures" / "golden" / "nitf-samples"
#: Set to 1 to rewrite the golden files from the current reader (then review the diff).
UPDATE = os.environ.get("CORPUS_UPDATE_GOLDEN") == "1"


def sample_paths(standards: Path) -> list[Path]:
    return sorted((standards / "nitf" / "samples").glob("*.xml")) + sorted(
        (standards / "newsml-g2" / "samples").glob("*.xml")
    )


def read_sample(path: Path, plugins):
    return read_bytes(path.read_bytes(), path.name, plugins=plugins)


def test_every_official_sample_matches_its_golden_json(standards, plugins):
    paths = sample_paths(standards)
    assert len(paths) >= 7
    for path in paths:
        result = read_sample(path, plugins)
        assert result.document.blocks, path.name
        actual = {
            "document": document_to_dict(result.document),
            "findings": [f.to_dict() for f in result.findings],
        }
        golden = GOLDEN / (path.stem + ".json")
        if UPDATE:
            GOLDEN.mkdir(parents=True, exist_ok=True)
            golden.write_text(json.dumps(actual, ensure_ascii=False, indent=2) + "\n", "utf-8")
        assert golden.is_file(), f"no golden file for {path.name}; run with CORPUS_UPDATE_GOLDEN=1"
        assert actual == json.loads(golden.read_text("utf-8")), path.name


def test_samples_are_read_by_the_nitf_reader_when_chosen_by_extension(standards, plugins):
    for path in sample_paths(standards):
        assert plugins.readers.for_path(path.name, path.read_bytes()[:512]).name == "nitf"


def test_fishing_sample_maps_fields_and_keeps_the_rest(standards, plugins):
    doc = read_sample(standards / "nitf" / "samples" / "nitf-fishing.xml", plugins).document
    assert doc.title == "Weather and Tide Updates for Norfolk"
    assert doc.issued == dt.datetime(
        2002, 2, 25, 14, 30, tzinfo=dt.timezone(-dt.timedelta(hours=5))
    )
    assert doc.date == dt.date(2002, 2, 25)
    assert doc.byline == "By Alan Karben"
    assert doc.dateline == "Newport News, VA"
    assert doc.keywords == ("fishing", "lures", "tides")
    assert doc.urgency == 3
    caption, producer, first = doc.blocks[:3]
    assert (caption.kind, producer.kind) == ("media-caption", "media-producer")
    assert producer.text == "Karben"
    (org,) = first.spans
    assert first.text[org.start : org.end] == "Acme Boat Company"
    assert (org.kind, org.attributes) == ("org", {"value": "acm", "idsrc": "iptc.org"})
    kinds = [b.kind for b in doc.blocks]
    assert kinds.count("list-item") == 3 and "subheadline" in kinds
    kept = doc.annotations["nitf-reader"]
    assert kept["hl2"] == ["A sample, fictitious NITF article"]
    assert kept["head_title"] == "Norfolk Weather and Tide Updates"
    assert kept["byline_titles"] == ["NITF Network News Online"]
    unmapped = "".join(item["xml"] for item in kept["unmapped"])
    for element in ("<tobject", "<revision-history", "<evloc"):
        assert element in unmapped
    assert (doc.blocks[-1].kind, doc.blocks[-1].text) == (
        "tagline",
        "Stewart Klometers contributed to this article.",
    )
    (media,) = [c for c in kept["containers"] if c["element"] == "media"]
    assert media["references"][0]["source"] == "high-tide.jpg"
    assert media["blocks"] == [0, 2]


@pytest.mark.parametrize(
    ("norm", "day", "stamp"),
    [
        ("2021-05-16T09:00:04", dt.date(2021, 5, 16), dt.datetime(2021, 5, 16, 9, 0, 4)),
        (
            "20151210T191044Z",
            dt.date(2015, 12, 10),
            dt.datetime(2015, 12, 10, 19, 10, 44, tzinfo=dt.timezone.utc),
        ),
        (
            "20170102T222800+0000",
            dt.date(2017, 1, 2),
            dt.datetime(2017, 1, 2, 22, 28, tzinfo=dt.timezone.utc),
        ),
        (
            "20020225T143000-0500",
            dt.date(2002, 2, 25),
            dt.datetime(2002, 2, 25, 14, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        ),
        (
            "2016-10-19T11:15:00-05:00",
            dt.date(2016, 10, 19),
            dt.datetime(2016, 10, 19, 11, 15, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        ),
        ("20020225", dt.date(2002, 2, 25), None),
        ("2022-02-26", dt.date(2022, 2, 26), None),
        ("20220226T000000+0000", dt.date(2022, 2, 26), None),  # what the exporter writes for a day
    ],
)
def test_parse_norm_reads_every_form_seen(norm, day, stamp):
    assert parse_norm(norm) == (day, stamp)


@pytest.mark.parametrize("norm", ["", "yesterday", "20021345T000000", "2002-02-30", "20020225T1"])
def test_parse_norm_refuses_what_is_not_a_date(norm):
    assert parse_norm(norm) is None


def test_bad_date_is_a_warning_and_kept(plugins):
    data = (
        b"<nitf><head><docdata><date.issue norm='next Tuesday'/></docdata></head>"
        b"<body><body.content><p>Text.</p></body.content></body></nitf>"
    )
    result = read_bytes(data, "bad-date.xml", plugins=plugins)
    assert [f.code for f in result.findings] == ["NITF_BAD_DATE", "NITF_NO_TITLE"]
    assert result.document.date is None
    assert result.document.annotations["nitf-reader"]["date_issue"] == "next Tuesday"


def test_inline_markup_fixture(fixtures_dir, plugins):
    path = fixtures_dir / "nitf" / "inline-markup.xml"
    doc = read_bytes(path.read_bytes(), path.name, plugins=plugins).document
    assert doc.language == "en"
    assert doc.abstract == "First abstract paragraph.\n\nSecond one."
    assert doc.byline == "By Ada Lovelace"  # the comma before byttl is a separator
    assert doc.dateline == "LONDON, March 1"
    first, link, preserved, crosshead, lead, table = doc.blocks
    assert table.kind == "table" and table.rows[0].cells[0].text == "kept as XML"
    marked = {s.kind: first.text[s.start : s.end] for s in first.spans}
    assert marked == {
        "person": "Ada",
        "org": "Acme Corp",
        "location": "Paris",
        "quote": "hello   there",  # runs of plain spaces are text
        "emphasis": "twice",
    }
    assert "Paris and said" in first.text  # the line break between them is layout
    href = {s.kind: s.attributes for s in link.spans}["link"]["href"]
    assert href == "https://example.org/a?b=1&c=2"
    assert {s.kind for s in link.spans} == {"link", "chron"}
    assert preserved.text == "Kept  exactly:\ntwo lines."
    assert (crosshead.kind, lead.kind) == ("subheadline", "lead")
    assert "unmapped" not in doc.annotations["nitf-reader"]  # the table is in the model now


def test_latin1_bytes_are_decoded_by_their_declaration(fixtures_dir, plugins):
    path = fixtures_dir / "nitf" / "latin1.xml"
    result = read_bytes(path.read_bytes(), path.name, plugins=plugins)
    assert result.findings == ()
    assert result.document.title == "Président à Zürich"
    assert result.document.blocks[0].text == "Le prix: £ 5, café crème."
    assert result.document.source.encoding == "iso-8859-1"


def test_undeclared_windows_1252_is_read_with_a_warning(fixtures_dir, plugins):
    path = fixtures_dir / "nitf" / "undeclared-cp1252.xml"
    result = read_bytes(path.read_bytes(), path.name, plugins=plugins)
    assert [f.code for f in result.findings] == ["NITF_ENCODING_GUESSED"]
    assert "“quoted” € 5." in result.document.blocks[0].text


def test_external_dtd_is_never_loaded(fixtures_dir, plugins):
    path = fixtures_dir / "nitf" / "external-dtd.xml"
    result = read_bytes(path.read_bytes(), path.name, plugins=plugins)
    block = result.document.blocks[0]
    assert block.kind == "paragraph"  # the DTD's default class="from-dtd" never applied
    assert "LEAKED" not in block.text and "&secret;" in block.text
    assert "Named\u00a0entities" in block.text  # a known HTML entity name becomes its character
    assert [f.code for f in result.findings] == ["NITF_UNKNOWN_ENTITY"]


def test_safe_parser_ignores_a_dtd_an_unsafe_parser_would_load(fixtures_dir):
    path = fixtures_dir / "nitf" / "external-dtd.xml"
    unsafe = etree.XMLParser(load_dtd=True, attribute_defaults=True, resolve_entities=True)
    loaded = etree.fromstring(path.read_bytes(), unsafe, base_url=str(path))
    assert loaded.find(".//p").get("class") == "from-dtd"  # the fixture does what it claims
    safe = etree.fromstring(path.read_bytes(), safe_parser(), base_url=str(path))
    assert safe.find(".//p").get("class") is None
    assert "LEAKED" not in etree.tostring(safe, encoding="unicode")
    assert "LEAKED" in etree.tostring(loaded, encoding="unicode")


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("xxe.xml", "XML_EXTERNAL_ENTITY"),
        ("billion-laughs.xml", "XML_ENTITY_DECLARED"),
        ("control-char.xml", "XML_MALFORMED"),
        ("truncated.xml", "XML_MALFORMED"),
        ("not-nitf.xml", "NITF_NOT_FOUND"),
    ],
)
def test_bad_inputs_are_rejected_with_a_code(fixtures_dir, plugins, name, code):
    data = (fixtures_dir / "nitf" / name).read_bytes()
    with pytest.raises(InputRejected) as info:
        read_bytes(data, name, plugins=plugins, reader="nitf")
    assert info.value.code == code
    assert info.value.path == name and info.value.line is not None


def test_xxe_file_content_never_appears(fixtures_dir):
    with pytest.raises(InputRejected) as info:
        parse_untrusted((fixtures_dir / "nitf" / "xxe.xml").read_bytes())
    assert "root:" not in str(info.value)


def test_parameter_entities_and_utf16_declarations_are_refused():
    pe = (
        b'<!DOCTYPE nitf [<!ENTITY % remote SYSTEM "http://example.invalid/x.dtd"> %remote;]>'
        b"<nitf/>"
    )
    with pytest.raises(InputRejected) as info:
        parse_untrusted(pe)
    assert info.value.code == "XML_EXTERNAL_ENTITY"
    utf16 = '<!DOCTYPE nitf [<!ENTITY a "aaaa">]><nitf>&a;</nitf>'.encode("utf-16")
    with pytest.raises(InputRejected) as info:
        parse_untrusted(utf16)
    assert info.value.code == "XML_ENTITY_DECLARED"


def test_empty_and_contentless_files_are_rejected(plugins):
    for data, code in [(b"  \n", "XML_EMPTY"), (b"<nitf><head/></nitf>", "NITF_EMPTY")]:
        with pytest.raises(InputRejected) as info:
            read_bytes(data, "x.xml", plugins=plugins, reader="nitf")
        assert info.value.code == code


def test_safe_parser_settings():
    parser = safe_parser()
    data = b'<!DOCTYPE x SYSTEM "http://example.invalid/x.dtd"><x>&ent;</x>'
    root = etree.fromstring(data, parser)  # no fetch, no failure on the undefined entity
    assert isinstance(root[0], etree._Entity)


@pytest.mark.parametrize(
    ("head", "name", "nitf"),
    [
        (b'<?xml version="1.0"?>\n<!-- c --><!DOCTYPE nitf SYSTEM "x.dtd">\n<nitf>', "nitf", True),
        (b'<n:nitf xmlns:n="http://iptc.org/std/NITF/2006-10-18/">', "nitf", True),
        (
            b'<?xml version="1.0"?><newsItem xmlns="http://iptc.org/std/nar/2006-10-01/"',
            "newsItem",
            True,
        ),
        ('<?xml version="1.0"?><nitf>'.encode("utf-16"), "nitf", True),
        (b'<?xml version="1.0"?><rss version="2.0">', "rss", False),
        (b'{"key": "x"}', None, False),
    ],
)
def test_sniff(head, name, nitf):
    assert root_name(head) == name
    assert sniff_nitf(head) is nitf


def test_formats_lists_the_reader_and_exporters(run_cli):
    result = run_cli("formats", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    text = json.dumps(data)
    for name in ('"nitf"', '"newsml"', '"ninjs"', '"ninjs2"', '".nitf"'):
        assert name in text


_TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="<>&"), max_size=30
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_TEXT, st.sampled_from(["", "em", "person", "q"])), max_size=6))
def test_pretty_printing_never_moves_span_text(pieces):
    """Layout white space (line breaks, tabs) collapses; spans still cover the same words."""
    xml = "<p>"
    for text, tag in pieces:
        body = text.replace(" ", "\n\t ")
        xml += f"<{tag}>{body}</{tag}>" if tag else body
    element = etree.fromstring((xml + "</p>").encode("utf-8"), safe_parser())
    text, spans, _ = inline_text(element)
    assert "\n" not in text and "\t" not in text
    marked = [t for t, tag in pieces if tag]
    for span, original in zip(spans, marked, strict=True):
        words = original.split()
        assert text[span.start : span.end].split() == words


def test_non_finite_numbers_in_corpus_annotations_are_a_warning_not_a_failed_export(plugins):
    from corpus.config import Config
    from corpus.pipeline import process_data

    nitf = (
        b'<nitf><head><title>T</title><meta name="corpus-annotations" content=\'{"x": 1e999}\'/>'
        b"</head><body><body.content><p>Body text.</p></body.content></body></nitf>"
    )
    result = process_data(nitf, "a.xml", plugins=plugins, config=Config(), formats=("json",))
    assert "NITF_BAD_ANNOTATIONS" in [f.code for f in result.findings]
    assert "json" in result.outputs

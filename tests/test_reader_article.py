"""The delimited article reader and writer, feature by feature (spec: docs/format.md)."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from pathlib import Path

import pytest

from corpus.errors import InputRejected
from corpus.model import Severity
from corpus.readers.article import (
    ArticleExporter,
    ArticleReader,
    block_kind,
    byline_of,
    parse_date,
    split_header,
    split_paragraphs,
    write_article,
)

READER = ArticleReader()


def read(data: bytes | str, path: str = "a.txt"):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return READER.read(data, path=path, key="a")


def codes(result) -> list[str]:
    return [f.code for f in result.findings]


@pytest.fixture
def articles(fixtures_dir: Path) -> Path:
    return fixtures_dir / "articles"


def load(articles: Path, name: str):
    path = articles / name
    return READER.read(path.read_bytes(), path=name, key=name.rsplit(".", 1)[0])


# --- the seed -------------------------------------------------------------------------------


def test_seed_fixture_is_the_verbatim_seed(articles: Path):
    data = (articles / "seed.txt").read_bytes()
    assert data.startswith(b" date 2022-02-26 The Russian flag")
    assert not data.endswith(b"\n")
    assert "Russia’s".encode() in data


def test_seed(articles: Path):
    result = load(articles, "seed.txt")
    doc = result.document
    assert result.findings == ()
    assert doc.key == "seed"
    assert doc.date == dt.date(2022, 2, 26)
    assert doc.title == "The Russian flag flies on the State Duma building in Moscow"
    assert doc.byline is None
    assert len(doc.blocks) == 13
    assert doc.blocks[0].text.startswith("Russia’s invasion of Ukraine is proving")
    assert (doc.blocks[0].line_start, doc.blocks[0].line_end) == (3, 3)
    assert doc.blocks[-1].text.endswith("for “unprofessionalism”.")
    assert (doc.blocks[-1].line_start, doc.blocks[-1].line_end) == (27, 27)
    assert {b.kind for b in doc.blocks} == {"paragraph"}
    raw = (articles / "seed.txt").read_bytes()
    assert doc.source.sha256 == hashlib.sha256(raw).hexdigest()
    assert (doc.source.encoding, doc.source.size, doc.source.format) == (
        "utf-8",
        len(raw),
        "article",
    )
    assert doc.source.path == "seed.txt"
    assert doc.annotations["article"] == {"layout": "header", "title_line": 1}


# --- layouts --------------------------------------------------------------------------------


def test_headline_first_layout(articles: Path):
    result = load(articles, "layout/headline_first.txt")
    doc = result.document
    assert doc.title == "EU leaders agree energy price cap"
    assert doc.date is None
    assert [b.line_start for b in doc.blocks] == [3, 5, 7]
    (finding,) = result.findings
    assert (finding.code, finding.severity, finding.line) == ("DATE_MISSING", Severity.WARNING, 1)
    assert doc.annotations["article"]["layout"] == "headline-first"


def test_single_newline_separated_paragraphs(articles: Path):
    doc = load(articles, "layout/single_newline.txt").document
    assert [(b.line_start, b.line_end) for b in doc.blocks] == [(2, 2), (3, 3), (4, 4), (5, 5)]
    assert doc.blocks[2].text == "Officials said the cap would be reviewed in the autumn."


def test_hard_wrapped_paragraphs_are_joined(articles: Path):
    doc = load(articles, "layout/hard_wrapped.txt").document
    assert len(doc.blocks) == 2
    first = doc.blocks[0]
    assert (first.line_start, first.line_end) == (3, 5)
    assert first.text == (
        "Ministers met in Brussels on Friday to agree the next steps on energy prices, after "
        "weeks of talks between the member states and a long-running dispute over how the cap "
        "should be calculated."
    )
    assert doc.blocks[1].text.endswith(
        "parliaments, would cap wholesale gas prices for six months."
    )


def test_wrapped_block_breaks_after_a_short_sentence_final_line():
    block = [
        (1, "The first paragraph is wrapped at about sixty characters so"),
        (2, "that it spans two lines of text."),
        (3, "A second paragraph follows on the next line without a gap"),
        (4, "and ends here."),
    ]
    paragraphs = split_paragraphs(block)
    assert [(p.line_start, p.line_end) for p in paragraphs] == [(1, 2), (3, 4)]
    assert paragraphs[0].text.endswith("so that it spans two lines of text.")


def test_full_width_sentence_end_inside_a_wrapped_paragraph_is_a_soft_wrap():
    block = [
        (1, "One sentence ends exactly at the wrap margin of this block."),
        (2, "Then the text goes on and on across several more lines so"),
        (3, "that it stops here."),
    ]
    assert [p.text for p in split_paragraphs(block)] == [
        "One sentence ends exactly at the wrap margin of this block. Then the text goes on and "
        "on across several more lines so that it stops here."
    ]


def test_short_sentence_lines_are_separate_paragraphs_not_wrapped_prose():
    block = [(1, "Police said the man was arrested."), (2, "He will appear in court on Monday.")]
    assert [(p.text, p.line_start) for p in split_paragraphs(block)] == [
        ("Police said the man was arrested.", 1),
        ("He will appear in court on Monday.", 2),
    ]


@pytest.mark.parametrize(
    "marker", ["* ", "** ", "# ", "- ", "\u2022 ", "\u2013 ", "1. ", "2) ", "(a) "]
)
def test_a_list_is_one_paragraph_per_line_whatever_its_widths(marker):
    items = ["Alice Morgan (Labour)", "Brian Patel (Conservative)", "Carla Nunes (Green)"]
    short = [(1, "Candidates:")] + [(k + 2, marker + item) for k, item in enumerate(items)]
    # The same list with one item grown past the wrap width reads the same way.
    long_item = marker + items[1] + ", a former councillor" * 5
    grown = [*short[:2], (3, long_item), short[3]]
    assert [p.text for p in split_paragraphs(short)] == ["Candidates:"] + [
        marker + item for item in items
    ]
    assert [p.line_start for p in split_paragraphs(grown)] == [1, 2, 3, 4]


def test_one_item_per_line_text_is_lines_in_every_version():
    results = ["Arsenal 2 Chelsea 1", "Everton 0 Leeds 0", "Fulham 3 Brentford 2"]
    block = [(k + 1, line) for k, line in enumerate(results)]
    assert [p.text for p in split_paragraphs(block)] == results
    grown = [*block[:2], (3, "Fulham 3 Brentford 2 (abandoned after 80 minutes, result stands)")]
    assert [p.line_start for p in split_paragraphs(grown)] == [1, 2, 3]


def test_one_dash_in_wrapped_prose_is_no_list():
    block = [(1, "The plan, which was wrapped at sixty characters"), (2, "- and redone - passed.")]
    assert len(split_paragraphs(block)) == 1


def test_byline(articles: Path):
    result = load(articles, "layout/byline.txt")
    doc = result.document
    assert doc.byline == "AFP"
    assert doc.blocks[0].text.startswith("Ministers met")
    assert doc.annotations["article"]["byline_line"] == 3
    assert codes(result) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("By  AFP", "AFP"),
        ("By Jane Doe and John Smith", "Jane Doe and John Smith"),
        ("BY JANE DOE, BBC News", "JANE DOE, BBC News"),
        ("By Ludwig van Beethoven", "Ludwig van Beethoven"),
        ("By Thursday, troops had reached the outskirts of the city.", None),
        ("By voting for the bill, MPs backed the war", None),
        ("Bypass closed", None),
        ("By", None),
        ("“By voting to recognise”", None),
    ],
)
def test_byline_recognition(text, name):
    assert byline_of(text) == name


def test_byline_after_the_window_stays_a_paragraph():
    doc = read("date 2022-01-01 T\n\nA.\n\nB.\n\nC.\n\nBy  AFP\n").document
    assert doc.byline is None
    assert doc.blocks[-1].text == "By  AFP"


def test_empty_title(articles: Path):
    result = load(articles, "layout/empty_title.txt")
    assert result.document.title == ""
    assert result.document.date == dt.date(2022, 2, 26)
    assert codes(result) == []  # MISSING_TITLE comes from the validators, for every format
    assert result.document.blocks[0].text.startswith("Ministers met")


def test_blank_lines_trailing_space_and_no_final_newline(articles: Path):
    result = load(articles, "layout/blank_lines.txt")
    doc = result.document
    assert codes(result) == []
    assert doc.title == "Several blank lines"
    assert [b.line_start for b in doc.blocks] == [7, 12, 18]
    assert doc.blocks[0].text.endswith("energy prices.")
    assert doc.blocks[2].text == "“This is a fair compromise,” one diplomat said."


def test_non_body_blocks_are_kept_with_a_kind(articles: Path):
    doc = load(articles, "layout/meta_blocks.txt").document
    assert [(b.kind, b.text.split(",")[0].split(":")[0]) for b in doc.blocks] == [
        ("timestamp", "Published"),
        ("credit", "Image source"),
        ("caption", "Image caption"),
        (
            "paragraph",
            "Ministers met in Brussels on Friday to agree the next steps on energy prices.",
        ),
        ("credit", "(Photo by Jane Doe/AFP)"),
        ("paragraph", "The proposal"),
    ]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Published: 26 February 2022 | Updated: 27 February 2022", "timestamp"),
        ("Updated 3 hours ago", "timestamp"),
        ("Last updated: 1 March", "timestamp"),
        ("Updated figures show the economy shrank.", "paragraph"),
        ("Photo: AFP", "credit"),
        ("Image source, Getty Images", "credit"),
        ("© Reuters", "credit"),
        ("Image caption, Police in Moscow", "caption"),
        ("Pictures of the protest were shared widely on social media.", "paragraph"),
        ("Published: " + "x" * 300, "paragraph"),
    ],
)
def test_block_kinds(text, kind):
    assert block_kind(text) == kind


def test_header_and_body_without_a_blank_line_between():
    doc = read(" date 2022-02-26 Title\nFirst paragraph.\n\nSecond.").document
    assert doc.title == "Title"
    assert [(b.text, b.line_start) for b in doc.blocks] == [("First paragraph.", 2), ("Second.", 4)]


def test_leading_blank_lines_and_white_space_before_the_header():
    doc = read("\n \n\t  date 2022-02-26 Title\n\nBody.").document
    assert (doc.title, doc.date) == ("Title", dt.date(2022, 2, 26))
    assert doc.annotations["article"]["title_line"] == 3
    assert doc.blocks[0].line_start == 5


def test_a_headline_starting_with_a_capital_date_is_not_a_header():
    result = read("Date night ideas for February\n\nBody.")
    assert result.document.title == "Date night ideas for February"
    assert codes(result) == ["DATE_MISSING"]


# --- line endings, encodings, languages -----------------------------------------------------


@pytest.mark.parametrize("name", ["encoding/crlf.txt", "encoding/cr.txt", "encoding/utf8_bom.txt"])
def test_line_endings_and_bom_read_like_plain_utf8(articles: Path, name: str):
    result = load(articles, name)
    doc = result.document
    assert codes(result) == []
    assert doc.title == "Talks resume"
    assert [(b.line_start, b.line_end) for b in doc.blocks] == [(3, 3), (5, 5)]
    assert all("\r" not in b.text and "\ufeff" not in b.text for b in doc.blocks)
    assert doc.source.encoding == ("utf-8-sig" if "bom" in name else "utf-8")


def test_utf16_with_bom(articles: Path):
    result = load(articles, "encoding/utf16_bom.txt")
    assert result.document.title == "Talks resume"
    assert result.document.source.encoding == "utf-16"
    assert [(f.code, f.severity) for f in result.findings] == [("ENCODING_UTF16", Severity.INFO)]


def test_latin1_bbc_file(articles: Path):
    result = load(articles, "encoding/latin1_bbc.txt")
    doc = result.document
    assert doc.title == "UK house prices rise by £5,000"
    assert "café owner" in doc.blocks[1].text
    assert doc.source.encoding == "iso-8859-1"
    assert codes(result) == ["ENCODING_FALLBACK", "DATE_MISSING"]
    assert "iso-8859-1" in result.findings[0].message


def test_windows_1252_curly_quotes(articles: Path):
    result = load(articles, "encoding/cp1252_quotes.txt")
    assert result.document.title == "Minister ‘shocked’ by report"
    assert result.document.blocks[0].text == (
        "“We are shocked,” the minister said – and promised an inquiry…"
    )
    assert result.document.source.encoding == "windows-1252"
    assert codes(result) == ["ENCODING_FALLBACK"]


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("language/malayalam.txt", "തിരുവനന്തപുരം"),
        ("language/malayalam.txt", "ക്\u200cലാസ്"),  # ZWNJ kept, and not reported
        ("language/tamil.txt", "சென்னை"),
        ("language/albanian.txt", "çmimet e energjisë"),
    ],
)
def test_non_english_text_is_kept_exactly(articles: Path, name: str, needle: str):
    result = load(articles, name)
    raw = (articles / name).read_text(encoding="utf-8")
    assert needle in result.document.body_text
    assert result.document.body_text in raw
    assert codes(result) == []


def test_nbsp_inside_text_is_kept_and_nbsp_lines_are_blank(articles: Path):
    doc = load(articles, "language/nbsp.txt").document
    assert doc.title == "Prices\u00a0rise again"
    assert [b.text for b in doc.blocks] == [
        "Inflation reached 5.5\u00a0% in January, the statistics office said.",
        "Economists had expected 5.2\u00a0%.",
    ]


def test_xml_forbidden_characters_never_reach_the_document():
    result = read(
        " date 2022-02-26 Ti\x01tle\n\nBo\x0bdy \ud800 and \uffff.".encode("utf-8", "surrogatepass")
    )
    doc = result.document
    assert doc.title == "Title"
    assert doc.blocks[0].text == "Bo dy \ufffd and \ufffd."
    assert sorted(codes(result)) == ["CONTROL_CHARACTER", "INVALID_CHARACTER"]
    assert {f.line for f in result.findings} == {1, 3}


# --- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "date", "code", "severity"),
    [
        ("2022-02-26", dt.date(2022, 2, 26), None, None),
        ("2022-02-30", None, "DATE_INVALID", Severity.WARNING),
        ("2022-13-01", None, "DATE_INVALID", Severity.WARNING),
        ("0000-01-01", None, "DATE_INVALID", Severity.WARNING),
        ("9999-12-31", None, "DATE_IMPLAUSIBLE", Severity.WARNING),
        ("1066-10-14", None, "DATE_IMPLAUSIBLE", Severity.WARNING),
        ("2022-2-6", dt.date(2022, 2, 6), "DATE_NONSTANDARD", Severity.WARNING),
        ("2022/02/26", dt.date(2022, 2, 26), "DATE_NONSTANDARD", Severity.WARNING),
        ("20220226", dt.date(2022, 2, 26), "DATE_NONSTANDARD", Severity.WARNING),
        ("20220230", None, "DATE_INVALID", Severity.WARNING),
        ("26/02/2022", None, "DATE_MALFORMED", Severity.WARNING),
        ("2022-02-26x", None, "DATE_MALFORMED", Severity.WARNING),
        ("2022", None, "DATE_MALFORMED", Severity.WARNING),
        ("2022-02-26T14:30:00+01:00", dt.date(2022, 2, 26), "DATE_WITH_TIME", Severity.INFO),
        ("2022-02-26T14:30Z", dt.date(2022, 2, 26), "DATE_WITH_TIME", Severity.INFO),
        ("2022-02-26T25:30Z", dt.date(2022, 2, 26), "DATE_INVALID", Severity.WARNING),
        ("2022-02-26T10:30+25:00", dt.date(2022, 2, 26), "DATE_INVALID", Severity.WARNING),
    ],
)
def test_date_table(raw, date, code, severity):
    value = parse_date(raw)
    assert value.date == date
    assert value.code == code
    if code:
        assert value.severity == severity
        assert raw in value.message


def test_slash_date_message_suggests_the_iso_form():
    assert "2022-02-26" in parse_date("26/02/2022").message


def test_date_with_time_and_zone_sets_issued():
    doc = read(" date 2022-02-26T14:30:00+01:00 T\n\nBody.").document
    assert doc.date == dt.date(2022, 2, 26)
    assert doc.issued == dt.datetime(2022, 2, 26, 14, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert doc.annotations["article"]["raw_date"] == "2022-02-26T14:30:00+01:00"


def test_unparseable_date_is_kept_in_annotations():
    result = read(" date 26/02/2022 Title\n\nBody.")
    assert result.document.date is None
    assert result.document.title == "Title"
    assert result.document.annotations["article"]["raw_date"] == "26/02/2022"
    (finding,) = result.findings
    assert (finding.code, finding.line, finding.path) == ("DATE_MALFORMED", 1, "a.txt")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("date 2022-02-26 Title here", ("2022-02-26", "Title here")),
        ("date 2022-02-26", ("2022-02-26", "")),
        ("date", (None, "")),
        ("date   Title only", (None, "Title only")),
        ("date\t2022-02-26\tTab title", ("2022-02-26", "Tab title")),
        ("dated 2022", None),
        ("Date 2022-02-26 x", None),
        ("The date 2022-02-26", None),
    ],
)
def test_split_header(line, expected):
    assert split_header(line) == expected


# --- rejections -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "EMPTY_FILE"),
        (b" \n\t\r\n", "EMPTY_FILE"),
        (b" date 2022-02-26 Only a header\n", "NO_BODY"),
        (b"Only a headline", "NO_BODY"),
        (b"Headline\n\nPhoto: AFP\n", "NO_BODY"),
        (b"\x89PNG\r\n\x1a\n....", "BINARY_DATA"),
        (b"text\x00more", "BINARY_DATA"),
    ],
)
def test_rejections_are_coded_and_located(data, code):
    with pytest.raises(InputRejected) as info:
        read(data, path="bad.txt")
    assert info.value.code == code
    assert info.value.path == "bad.txt"
    assert info.value.message


# --- the writer -----------------------------------------------------------------------------


def test_writer_output_reads_back_as_the_seed(articles: Path):
    doc = load(articles, "seed.txt").document
    text = write_article(doc)
    assert text.startswith("date 2022-02-26 The Russian flag flies")
    assert text.endswith("“unprofessionalism”.\n")
    again = read(text).document
    assert (again.title, again.date, again.byline) == (doc.title, doc.date, doc.byline)
    assert [b.text for b in again.blocks] == [b.text for b in doc.blocks]


def test_writer_layouts():
    doc = read("Headline\n\nBy  AFP\n\nBody one.\n\nBody two.").document
    assert write_article(doc) == "Headline\n\nBy AFP\n\nBody one.\n\nBody two.\n"
    undated = read("date\n\nBody.").document
    assert write_article(undated) == "date\n\nBody.\n"
    timed = read("date 2022-02-26T14:30:00+01:00 T\n\nBody.").document
    assert write_article(timed).startswith("date 2022-02-26T14:30:00+01:00 T\n")


def test_exporter_writes_utf8_bytes(articles: Path):
    doc = load(articles, "language/tamil.txt").document
    data = ArticleExporter().export(doc)
    assert data.decode("utf-8") == write_article(doc)
    assert ArticleExporter.extension == ".txt"


def test_registered_as_built_in_plugin(plugins):
    reader = plugins.readers.get("article")
    assert isinstance(reader, ArticleReader)
    assert ".txt" in reader.extensions
    assert plugins.readers.owner("article") == "article"
    assert isinstance(plugins.exporters.get("article"), ArticleExporter)
    assert plugins.readers.for_path("x/y.txt").name == "article"


def test_reader_sniff_refuses_binary_heads():
    assert READER.sniff(b" date 2022-02-26 x")
    assert not READER.sniff(b"%PDF-1.4")


# --- size and speed -------------------------------------------------------------------------


def test_one_20mb_line_is_read_in_linear_time():
    body = ("word " * 4_000_000).encode()  # 20 MB, one line
    start = time.perf_counter()
    doc = read(b" date 2022-02-26 Big\n\n" + body).document
    elapsed = time.perf_counter() - start
    assert len(doc.blocks) == 1
    assert len(doc.blocks[0].text) == len(body) - 1
    assert elapsed < 10, f"20 MB line took {elapsed:.1f}s"
    with pytest.raises(InputRejected) as info:
        read(body)
    assert info.value.code == "NO_BODY"


def test_many_short_lines_scale_linearly():
    lines = "\n".join(f"Paragraph number {i} of a very long file." for i in range(200_000))
    start = time.perf_counter()
    doc = read(" date 2022-02-26 Long\n\n" + lines).document
    assert time.perf_counter() - start < 10
    assert len(doc.blocks) == 200_000
    assert doc.blocks[-1].line_end == 200_002

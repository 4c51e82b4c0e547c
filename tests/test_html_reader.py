"""The HTML reader: news pages as canonical documents, golden files, settings and bad pages."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest
from conftest import assert_golden
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus.config import Config
from corpus.errors import ConfigError, InputRejected
from corpus.model import document_to_dict
from corpus.pipeline import check_key, read_bytes, read_path
from corpus.plugins import Plugins, PluginSpec
from corpus.readers.html import HTMLReader, sniff_html
from corpus.urlkey import url_key

HTML = Path(__file__).resolve().parent.parent / "fixtures" / "html"
GOLDEN = HTML.parent / "golden" / "html"
SELECTOR_CONFIG = Config(
    plugins={"html-reader": {"sites": {"northernchronicle.example": {"main": "#feed .post"}}}}
)
PAGES = {
    "harbour-bridge": ("harbour-bridge.html", None),
    "section-front": ("section-front.html", None),
    "flood-defences-0900": ("captures/flood-defences-0900.html", None),
    "flood-defences-1730": ("captures/flood-defences-1730.html", None),
    "liveblog-selector": ("liveblog-selector.html", SELECTOR_CONFIG),
}


@pytest.fixture(scope="module")
def plugins() -> Plugins:
    return Plugins(PluginSpec(entry_points=False))


def read(name: str, data: bytes, config: Config | None = None, plugins=None):
    return read_bytes(data, name, plugins=plugins, config=config)


def codes(result) -> list[str]:
    return sorted(f.code for f in result.findings)


def page(body: str, head: str = "<title>A title</title>", tail: str = "</body></html>") -> bytes:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}{tail}".encode()


ARTICLE = "".join(
    f"<p>Paragraph {i} of the article says something about the council and the harbour.</p>"
    for i in range(8)
)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_golden_documents(name: str, plugins: Plugins):
    rel, config = PAGES[name]
    result = read_bytes((HTML / rel).read_bytes(), rel, plugins=plugins, config=config)
    got = {
        "document": document_to_dict(result.document),
        "findings": [f.to_dict() for f in result.findings],
    }
    data = (json.dumps(got, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    assert_golden(data, GOLDEN / f"{name}.json", "HTML reader")


def test_article_page_keeps_metadata_and_block_kinds(plugins: Plugins):
    result = read_path(HTML / "harbour-bridge.html", plugins=plugins)
    doc = result.document
    assert doc.key == "coastalherald.example/news/local/harbour-bridge-repairs"
    assert doc.title == "Harbour bridge to close for six weeks of repairs"
    assert str(doc.date) == "2024-03-14" and doc.issued.hour == 7
    assert doc.byline == "Priya Natarajan" and doc.language == "en-GB"
    kinds = [b.kind for b in doc.blocks]
    assert kinds.count("list-item") == 3 and "blockquote" in kinds and "subheadline" in kinds
    table = next(b for b in doc.blocks if b.kind == "table")
    assert table.text.splitlines()[1] == "Cable replacement\t£3.1m"
    notes = doc.annotations["html-reader"]
    assert notes["site_name"] == "The Coastal Herald"
    assert notes["url"].startswith("https://www.coastalherald.example/news/local/harbour")
    text = doc.body_text
    for boilerplate in ("cookies", "Related stories", "About time they fixed", "All rights"):
        assert boilerplate not in text
    link = next(s for b in doc.blocks for s in b.spans if s.kind == "link")
    assert link.attributes["href"].endswith("/transport/ferry-timetable")
    para = doc.blocks[1]
    assert [para.text[s.start : s.end] for s in para.spans] == ["Martin Hale", "unavoidable"]
    assert result.findings == ()


def test_key_comes_from_the_path_without_a_canonical_url(plugins: Plugins):
    result = read("news/2024/story.html", page(ARTICLE), plugins=plugins)
    assert result.document.key == "news/2024/story"


def test_two_captures_of_a_page_share_a_key(plugins: Plugins):
    a = read_path(HTML / "captures/flood-defences-0900.html", plugins=plugins).document
    b = read_path(HTML / "captures/flood-defences-1730.html", plugins=plugins).document
    assert a.key == b.key
    assert a.content_hash != b.content_hash
    assert a.source.encoding == "windows-1252" and "£12m" in a.title


def test_diff_of_two_captures_shows_the_edits_not_navigation_churn(plugins: Plugins):
    from corpus.diff import diff_documents

    a = read_path(HTML / "captures/flood-defences-0900.html", plugins=plugins).document
    b = read_path(HTML / "captures/flood-defences-1730.html", plugins=plugins).document
    diff = diff_documents(a, b)
    assert diff.summary_line() == "title changed; +22 -1 words; 1 paragraph edited, 1 inserted"
    data = json.dumps(diff.to_dict())
    for churn in ("Trending", "Fireworks", "cookies", "Puzzles", "school crossing", "Comments"):
        assert churn not in data


def test_listing_page_is_flagged_not_an_article(plugins: Plugins):
    result = read_path(HTML / "section-front.html", plugins=plugins)
    assert "HTML_NOT_ARTICLE" in codes(result)


def test_site_selector_replaces_extraction(plugins: Plugins):
    data = (HTML / "liveblog-selector.html").read_bytes()
    plain = read("live.html", data, plugins=plugins).document
    chosen = read("live.html", data, SELECTOR_CONFIG, plugins=plugins).document
    assert chosen.annotations["html-reader"]["extraction"] == "selector"
    assert plain.annotations["html-reader"]["extraction"] == "trafilatura"
    assert "Download our app" not in chosen.body_text
    assert [b.text for b in chosen.blocks if b.kind == "list-item"] == [
        "Seats: 14",
        "Candidates: 63",
    ]


def test_selector_that_matches_nothing_falls_back_with_a_warning(plugins: Plugins):
    config = Config(
        plugins={"html-reader": {"sites": {"northernchronicle.example": {"main": ".nope"}}}}
    )
    result = read("live.html", (HTML / "liveblog-selector.html").read_bytes(), config, plugins)
    assert "HTML_SELECTOR_NO_MATCH" in codes(result)
    assert result.document.annotations["html-reader"]["extraction"] == "trafilatura"


@pytest.mark.parametrize(
    "table",
    [
        {"sites": {"example.com": {"main": "div[["}}},
        {"sites": {"example.com": "article"}},
        {"max_html_bytes": "lots"},
        {"unknown_setting": 1},
    ],
)
def test_bad_settings_are_config_errors(table):
    with pytest.raises(ConfigError):
        _ = HTMLReader(table).settings


def test_selected_text_short_for_the_page_is_flagged(plugins: Plugins):
    body = (
        "<div class='teaser'><p>A short teaser of the story, one line long.</p></div>"
        f"<article>{ARTICLE * 6}</article>"
    )
    head = '<title>T</title><link rel="canonical" href="https://paper.example/a/b">'
    config = Config(plugins={"html-reader": {"sites": {"paper.example": {"main": ".teaser"}}}})
    result = read("x.html", page(body, head), config, plugins)
    assert "HTML_MAIN_TEXT_SHORT" in codes(result)


def test_no_title_and_no_date_are_warnings(plugins: Plugins):
    result = read("x.html", page(ARTICLE, head=""), plugins=plugins)
    assert {"HTML_NO_TITLE", "HTML_NO_DATE"} <= set(codes(result))
    assert result.document.blocks


def test_html_under_an_unclaimed_extension_is_sniffed(plugins: Plugins):
    result = read("story.php", page(ARTICLE), plugins=plugins)
    assert result.document.source.format == "html"
    assert sniff_html(b"\xef\xbb\xbf  <!-- saved --> <!doctype html><html>")
    assert not sniff_html(b"date 2024-01-01 Title\n\nBody")


def test_text_files_still_go_to_the_article_reader(plugins: Plugins):
    result = read("story.txt", b"Title\n\nA paragraph of text.\n", plugins=plugins)
    assert result.document.source.format == "article"


# -- encodings ------------------------------------------------------------------------------


def test_declared_single_byte_encoding_is_used(plugins: Plugins):
    data = page(ARTICLE.replace("council", "café"), '<meta charset="iso-8859-1"><title>Ça</title>')
    result = read("x.html", data.decode().encode("latin-1"), plugins=plugins)
    assert result.document.title == "Ça" and "café" in result.document.body_text
    assert result.document.source.encoding == "windows-1252"
    assert codes(result) == ["HTML_NO_DATE"]


def test_utf8_page_declaring_latin1_is_read_as_utf8_with_a_warning(plugins: Plugins):
    data = page(ARTICLE.replace("council", "café"), '<meta charset="iso-8859-1"><title>Ça</title>')
    result = read("x.html", data, plugins=plugins)
    assert "café" in result.document.body_text and "Ã" not in result.document.body_text
    assert "HTML_ENCODING_MISMATCH" in codes(result)


def test_latin1_page_declaring_utf8_is_not_mojibake(plugins: Plugins):
    data = page(ARTICLE.replace("council", "café"), '<meta charset="utf-8"><title>Ça</title>')
    result = read("x.html", data.decode().encode("cp1252"), plugins=plugins)
    assert "café" in result.document.body_text and "\ufffd" not in result.document.body_text
    assert "HTML_ENCODING_MISMATCH" in codes(result)


def test_unknown_charset_is_a_warning(plugins: Plugins):
    data = page(ARTICLE, '<meta charset="klingon-8"><title>T</title>')
    assert "HTML_UNKNOWN_CHARSET" in codes(read("x.html", data, plugins=plugins))


# -- bad pages: each a coded outcome, never a traceback or a hang ---------------------------


def rejected_code(name: str, data: bytes, plugins) -> str:
    with pytest.raises(InputRejected) as info:
        read(name, data, plugins=plugins)
    assert len(info.value.message) > 30
    return info.value.code


@pytest.mark.parametrize("data", [b"", b"   \n\t  "])
def test_empty_page_is_rejected(data: bytes, plugins: Plugins):
    assert rejected_code("e.html", data, plugins) == "HTML_EMPTY"


def test_binary_renamed_html_is_rejected(plugins: Plugins):
    png = b"\x89PNG\r\n\x1a\n" + bytes(200)
    assert rejected_code("img.html", png, plugins) == "BINARY_DATA"
    assert rejected_code("nul.html", b"<html>\x00\x01\x02</html>", plugins) == "BINARY_DATA"


def test_scripts_only_page_is_rejected_naming_javascript(plugins: Plugins):
    data = page("<script>render()</script><script src='app.js'></script>")
    with pytest.raises(InputRejected) as info:
        read("app.html", data, plugins=plugins)
    assert info.value.code == "HTML_NO_MAIN_TEXT" and "JavaScript" in info.value.message


def test_navigation_only_page_has_no_main_text(plugins: Plugins):
    data = page("<nav><a href='/a'>A</a> <a href='/b'>B</a></nav><form><input></form>")
    assert rejected_code("nav.html", data, plugins) == "HTML_NO_MAIN_TEXT"


def test_truncated_page_is_read_with_a_warning(plugins: Plugins):
    data = page(ARTICLE, tail="")[:-30]
    result = read("cut.html", data, plugins=plugins)
    assert "HTML_TRUNCATED" in codes(result) and result.document.blocks


def test_deeply_nested_markup_ends_quickly_with_a_code(plugins: Plugins):
    data = page("<div>" * 100_000 + "<p>deep text</p>" + "</div>" * 100_000)
    started = time.perf_counter()
    try:
        result = read("deep.html", data, plugins=plugins)
    except InputRejected as exc:
        assert exc.code == "HTML_NO_MAIN_TEXT"
    else:
        assert result.document.blocks
    assert time.perf_counter() - started < 30


@pytest.mark.slow
def test_fifty_megabyte_page_is_capped_in_bounded_time(plugins: Plugins):
    filler = "<div class='c'><p>" + "word " * 40 + "</p></div>\n"
    data = page(ARTICLE + filler * (50 * 1024 * 1024 // len(filler)))
    assert len(data) > 50 * 1000 * 1000
    started = time.perf_counter()
    result = read("huge.html", data, plugins=plugins)
    elapsed = time.perf_counter() - started
    assert "HTML_CAPPED" in codes(result)
    assert elapsed < 60, elapsed


def test_huge_page_of_scripts_is_cut_down_without_capping(plugins: Plugins):
    blob = "<script>var x = '" + "a" * (6 * 1024 * 1024) + "';</script>"
    result = read("blob.html", page(blob + ARTICLE), plugins=plugins)
    assert "HTML_CAPPED" not in codes(result) and result.document.blocks


def test_reading_opens_no_network_connection(plugins: Plugins, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the HTML reader tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    for name, (rel, config) in PAGES.items():
        assert read_bytes((HTML / rel).read_bytes(), rel, plugins=plugins, config=config), name


# -- keys from addresses --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://www.Example.com/news/a-story/", "example.com/news/a-story"),
        (
            "http://example.com/news/a-story?utm_source=x&fbclid=y#comments",
            "example.com/news/a-story",
        ),
        ("https://example.com/article.php?id=5&utm_medium=rss", "example.com/article.php%3Fid=5"),
        ("https://example.com/", "example.com/index"),
        ("https://example.com:8080/a/../b/./c", "example.com%3A8080/b/c"),
        ("https://example.com/caf%C3%A9/x y", "example.com/café/x%20y"),
        ("ftp://example.com/a", None),
        ("/relative/only", None),
    ],
)
def test_url_keys(url: str, key: str | None):
    assert url_key(url) == key


@given(st.text(max_size=80), st.text(max_size=40))
def test_every_url_key_is_a_safe_key(path: str, query: str):
    key = url_key(f"https://example.com/{path}?{query}")
    assert key is not None
    check_key(key, "x.html")
    assert not any(ch in key for ch in '\\:*?"<>|\x00')
    assert all(len(part) <= 130 for part in key.split("/"))


# -- any bytes: a result, never a traceback; accepted pages export valid NITF and JSON ----------

HTML_BYTES = st.one_of(
    st.binary(max_size=400),
    st.builds(
        lambda head, body, tail: (head + body + tail).encode("utf-8", "surrogatepass"),
        st.sampled_from(
            [
                "<!DOCTYPE html><html><head><title>T</title>",
                "<html lang='x'>",
                "<meta charset=x>",
                "",
            ]
        ),
        st.lists(
            st.one_of(
                st.text(max_size=60),
                st.sampled_from(
                    [
                        "<p>",
                        "</p>",
                        "<ul><li>",
                        "</li>",
                        "<table><tr><td>",
                        "<b>",
                        "</i>",
                        "<a href='javascript:x'>",
                        "<blockquote>",
                        "<h2>",
                        "<script>",
                        "<!--",
                        "&amp;",
                        "&#0;",
                        "&#xD800;",
                        "\x00",
                        "\x0b",
                        "<br>",
                        "<pre>",
                    ]
                ),
            ),
            max_size=30,
        ).map("".join),
        st.sampled_from(["</body></html>", "", "<p>" + "Text of a paragraph. " * 3 + "</p>"]),
    ),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=HTML_BYTES)
def test_any_bytes_give_a_result_and_accepted_pages_export_valid_nitf_and_json(
    data, plugins, nitf_schema
):
    from corpus.pipeline import STATUS_REJECTED, process_data
    from corpus.schemacheck import check_json, check_xml

    result = process_data(
        data, "x.html", plugins=plugins, config=Config(), formats=("nitf", "json")
    )
    assert result.status in ("ok", "warning", "rejected")
    assert not any(f.code == "INTERNAL_ERROR" for f in result.findings), result.findings
    if result.status == STATUS_REJECTED:
        assert result.outputs == {}
        return
    assert check_xml(result.outputs["nitf"], nitf_schema) == []
    assert check_json(result.outputs["json"]) == []


def test_fixture_pages_export_valid_nitf(plugins, nitf_schema):
    from corpus.pipeline import process_data
    from corpus.schemacheck import check_xml

    for name, (rel, config) in PAGES.items():
        result = process_data(
            (HTML / rel).read_bytes(), rel, plugins=plugins, config=config or Config(),
            formats=("nitf",),
        )  # fmt: skip
        assert check_xml(result.outputs["nitf"], nitf_schema) == [], name


def test_control_characters_are_replaced_with_a_warning(plugins: Plugins):
    data = page(ARTICLE.replace("council", "coun\x1bcil\x7f"), "<title>T\x0bx</title>")
    result = read("x.html", data, plugins=plugins)
    assert "CONTROL_CHARACTER" in codes(result)
    assert result.document.title == "T x" and "coun cil" in result.document.body_text


@pytest.mark.parametrize(
    ("head", "listing"),
    [
        ('<meta property="og:type" content="website">', False),  # many articles say so
        ('<script type="application/ld+json">{"@type": "CollectionPage"}</script>', True),
        ('<meta property="og:type" content="article">', False),
    ],
)
def test_page_types_and_links_decide_not_an_article(head: str, listing: bool, plugins: Plugins):
    result = read("x.html", page(ARTICLE, "<title>T</title>" + head), plugins=plugins)
    assert ("HTML_NOT_ARTICLE" in codes(result)) is listing


def test_a_page_of_links_is_not_an_article(plugins: Plugins):
    links = "".join(f"<li><a href='/s/{i}'>Story number {i} of the day</a></li>" for i in range(40))
    result = read("x.html", page(f"<ul>{links}</ul><p>One line of text.</p>"), plugins=plugins)
    assert "HTML_NOT_ARTICLE" in codes(result)


def test_corpus_diff_of_two_saved_pages(run_cli):
    result = run_cli(
        "diff",
        HTML / "captures/flood-defences-0900.html",
        HTML / "captures/flood-defences-1730.html",
    )
    assert "[-400-]{+420+}" in result.output
    assert "Environment Agency" in result.output and "Trending" not in result.output

"""Tests of corpus-markdown: rendering, escaping, the exporter and the md-preview command."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import corpus_markdown
from corpus_markdown import escape, render_block, to_markdown

from corpus import Block, Document, Span
from corpus.testing import make_plugins, run_pipeline

PLUGIN = ("markdown", corpus_markdown)
ARTICLE = " date 2024-03-01 A *bold* headline\n\nFirst paragraph.\n\n- not a list item\n"


def test_whole_document() -> None:
    document = Document(
        key="k",
        title="Budget vote",
        date=dt.date(2024, 3, 1),
        byline="Jo Smith",
        blocks=[Block("One."), Block("Two [sic].")],
    )
    assert to_markdown(document) == (
        "# Budget vote\n\n*2024-03-01 · Jo Smith*\n\nOne.\n\nTwo \\[sic\\].\n"
    )


def test_markup_characters_are_escaped() -> None:
    assert escape("a*b_c`d<e>") == "a\\*b\\_c\\`d\\<e\\>"
    assert render_block("1. not a list") == "1\\. not a list"
    assert render_block("# not a heading") == "\\# not a heading"


def test_spans_become_inline_markup() -> None:
    text = "Read the report now, said Ann Lee."
    spans = (
        Span(0, 4, "emphasis"),
        Span(9, 15, "link", {"href": "https://example.org/r (1)"}),
        Span(26, 33, "person"),
    )
    assert render_block(text, spans) == (
        "*Read* the [report](https://example.org/r%20(1%29) now, said Ann Lee."
    )


def test_exporter_is_registered_and_used_by_the_pipeline() -> None:
    plugins = make_plugins(PLUGIN)
    assert plugins.exporters.get("markdown").extension == ".md"
    result = run_pipeline(ARTICLE, PLUGIN, formats=["markdown"])
    text = result.outputs["markdown"].decode("utf-8")
    assert text.startswith("# A \\*bold\\* headline\n")
    assert "\\- not a list item" in text


def test_md_preview_command(corpus_cli, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    corpus_cli.register(corpus_markdown, name="markdown")
    result = corpus_cli.run("md-preview", "a.txt")
    assert result.exit_code == 0, result.stderr
    assert "First paragraph.\n" in result.stdout
    assert corpus_cli.run("md-preview", "missing.txt").exit_code == 2


def test_md_preview_rejected_file_exits_1(corpus_cli, tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    corpus_cli.register(corpus_markdown, name="markdown")
    result = corpus_cli.run("md-preview", "empty.txt")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "empty.txt" in result.stderr


def test_ingest_writes_markdown_files(corpus_cli, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(ARTICLE, encoding="utf-8")
    corpus_cli.register(corpus_markdown, name="markdown")
    result = corpus_cli.run("ingest", "in", "-o", "out", "-f", "markdown", "-q")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "out" / "a.md").read_text("utf-8").startswith("# A \\*bold\\* headline")

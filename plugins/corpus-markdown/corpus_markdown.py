"""corpus-markdown: a Markdown output format and a ``corpus md-preview FILE`` command.

Registers the exporter ``markdown`` (extension ``.md``), so ``corpus ingest in -o out -f
markdown`` writes one Markdown file per article, and adds the command ``corpus md-preview
FILE`` that prints one article as Markdown on the terminal (findings on stderr).

The Markdown is CommonMark: the title as a level-1 heading, then date and byline in italics,
then one paragraph per block. Inline markup from the document's spans: ``emphasis`` becomes
``*...*``, ``strong`` ``**...**``, ``link`` ``[...](href)``; other kinds (quote, person) keep
their text as it is, since the quotation marks are part of the text. Characters that Markdown
would read as markup are escaped, so the text renders exactly as it was written.
"""

from __future__ import annotations

import re
import sys

import click

from corpus import Document, hookimpl
from corpus.formats import Exporter

_ESCAPE_RE = re.compile(r"([\\`*_\[\]<>|#])")
_BLOCK_START_RE = re.compile(r"^(\s*\d*)([-+>=.)])(?=\s|$)")

_WRAP = {"emphasis": ("*", "*"), "strong": ("**", "**")}


def escape(text: str) -> str:
    """``text`` with Markdown's inline markup characters backslash-escaped."""
    return _ESCAPE_RE.sub(r"\\\1", text)


def _escape_paragraph(text: str) -> str:
    # A paragraph starting with "- ", "> ", "1. " would become a list or a quote.
    text = text.replace("\n", " ")
    return _BLOCK_START_RE.sub(lambda m: m.group(1) + "\\" + m.group(2), text, count=1)


def render_block(text: str, spans: tuple = ()) -> str:
    """One paragraph with its known inline spans rendered; nested or crossing spans are
    rendered outermost first, and an inner span that crosses its parent is kept as text."""
    out: list[str] = []
    pos = 0
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if span.start < pos or (span.kind not in _WRAP and span.kind != "link"):
            continue
        out.append(escape(text[pos : span.start]))
        inner = escape(text[span.start : span.end])
        if span.kind == "link" and span.attributes.get("href"):
            href = span.attributes["href"].replace(")", "%29").replace(" ", "%20")
            out.append(f"[{inner}]({href})")
        elif span.kind in _WRAP:
            left, right = _WRAP[span.kind]
            out.append(f"{left}{inner}{right}" if inner.strip() == inner and inner else inner)
        else:
            out.append(inner)
        pos = span.end
    out.append(escape(text[pos:]))
    return _escape_paragraph("".join(out))


def to_markdown(document: Document) -> str:
    """The whole article as Markdown text, ending in one newline."""
    parts = [f"# {escape(document.title.strip())}" if document.title.strip() else ""]
    meta = []
    if document.date:
        meta.append(document.date.isoformat())
    if document.byline:
        meta.append(escape(document.byline.strip()))
    if meta:
        parts.append("*" + " · ".join(meta) + "*")
    parts.extend(render_block(b.text, b.spans) for b in document.blocks)
    return "\n\n".join(p for p in parts if p) + "\n"


class MarkdownExporter(Exporter):
    """CommonMark text of an article."""

    name = "markdown"
    extension = ".md"
    media_type = "text/markdown"
    description = "Markdown (CommonMark), for reading and previews"

    def export(self, document: Document) -> bytes:
        return to_markdown(document).encode("utf-8")


@hookimpl
def register_exporters(register) -> None:
    register(MarkdownExporter())


@click.command(name="md-preview")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def md_preview(file: str) -> None:
    """Print FILE as Markdown, after enrichers have run. Findings go to stderr.

    Exit 1 if the file is rejected.
    """
    from pathlib import Path

    from corpus.cliutil import EXIT_FINDINGS, get_state
    from corpus.pipeline import process_path

    state = get_state()
    result = process_path(
        file,
        Path(file).name,
        plugins=state.plugins,
        config=state.config,
        formats=(MarkdownExporter.name,),
    )
    for finding in result.findings:
        click.echo(str(finding), err=True)
    if MarkdownExporter.name not in result.outputs:
        sys.exit(EXIT_FINDINGS)
    click.echo(result.outputs[MarkdownExporter.name].decode("utf-8"), nl=False)


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(md_preview)

"""The web diff fragment (corpus.diff.render_web) and the search snippets (corpus.web.highlight)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from corpus.diff import diff_documents
from corpus.diff.model import MOVE, ParagraphOp
from corpus.diff.render_web import (
    MovedAway,
    WebDiffOptions,
    headline_wording,
    render_fragment,
    timeline_line,
    with_move_sources,
)
from corpus.model import Block, Document

A, B, C, D = (
    "Alpha paragraph about the harbour and its boats.",
    "Bravo paragraph about the council meeting on Monday.",
    "Charlie paragraph about the weather this weekend.",
    "Delta paragraph about the football results.",
)


def _doc(*paras: str, title: str = "Title") -> Document:
    return Document(key="k", title=title, blocks=[Block(p) for p in paras])


def test_a_moved_paragraph_gets_a_row_where_it_was_linked_both_ways() -> None:
    diff = diff_documents(_doc(A, B, C, D), _doc(C, A, B, D))
    items = with_move_sources(diff.paragraphs)
    moved = [k for k, it in enumerate(items) if isinstance(it, MovedAway)]
    assert len(moved) == 1
    away = items[moved[0]]
    # The old place sits after the ops holding the old paragraphs before it (A and B).
    before = [it for it in items[: moved[0]] if isinstance(it, ParagraphOp) and it.op != MOVE]
    assert [i for it in before for i in it.old] == [0, 1]
    html = render_fragment(diff)
    assert f'id="moved-from-{away.anchor}"' in html and f'href="#moved-from-{away.anchor}"' in html
    assert f'id="moved-to-{away.anchor}"' in html and f'href="#moved-to-{away.anchor}"' in html


def test_every_text_is_escaped_in_both_views() -> None:
    evil = "<img src=x onerror=alert(1)> & <b>"
    diff = diff_documents(_doc(A, f"{evil} one", title=evil), _doc(A, f"{evil} two", title="T"))
    for view in ("side", "inline"):
        html = render_fragment(diff, WebDiffOptions(view=view, context=None))
        assert "<img" not in html and "<b>" not in html
        assert "&lt;img src=x onerror=alert(1)&gt; &amp; &lt;b&gt;" in html


def test_changes_are_numbered_in_order_and_header_first() -> None:
    diff = diff_documents(_doc(A, B, C, title="Old"), _doc(A, B + " Edited.", C, D, title="New"))
    html = render_fragment(diff)
    ids = re.findall(r'class="row [^"]*\bchange\b[^"]*" id="change-(\d+)"', html)
    assert ids == ["1", "2", "3"]
    assert html.index("headline changed") < html.index("¶2 edited")


def test_unchanged_paragraphs_fold_around_changes() -> None:
    paras = [f"Paragraph number {n} says something different each time." for n in range(10)]
    new = [*paras[:5], paras[5] + " Now longer.", *paras[6:]]
    html = render_fragment(diff_documents(_doc(*paras), _doc(*new)), WebDiffOptions(context=1))
    assert html.count('<details class="unchanged">') == 2
    assert "<summary>4 unchanged paragraphs</summary>" in html  # 0-3, then 4 is context
    assert "<summary>3 unchanged paragraphs</summary>" in html
    whole = render_fragment(diff_documents(_doc(*paras), _doc(*new)), WebDiffOptions(context=None))
    assert "<details" not in whole


def test_inline_view_puts_old_before_new_in_place() -> None:
    diff = diff_documents(_doc("The vote was close."), _doc("The vote was not close at all."))
    html = render_fragment(diff, WebDiffOptions(view="inline"))
    assert '<div class="diff view-inline">' in html
    text = re.sub(r"<[^>]+>", "", html.split('class="text">', 1)[1].split("</div>", 1)[0])
    assert text == "The vote was not close at all."
    with pytest.raises(ValueError):
        WebDiffOptions(view="sideways")


def test_timeline_lines_call_the_title_the_headline() -> None:
    diff = diff_documents(_doc(A, B, title="Old"), _doc(A, B + " More.", title="New"))
    assert timeline_line(diff).startswith("headline changed; ")
    assert headline_wording("title and byline changed; +1 -0 words") == (
        "headline and byline changed; +1 -0 words"
    )
    assert headline_wording("+2 -1 words; 1 paragraph edited") == "+2 -1 words; 1 paragraph edited"
    assert headline_wording("subtitle changed") == "subtitle changed"


# -- search snippets -------------------------------------------------------------------------


def test_query_terms_mark_stemmed_and_prefixed_words() -> None:
    from corpus.web.highlight import Terms, mark

    terms = Terms.from_query('title:vote AND "state duma" NOT elect* OR NEAR(Deputy x, 5)')
    pieces = mark("The Deputies voted; the État Duma elections", terms)
    marked = [p.text for p in pieces if p.marked]
    assert marked == ["Deputies", "voted", "Duma", "elections"]
    assert not Terms.from_query("AND OR NOT")


def test_snippet_picks_the_window_with_the_most_matches() -> None:
    from corpus.web.highlight import Terms, snippet

    filler = " ".join(["filler"] * 60)
    paragraphs = [filler, f"{filler} storm storm harbour {filler}", "storm once"]
    pieces = snippet(paragraphs, Terms.from_query("storm harbour"), words=12)
    text = "".join(p.text for p in pieces)
    assert text.startswith("… ") and text.endswith(" …")
    assert [p.text for p in pieces if p.marked] == ["storm", "storm", "harbour"]


@given(st.text(max_size=200), st.text(alphabet='abcdé *"', max_size=20))
def test_marking_never_changes_the_text(text: str, query: str) -> None:
    from corpus.web.highlight import Terms, mark

    assert "".join(p.text for p in mark(text, Terms.from_query(query))) == text

"""Property tests: apply(diff(a, b), a) == b, the reverse gives a back, diff(a, a) is empty.

Documents are built from a small vocabulary (so paragraphs repeat and look alike, the hard
case for alignment) and changed by random edit scripts: insert, delete, move, split and merge
paragraphs, word edits and cosmetic edits; a second test uses arbitrary Unicode text and
markup to catch offset mistakes.
"""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus.diff import DocumentDiff, apply_diff, diff_documents, reverse_diff
from corpus.model import Block, Document, Span

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

WORDS = [
    "the", "minister", "said", "on", "Tuesday", "plan", "war", "Kyiv", "Moscow", "3.5",
    "people", "“quote”", "don’t", "café", "മഴ", "Ωmega", "—", "a", "of", "troops",
]  # fmt: skip

sentences = st.lists(st.sampled_from(WORDS), min_size=1, max_size=8).map(
    lambda ws: " ".join(ws).capitalize() + "."
)
paragraphs = st.lists(sentences, min_size=1, max_size=3).map(" ".join)
documents = st.builds(
    lambda title, date, paras: Document(
        key="k", title=title, date=date, blocks=[Block(p) for p in paras]
    ),
    st.sampled_from(["Storm hits coast", "Storm hits the coast", "", "War: day 3"]),
    st.one_of(st.none(), st.dates(dt.date(2000, 1, 1), dt.date(2030, 1, 1))),
    st.lists(paragraphs, max_size=8),
)


def _word_edit(text: str, k: int, word: str, kind: int) -> str:
    parts = text.split(" ")
    k %= len(parts)
    if kind == 0:
        parts[k] = word
    elif kind == 1:
        parts.insert(k, word)
    elif len(parts) > 1:
        del parts[k]
    return " ".join(parts)


def _cosmetic(text: str, kind: int) -> str:
    if kind == 0:
        return text.swapcase()
    if kind == 1:
        return text.replace(" ", "  ", 1)
    if kind == 2:
        return text.replace(".", "!", 1)
    return text.replace("“", '"').replace("”", '"')


edit_steps = st.lists(
    st.tuples(
        st.sampled_from(["insert", "delete", "move", "split", "merge", "word", "cosmetic"]),
        st.integers(0, 20),
        st.integers(0, 20),
        paragraphs,
        st.sampled_from(WORDS),
    ),
    max_size=6,
)


def apply_script(doc: Document, steps, title_change: str | None) -> Document:
    paras = [b.text for b in doc.blocks]
    for action, i, j, para, word in steps:
        n = len(paras)
        if action == "insert" or not n:
            paras.insert(i % (n + 1), para)
        elif action == "delete":
            del paras[i % n]
        elif action == "move":
            paras.insert(j % n, paras.pop(i % n))
        elif action == "split":
            text = paras[i % n]
            cut = text.find(". ")
            if cut > 0:
                paras[i % n : i % n + 1] = [text[: cut + 1], text[cut + 2 :]]
        elif action == "merge" and n > 1:
            k = i % (n - 1)
            paras[k : k + 2] = [paras[k] + " " + paras[k + 1]]
        elif action == "word":
            paras[i % n] = _word_edit(paras[i % n], j, word, j % 3)
        elif action == "cosmetic":
            paras[i % n] = _cosmetic(paras[i % n], j % 4)
    paras = [p for p in paras if p]
    title = doc.title if title_change is None else title_change
    return Document(key="k", title=title, date=doc.date, blocks=[Block(p) for p in paras])


def check_round_trip(old: Document, new: Document) -> DocumentDiff:
    d = diff_documents(old, new)
    assert apply_diff(old, d).content_dict() == new.content_dict()
    back = reverse_diff(d)
    assert apply_diff(new, back).content_dict() == old.content_dict()
    again = DocumentDiff.from_dict(json.loads(json.dumps(d.to_dict())))
    assert apply_diff(old, again).content_dict() == new.content_dict()
    assert d.is_empty == (old.content_dict() == new.content_dict())
    return d


@SETTINGS
@given(documents, edit_steps, st.one_of(st.none(), st.sampled_from(["Storm", "storm hits coast"])))
def test_edit_scripts_round_trip(old, steps, title):
    new = apply_script(old, steps, title)
    d = check_round_trip(old, new)
    assert reverse_diff(reverse_diff(d)).summary == d.summary


@SETTINGS
@given(documents)
def test_diff_with_itself_is_empty(doc):
    d = diff_documents(doc, doc)
    assert d.is_empty
    assert d.summary.words_added == d.summary.words_removed == 0
    assert d.summary_line() == "no changes"


text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@st.composite
def blocks(draw):
    t = draw(text)
    kind = draw(st.sampled_from(["paragraph", "paragraph", "quote"]))
    spans = []
    if t and draw(st.booleans()):
        a = draw(st.integers(0, len(t)))
        b = draw(st.integers(a, len(t)))
        spans.append(Span(a, b, draw(st.sampled_from(["person", "emphasis"]))))
    return Block(t, kind=kind, spans=tuple(spans))


raw_documents = st.builds(
    lambda title, bs: Document(key="r", title=title, blocks=bs),
    text,
    st.lists(blocks(), max_size=6),
)


@SETTINGS
@given(raw_documents, raw_documents)
def test_arbitrary_text_and_markup_round_trip(old, new):
    check_round_trip(old, new)


@SETTINGS
@given(raw_documents, st.data())
def test_small_changes_to_arbitrary_text_round_trip(old, data):
    bs = list(old.blocks)
    if bs:
        k = data.draw(st.integers(0, len(bs) - 1))
        t = bs[k].text
        cut = data.draw(st.integers(0, len(t)))
        bs[k] = Block(t[:cut] + data.draw(text) + t[cut:])
        if data.draw(st.booleans()):
            bs.append(bs.pop(0))
    new = Document(key="r", title=old.title, blocks=bs)
    check_round_trip(old, new)


_WORDS = st.sampled_from(
    ["the", "plan", "in", "this", "paper", "We", "we", ",", ".", "show", ";", ":", "[1]"]
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_WORDS, max_size=30), st.data())
def test_word_changes_with_moved_phrases_round_trip(words, data):
    """Phrases cut out and put back elsewhere (moves) still patch exactly, both ways."""
    from corpus.diff.apply import patch_text
    from corpus.diff.words import word_changes

    new_words = list(words)
    if len(new_words) > 2:
        i = data.draw(st.integers(0, len(new_words) - 1))
        j = data.draw(st.integers(i, len(new_words)))
        phrase = new_words[i:j]
        del new_words[i:j]
        k = data.draw(st.integers(0, len(new_words)))
        new_words[k:k] = phrase
    new_words += data.draw(st.lists(_WORDS, max_size=3))
    old, new = " ".join(words), " ".join(new_words)
    changes = word_changes(old, new)
    assert patch_text(old, changes) == new
    assert patch_text(new, [c.reversed() for c in changes]) == old
    assert all(c.old or c.new for c in changes)


_SENTENCES = st.lists(_WORDS, min_size=1, max_size=8).map(lambda ws: " ".join(ws) + ".")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_SENTENCES, min_size=1, max_size=5), st.data())
def test_sentences_reordered_and_edited_round_trip(sentences, data):
    """Sentences moved inside a paragraph, phrases moved between them: exact both ways."""
    new_sentences = data.draw(st.permutations(sentences))
    if data.draw(st.booleans()) and len(new_sentences) > 1:
        words = new_sentences[0].split()
        cut = data.draw(st.integers(0, len(words)))
        new_sentences = [" ".join(words[:cut]) or "x.", *new_sentences[1:]]
        new_sentences[-1] = " ".join(words[cut:]) + " " + new_sentences[-1]
    old = Document(key="s", title="t", blocks=[Block(" ".join(sentences))])
    new = Document(key="s", title="t", blocks=[Block(" ".join(new_sentences))])
    check_round_trip(old, new)

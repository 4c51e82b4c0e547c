"""Properties of the article reader and the model, on generated inputs (hypothesis)."""

from __future__ import annotations

import re

import attrs
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import article_documents, documents

from corpus.errors import CorpusError
from corpus.model import (
    Block,
    Document,
    Span,
    document_from_dict,
    document_from_json,
    document_to_dict,
    document_to_json,
)
from corpus.readers.article import ArticleReader, block_kind, write_article

READER = ArticleReader()
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Text shaped like articles: header-ish first lines, blank lines, odd characters.
article_like = st.lists(
    st.one_of(
        st.just(""),
        st.just(" date 2022-02-26 Title"),
        st.just("date"),
        st.just("By  AFP"),
        st.just("Published: 1 March"),
        st.sampled_from(["\u00a0", "\t", " ", "\x0b", "\x85", "\u202e", "\ud800", "\ufeff"]),
        st.text(max_size=120),
    ),
    max_size=12,
).map("\n".join)


def read_or_reject(data: bytes):
    try:
        return READER.read(data, path="gen.txt", key="gen")
    except CorpusError as exc:
        assert exc.code and exc.message
        assert exc.path == "gen.txt"
        return None


def check_invariants(result, data: bytes) -> None:
    doc = result.document
    line_count = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n") + 1
    for text in [doc.title, doc.byline or "", *(b.text for b in doc.blocks)]:
        assert not FORBIDDEN.search(text)
        assert text == text.strip()
    for block in doc.blocks:
        assert block.text
        assert 1 <= block.line_start <= block.line_end
    for finding in result.findings:
        assert finding.path == "gen.txt"
        assert finding.line is None or finding.line >= 1
    assert any(b.kind == "paragraph" for b in doc.blocks)
    assert doc.source.size == len(data)
    if doc.source.encoding.startswith("utf-8"):
        assert all(b.line_end <= line_count for b in doc.blocks)


@SETTINGS
@given(st.binary(max_size=400))
def test_arbitrary_bytes_raise_only_corpus_errors(data: bytes):
    result = read_or_reject(data)
    if result is not None:
        check_invariants(result, data)


@SETTINGS
@given(article_like, st.sampled_from(["utf-8", "utf-16", "cp1252", "latin-1"]))
def test_arbitrary_text_raises_only_corpus_errors(text: str, codec: str):
    data = text.encode(codec, "surrogatepass" if codec.startswith("utf") else "replace")
    result = read_or_reject(data)
    if result is not None:
        check_invariants(result, data)


@SETTINGS
@given(article_like)
def test_line_endings_do_not_change_the_document(text: str):
    text = text.replace("\r", "")  # a CR of its own would make "\r\r\n": two line ends
    lf = read_or_reject(text.encode("utf-8", "surrogatepass"))
    crlf = read_or_reject(text.replace("\n", "\r\n").encode("utf-8", "surrogatepass"))
    if lf is None:
        assert crlf is None
        return
    assert crlf is not None
    assert crlf.document.blocks == lf.document.blocks
    assert (crlf.document.title, crlf.document.date) == (lf.document.title, lf.document.date)


@SETTINGS
@given(article_documents())
def test_write_then_read_round_trip(doc):
    assume(any(block_kind(b.text) == "paragraph" for b in doc.blocks))
    data = write_article(doc).encode("utf-8")
    again = READER.read(data, path="gen.txt", key=doc.key).document
    assert again.title == doc.title
    assert again.date == doc.date
    assert again.issued == doc.issued
    assert again.byline == doc.byline
    assert [b.text for b in again.blocks] == [b.text for b in doc.blocks]
    assert write_article(again) == write_article(doc)


@SETTINGS
@given(documents())
def test_model_json_model_identity(doc):
    assert document_from_dict(document_to_dict(doc)) == doc
    assert document_from_json(document_to_json(doc)) == doc


@SETTINGS
@given(documents())
def test_writer_accepts_any_document(doc):
    text = write_article(doc)
    assert text.endswith("\n")
    assert "\r" not in text


@settings(max_examples=100, deadline=None)
@given(documents(), documents(), st.booleans())
def test_content_hash_agrees_with_content_dict(a, other, same_content):
    """Same content (content_dict) <=> same content hash; provenance does not count."""
    b = (
        attrs.evolve(a, key="elsewhere", source=None, annotations={"x": 1})
        if same_content
        else other
    )
    assert (a.content_hash == b.content_hash) == (a.content_dict() == b.content_dict())


@pytest.mark.parametrize(
    "change",
    [
        {"title": "Another title"},
        {"byline": "Someone"},
        {"keywords": ("k",)},
        {"urgency": 3},
        {"language": "sq"},
        {"blocks": (Block("Text."), Block("More."))},
        {"blocks": (Block("Text.", kind="caption"),)},
        {"blocks": (Block("Text.", spans=(Span(0, 4, "emphasis"),)),)},
        {"blocks": (Block("Text.", spans=(Span(0, 4, "link", {"href": "b"}),)),)},
    ],
)
def test_every_content_field_changes_the_hash(change):
    base = Document(
        key="k", title="T", blocks=(Block("Text.", spans=(Span(0, 4, "link", {"href": "a"}),)),)
    )
    assert attrs.evolve(base, **change).content_hash != base.content_hash

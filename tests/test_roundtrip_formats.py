"""Round trips through the newsroom formats: article/model -> NITF (or NewsML) -> model."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from test_ninjs import good_documents

from corpus.exporters.nitf import NITF_NS, build_nitf_tree
from corpus.model import Block, Document, Span
from corpus.pipeline import read_bytes
from corpus.plugins import Plugins, PluginSpec
from corpus.readers.nitf import BLOCK_KINDS, INLINE_KINDS, MEDIA_TEXT


@pytest.fixture(scope="module")
def shared_plugins():
    """Built-ins only, shared by hypothesis examples (reading and exporting keep no state)."""
    return Plugins(PluginSpec(entry_points=False))


#: What the NITF round trip must keep identical.
KEPT = ("title", "date", "byline")


def via(plugins, exporter: str, doc: Document) -> Document:
    data = plugins.exporters.get(exporter).export(doc)
    return read_bytes(data, doc.key + ".xml", plugins=plugins, reader="nitf").document


def assert_same_story(before: Document, after: Document) -> None:
    for field in KEPT:
        assert getattr(after, field) == getattr(before, field), field
    assert [b.text for b in after.blocks] == [b.text for b in before.blocks]
    assert [b.spans for b in after.blocks] == [b.spans for b in before.blocks]


def test_article_fixtures_round_trip_through_nitf_and_newsml(fixtures_dir, standards, plugins):
    docs = good_documents(fixtures_dir, standards, plugins)
    for doc in docs:
        for exporter in ("nitf", "newsml"):
            after = via(plugins, exporter, doc)
            assert_same_story(doc, after)
            for field in ("dateline", "abstract", "keywords", "urgency", "language"):
                assert getattr(after, field) == getattr(doc, field), (doc.key, exporter, field)


def _inline_markup(element: etree._Element) -> list[tuple[str, str]]:
    return [
        (etree.QName(e).localname, "".join(e.itertext()).split().__str__())
        for e in element.iter()
        if isinstance(e.tag, str) and etree.QName(e).localname in INLINE_KINDS
    ]


#: body.content elements that hold a block's text.
TEXT_BLOCKS = {*BLOCK_KINDS, *MEDIA_TEXT}


def test_nitf_samples_round_trip_to_valid_nitf(standards, plugins, nitf_schema):
    """Sample -> model -> NITF: valid, with the input's paragraph texts and inline markup."""
    for path in sorted((standards / "nitf" / "samples").glob("*.xml")):
        doc = read_bytes(path.read_bytes(), path.name, plugins=plugins).document
        tree = build_nitf_tree(doc)
        assert nitf_schema.validate(etree.ElementTree(tree)), (path.name, nitf_schema.error_log)
        source = etree.parse(str(path), etree.XMLParser(load_dtd=False, no_network=True))
        source_ps = [
            e
            for e in source.iter()
            if isinstance(e.tag, str)
            and etree.QName(e).localname in TEXT_BLOCKS
            and "body.content" in [etree.QName(a).localname for a in e.iterancestors()]
            and "note" not in [etree.QName(a).localname for a in e.iterancestors()]
            and "".join(e.itertext()).strip()
        ]
        out_ps = [
            e
            for e in tree.find(f"{{{NITF_NS}}}body/{{{NITF_NS}}}body.content").iter()
            if isinstance(e.tag, str) and etree.QName(e).localname in TEXT_BLOCKS
        ]
        # Every block of the input (p, li, hl2...) is the same element of the output, in order.
        assert [etree.QName(e).localname for e in source_ps] == [
            etree.QName(e).localname for e in out_ps
        ], path.name
        assert [" ".join("".join(p.itertext()).split()) for p in source_ps] == [
            " ".join("".join(p.itertext()).split()) for p in out_ps
        ], path.name
        assert [m for p in source_ps for m in _inline_markup(p)] == [
            m for p in out_ps for m in _inline_markup(p)
        ], path.name
        again = read_bytes(etree.tostring(tree), path.name, plugins=plugins).document
        assert_same_story(doc, again)


_WORD = st.text(
    st.characters(
        blacklist_categories=("Cs", "Cc", "Co", "Cn", "Zl", "Zp"),
        blacklist_characters="\ufffe\uffff",
    ),
    min_size=1,
    max_size=8,
).filter(lambda w: w.strip(" ") == w and w.strip())
_KINDS = st.sampled_from(["emphasis", "quote", "person", "org", "location", "link"])


@st.composite
def paragraphs(draw) -> Block:
    """A paragraph of words; spans cover whole words and never overlap (NITF nests only)."""
    words = draw(st.lists(_WORD, min_size=1, max_size=12))
    separators = [draw(st.sampled_from([" ", "  "])) for _ in words[1:]]
    text = words[0]
    bounds = [(0, len(words[0]))]
    for sep, word in zip(separators, words[1:], strict=True):
        text += sep
        bounds.append((len(text), len(text) + len(word)))
        text += word
    spans = []
    index = 0
    while index < len(words):
        if draw(st.booleans()):
            last = min(len(words) - 1, index + draw(st.integers(0, 2)))
            kind = draw(_KINDS)
            attributes = {"href": "https://example.org/?a=1&b=<2>"} if kind == "link" else {}
            spans.append(Span(bounds[index][0], bounds[last][1], kind, attributes))
            index = last + 1
        index += 1
    return Block(text, spans=spans)


@st.composite
def documents(draw) -> Document:
    date = draw(st.none() | st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)))
    title = " ".join(draw(st.lists(_WORD, min_size=1, max_size=5)))
    byline = draw(st.none() | st.just("By Ann Example") | st.just("Par José  García"))
    return Document(
        key="generated",
        title=title,
        date=date,
        byline=byline,
        blocks=draw(st.lists(paragraphs(), min_size=1, max_size=4)),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_generated_documents_round_trip_through_nitf(shared_plugins, doc):
    assert_same_story(doc, via(shared_plugins, "nitf", doc))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_generated_documents_round_trip_through_newsml(shared_plugins, doc):
    assert_same_story(doc, via(shared_plugins, "newsml", doc))

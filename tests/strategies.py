"""Hypothesis strategies for corpus documents, shared by the test modules.

Import them as ``from strategies import documents`` (pytest puts ``tests/`` on the path).

- :func:`documents`: any valid Document (spans, source, annotations, every optional field),
  text limited to what XML 1.0 can hold, as a reader would produce it.
- :func:`article_documents`: documents the delimited article format can represent exactly
  (one-line texts, a recognisable byline...), for write -> read round trips.
"""

from __future__ import annotations

import datetime as dt
import functools
import string

from hypothesis import strategies as st

from corpus.model import Block, Document, Source, Span

#: Characters a reader can put in a document: no controls, surrogates or unassigned code
#: points (XML 1.0 forbids most controls; U+FFFE/U+FFFF are unassigned, category Cn).
XML_SAFE = st.characters(
    blacklist_categories=("Cc", "Cs", "Cn", "Co"),
    blacklist_characters="\u2028\u2029",
)
#: A sample of scripts and punctuation seen in real articles, mixed in to hit them often.
NEWS_CHARS = st.sampled_from(
    list("abcXYZ019 .,;:!?-'\"’“”–—…£€\u00a0")
    + list("ёжЩ")  # Cyrillic
    + list("ëçË")  # Albanian
    + list("മലയാ\u0d4d\u200c")  # Malayalam, virama and ZWNJ
    + list("தமிழ்")  # Tamil
)

SPAN_KINDS = ("emphasis", "quote", "person", "org", "location", "link")


_TEXT_CHARS = st.one_of(XML_SAFE, NEWS_CHARS, st.just("\n"))
_LINE_CHARS = st.one_of(XML_SAFE, NEWS_CHARS)


@functools.cache
def xml_text(min_size: int = 0, max_size: int = 40) -> st.SearchStrategy[str]:
    """Any XML-safe text (may have surrounding white space and newlines)."""
    return st.text(
        st.one_of(XML_SAFE, NEWS_CHARS, st.just("\n")), min_size=min_size, max_size=max_size
    )


@functools.cache
def line_text(min_size: int = 1, max_size: int = 60) -> st.SearchStrategy[str]:
    """One stripped, non-empty line of XML-safe text (what a paragraph of the format is)."""
    return (
        st.text(_LINE_CHARS, min_size=min_size, max_size=max_size)
        .map(lambda s: " ".join(s.split("\n")).strip())
        .filter(bool)
    )


@st.composite
def spans_for(draw: st.DrawFn, text: str, max_spans: int = 3) -> tuple[Span, ...]:
    """Valid stand-off spans over ``text`` (offsets within it, links with an href)."""
    out = []
    for _ in range(draw(st.integers(0, max_spans))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, len(text)))
        kind = draw(st.sampled_from(SPAN_KINDS))
        attributes = {"href": draw(st.sampled_from(["https://example.org/a", "/b?c=1&d=2"]))}
        out.append(Span(start, end, kind, attributes if kind == "link" else {}))
    return tuple(out)


@st.composite
def blocks(draw: st.DrawFn, text: st.SearchStrategy[str] | None = None) -> Block:
    """A block with text, a kind, a 1-based line span (or none) and spans."""
    body = draw(text if text is not None else xml_text(1, 60))
    kind = draw(st.sampled_from(["paragraph", "paragraph", "credit", "caption", "timestamp"]))
    if draw(st.booleans()):
        start = draw(st.integers(1, 500))
        line_start, line_end = start, start + draw(st.integers(0, 5))
    else:
        line_start = line_end = None
    return Block(body, kind, line_start, line_end, draw(spans_for(body)))


keys = st.lists(
    st.text(string.ascii_lowercase + string.digits + "-_", min_size=1, max_size=8).filter(
        lambda s: s not in (".", "..")
    ),
    min_size=1,
    max_size=3,
).map("/".join)

dates = st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2199, 12, 31))

timezones = st.one_of(
    st.none(),
    st.integers(-14 * 60, 14 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m))),
)

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**53), 2**53),
        st.floats(allow_nan=False, allow_infinity=False),
        xml_text(0, 10),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(xml_text(0, 6), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def sources(draw: st.DrawFn) -> Source:
    return Source(
        path=draw(keys) + ".txt",
        sha256=draw(st.text("0123456789abcdef", min_size=64, max_size=64)),
        encoding=draw(st.sampled_from(["utf-8", "utf-8-sig", "iso-8859-1", "windows-1252"])),
        size=draw(st.integers(0, 10**8)),
        format=draw(st.sampled_from(["article", "nitf", "json"])),
    )


@st.composite
def documents(draw: st.DrawFn) -> Document:
    """Any valid document: every field, spans, line spans, source and annotations."""
    date = draw(st.none() | dates)
    issued = None
    if draw(st.booleans()):
        day = date or draw(dates)
        issued = dt.datetime.combine(day, draw(st.times()), tzinfo=draw(timezones))
    return Document(
        key=draw(keys),
        title=draw(xml_text(0, 40)),
        date=date,
        byline=draw(st.none() | xml_text(1, 30)),
        blocks=tuple(draw(st.lists(blocks(), max_size=5))),
        source=draw(st.none() | sources()),
        annotations=draw(st.dictionaries(st.sampled_from(["article", "x", "y"]), json_values)),
        dateline=draw(st.none() | xml_text(1, 20)),
        abstract=draw(st.none() | xml_text(1, 40)),
        keywords=tuple(draw(st.lists(line_text(1, 12), max_size=3))),
        urgency=draw(st.none() | st.integers(1, 8)),
        language=draw(st.none() | st.sampled_from(["en", "ml", "ta", "sq", "en-GB"])),
        issued=issued,
    )


#: Capitalised words, as in a byline ("By Jane Doe and AFP").
byline_names = (
    st.lists(
        st.sampled_from(["Jane", "Doe", "AFP", "Reuters", "O'Neil", "María", "Łukasz", "and"]),
        min_size=1,
        max_size=4,
    )
    .map(" ".join)
    .filter(lambda s: not s.startswith("and"))
)


def _no_header(title: str) -> bool:
    first = title.split(None, 1)[0] if title.split() else ""
    return first != "date"


def _not_byline(text: str) -> bool:
    head = text[:3]
    return not (head[:2] in ("By", "BY", "by") and (len(text) == 2 or text[2].isspace()))


@st.composite
def article_documents(draw: st.DrawFn, key: str = "doc") -> Document:
    """Documents the article format holds exactly: title, date, issue time, byline, paragraphs.

    Paragraphs are single stripped lines that do not look like bylines; a title without a
    date does not start with the word ``date`` (it would read as a header).
    """
    date = draw(st.none() | dates)
    title = draw(st.just("") | line_text(1, 50))
    if date is None:
        title = draw(line_text(1, 50).filter(_no_header))
    issued = None
    if date is not None and draw(st.booleans()):
        time = draw(st.times()).replace(microsecond=0)
        issued = dt.datetime.combine(date, time, tzinfo=draw(timezones))
    paragraphs = draw(st.lists(line_text(1, 150).filter(_not_byline), min_size=1, max_size=5))
    return Document(
        key=key,
        title=title,
        date=date,
        issued=issued,
        byline=draw(st.none() | byline_names),
        blocks=tuple(Block(text) for text in paragraphs),
    )

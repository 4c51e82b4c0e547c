"""corpus-quotes: find direct quotations in news articles, and who said them.

An ``enrich`` plugin for ``corpus``. For every document it

- stores ``annotations["quotes"]``: the quotations (block, offsets, text, speaker, kind) and
  the people named in the article, and
- marks each quotation with a stand-off ``Span(kind="quote")`` and each mention of a person
  with ``Span(kind="person")``, so the NITF exporter writes ``<q>`` and ``<person>``.

It works on English news prose with rules, not a model: a quotation is text between double
quotes (curly or straight, in any pairing, or an opening quote that runs to the end of the
paragraph); a person is a run of two or three capitalised words introduced by a title
("President", "Mr") or followed by an apposition (", a member of ...") or a speech verb
("said", "told"). The speaker is found, in this order, from an attribution right after the
quotation (``"...," he said``), from a speech verb earlier in the same sentence (``Oleg Smolin
said he was "shocked"``), or, for a paragraph that is nothing but a quotation, from the
quotation in the paragraph before. Pronouns resolve to the last person named. A quotation of
one to three words (a quoted term such as "shocked") has kind ``term``; longer ones are
``statement``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import attrs

from corpus import Document, Span, hookimpl

#: Key of this plugin's entry in ``document.annotations``.
ANNOTATION_KEY = "quotes"

_OPEN = '“"'
_CLOSE = '”"'
_QUOTE_RE = re.compile(r"(?<!\w)[“\"](?P<body>[^“”\"\n]+?)(?:[”\"](?!\w)|$)")

_WORD = r"[A-ZÀ-ÖØ-Þ][a-zß-ÿ]+(?:[-’'][A-Za-zß-ÿ]+)*"
_RUN_RE = re.compile(rf"{_WORD}(?:[ \u00a0]+{_WORD})*")
_MULTI_RUN_RE = re.compile(rf"{_WORD}(?:[ \u00a0]+{_WORD})+")
_WORD_RE = re.compile(_WORD)

_SPEECH_VERBS = (
    "said|says|told|tells|added|adds|asked|asks|warned|warns|argued|argues|wrote|writes|"
    "explained|insisted|claimed|stated|declared|replied|noted"
)
_SPEECH_RE = re.compile(rf"\b(?:{_SPEECH_VERBS})\b")
_AFTER_RE = re.compile(
    rf"^(?:(?P<who>he|she|they|{_WORD}(?:\s+{_WORD}){{0,2}})\s+(?:{_SPEECH_VERBS})\b"
    rf"|(?:{_SPEECH_VERBS})\s+(?P<who2>{_WORD}(?:\s+{_WORD}){{0,2}}|he|she))"
)
_PRONOUN_RE = re.compile(r"\b(?:he|she|He|She)\b")
_SENTENCE_END_RE = re.compile(r"[.!?][”\"’)]?\s+(?=[“\"A-ZÀ-Þ0-9])")


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Words that introduce a person's name and are not part of it.
_TITLES = _word_set(
    "President Mr Mrs Ms Miss Dr Prof Professor Sir Dame Senator Chancellor Mayor Judge "
    "Minister Governor Pope Rev Lord Lady General Colonel Captain"
)
#: Other words dropped from the front of a capitalised run ("The", "Another", "Communist").
_LEADING = _word_set(
    "The A An Another Former Ex Prime Foreign Deputy Vice Communist Labour Conservative "
    "Democrat Republican Liberal Socialist Green Opposition MP Then Now When But And So "
    "Russian American British Ukrainian French German Chinese"
)
#: A run containing one of these names an organisation or place, not a person.
_NON_PERSON = _word_set(
    "Duma Council Ministry Office House Parliament Kremlin Government Party Union Court "
    "Committee Agency Bank University Company Corporation News Republic Republics "
    "Assembly Senate Congress Commission Department Police Army Navy Service Times Post "
    "Association Institute Foundation Group Club League Street City Square Station "
    "Airport Hospital School College Church Museum Monday Tuesday Wednesday Thursday "
    "Friday Saturday Sunday January February March April May June July August September "
    "October November December"
)
_APPOSITION_RE = re.compile(rf"^(?:,\s+[a-z]|\s+(?:{_SPEECH_VERBS})\b)")


@attrs.frozen
class Mention:
    """A person named in block ``block`` at ``start:end``; ``name`` is the full name."""

    block: int
    start: int
    end: int
    name: str


@attrs.frozen
class Quote:
    """A quotation: ``text`` is what was said, without the quotation marks."""

    block: int
    start: int
    end: int
    text: str
    speaker: str | None
    kind: str  # "statement" or "term"

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def find_quotes(text: str) -> Iterator[tuple[int, int]]:
    """Offsets of the quoted text (inside the marks) of every quotation in ``text``."""
    if '"' not in text and "“" not in text:
        return  # most paragraphs quote no one: no regex scan
    for match in _QUOTE_RE.finditer(text):
        start, end = match.span("body")
        stripped = match.group("body").strip()
        if not stripped or not any(c.isalpha() for c in stripped):
            continue
        body = match.group("body")
        lead = len(body) - len(body.lstrip())
        trail = len(body) - len(body.rstrip().rstrip(","))  # '"...Kyiv," he said'
        yield start + lead, end - trail


def find_people(text: str, known: dict[str, str] | None = None) -> Iterator[tuple[int, int, str]]:
    """``(start, end, full name)`` of every person named in ``text``.

    ``known`` maps a surname to a full name seen earlier, so that "Mr Putin" after "Vladimir
    Putin" is the same person; new names are added to it.
    """
    known = {} if known is None else known
    if not known and text[1:].islower():
        return  # one capital letter at most: no name of two words (a cheap test, no regex)
    pos = 0
    while True:
        # Until a full name is known, one capitalised word cannot be a person: look only for
        # runs of two or more words (far fewer matches), then for every run.
        run = (_RUN_RE if known else _MULTI_RUN_RE).search(text, pos)
        if run is None:
            return
        pos = run.end()
        group = run.group()
        if " " not in group and "\u00a0" not in group:
            # One capitalised word (most runs: "The", "Friday"): a person only when it is
            # the surname of someone named before. Same outcome as the general case below.
            if group in _TITLES or group in _LEADING or group in _NON_PERSON:
                continue
            full = known.get(group)
            if full is not None:
                yield run.start(), run.end(), full
            continue
        words = list(_WORD_RE.finditer(group))
        titles = [i for i, w in enumerate(words) if w.group() in _TITLES]
        titled = bool(titles)
        if titles:  # "Later Mr Putin": the name is what follows the last title
            words = words[titles[-1] + 1 :]
        while words and words[0].group() in _LEADING:
            words.pop(0)
        if not words or len(words) > 3:
            continue
        names = [w.group() for w in words]
        if any(n in _NON_PERSON for n in names):
            continue
        start = run.start() + words[0].start()
        end = run.start() + words[-1].end()
        if len(names) == 1:
            full = known.get(names[0])
            if full is None and not titled:
                continue
            yield start, end, full or names[0]
            continue
        if titled or _APPOSITION_RE.match(text[end:]) or " ".join(names) in known.values():
            full = " ".join(names)
            known.setdefault(names[-1], full)
            yield start, end, full


def _sentence_start(text: str, pos: int) -> int:
    start = 0
    for match in _SENTENCE_END_RE.finditer(text, 0, pos):
        start = match.end()
    return start


def _inside(pos: int, ranges: list[tuple[int, int]]) -> bool:
    return any(s <= pos < e for s, e in ranges)


def analyse(document: Document) -> tuple[list[Quote], list[Mention]]:
    """All quotations and person mentions of a document, in reading order."""
    known: dict[str, str] = {}
    quotes: list[Quote] = []
    mentions: list[Mention] = []
    for index, block in enumerate(document.blocks):
        text = block.text
        if not known and text[1:].islower() and '"' not in text and "“" not in text:
            continue  # most paragraphs: no quotation, no name (see find_quotes, find_people)
        spans = list(find_quotes(text))
        block_mentions = [
            Mention(index, s, e, name)
            for s, e, name in find_people(text, known)
            if not _inside(s, spans)
        ]
        for start, end in spans:
            before = [m for m in mentions + block_mentions if (m.block, m.start) < (index, start)]
            speaker = _speaker(text, start, end, index, before, block_mentions, known, quotes)
            words = len(text[start:end].split())
            kind = "statement" if words > 3 else "term"
            quotes.append(Quote(index, start, end, text[start:end], speaker, kind))
        mentions.extend(block_mentions)
    return quotes, mentions


def _speaker(
    text: str,
    start: int,
    end: int,
    index: int,
    before: list[Mention],
    block_mentions: list[Mention],
    known: dict[str, str],
    quotes: list[Quote],
) -> str | None:
    last = before[-1].name if before else None
    after = _AFTER_RE.match(text[end:].lstrip(',.”"’ '))
    if after:
        who = after.group("who") or after.group("who2")
        if who.lower() in ("he", "she", "they"):
            return last
        return known.get(who.split()[-1], who)
    sentence = _sentence_start(text, start)
    verb = _SPEECH_RE.search(text, sentence, start)
    if verb:
        subjects = [m for m in block_mentions if sentence <= m.start < verb.start()]
        if subjects:
            return subjects[0].name
        if _PRONOUN_RE.search(text, sentence, verb.start()):
            return last
    opening = text[:start].strip()
    previous = [q for q in quotes if q.block == index - 1 and q.kind == "statement"]
    if opening in ("", *_OPEN) and previous:
        return previous[-1].speaker
    return None


def _add_spans(block: Any, new: list[Span]) -> tuple[Span, ...]:
    """Block spans plus ``new``, skipping duplicates and spans crossing an existing one."""
    spans = list(block.spans)
    for span in new:
        if any(
            (s.start, s.end, s.kind) == (span.start, span.end, span.kind)
            or (s.start < span.start < s.end < span.end)
            or (span.start < s.start < span.end < s.end)
            for s in spans
        ):
            continue
        spans.append(span)
    return tuple(spans)


def quotes_document(document: Document) -> Document:
    """The document with quotation and person spans added and ``annotations["quotes"]`` set."""
    quotes, mentions = analyse(document)
    # New spans by block: most blocks get none, and those are kept as they are.
    new: dict[int, list[Span]] = {}
    for quote in quotes:
        new.setdefault(quote.block, []).append(Span(quote.start, quote.end, "quote"))
    for mention in mentions:
        new.setdefault(mention.block, []).append(Span(mention.start, mention.end, "person"))
    blocks = list(document.blocks)
    for index, spans in new.items():
        blocks[index] = attrs.evolve(blocks[index], spans=_add_spans(blocks[index], spans))
    people: dict[str, int] = {}
    for mention in mentions:
        people[mention.name] = people.get(mention.name, 0) + 1
    for quote in quotes:
        if quote.speaker and quote.speaker not in people:
            people[quote.speaker] = 0
    annotation = {
        "quotes": [q.to_dict() for q in quotes],
        "people": [{"name": name, "mentions": n} for name, n in people.items()],
    }
    return attrs.evolve(
        document,
        blocks=tuple(blocks),
        annotations={**document.annotations, ANNOTATION_KEY: annotation},
    )


@hookimpl
def enrich(document: Document) -> Document:
    """Add quotation and person markup and the ``quotes`` annotation."""
    return quotes_document(document)

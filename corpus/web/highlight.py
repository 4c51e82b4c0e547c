"""Search snippets made in Python from a document's text, with the query's words marked.

The pages do not use FTS5's ``snippet()``: it depends on how the full-text table keeps its text
(with content, external content or none), which the store may change. Matching here is for the
eye only (the ranking is SQLite's): words are compared case- and accent-folded, with a light
suffix stripping standing in for the index's Porter stemmer, so ``vote`` marks ``voted``.
"""

from __future__ import annotations

import re
import unicodedata

import attrs

_TERM = re.compile(r"\w+\*?", re.UNICODE)
_WORD = re.compile(r"\w+", re.UNICODE)
_OPERATORS = {"AND", "OR", "NOT", "NEAR"}
_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ied", "ers", "er", "ed", "es", "ly", "s")


@attrs.frozen
class Piece:
    """A run of text, marked when it matches the query."""

    text: str
    marked: bool = False


def fold(word: str) -> str:
    """Lower case without accents (as the index's ``remove_diacritics 2`` folds them)."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def stem(word: str) -> str:
    """A crude English stem: enough to mark ``voted`` for ``vote``, ``deputies`` for ``deputy``."""
    w = fold(word)
    for suffix in _SUFFIXES:
        if len(w) > len(suffix) + 2 and w.endswith(suffix):
            w = w[: -len(suffix)]
            break
    if len(w) > 3 and w[-1] in "ey":
        w = w[:-1]
    return w


@attrs.frozen
class Terms:
    """The words of an FTS5 query: whole words (stemmed) and ``prefix*`` prefixes (folded)."""

    stems: frozenset[str]
    prefixes: tuple[str, ...]

    @classmethod
    def from_query(cls, query: str) -> Terms:
        stems: set[str] = set()
        prefixes: list[str] = []
        # Column filters (``title:word``) name a column, not a word to mark.
        text = re.sub(r"\b\w+\s*:", " ", query)
        for token in _TERM.findall(text):
            if token.rstrip("*") in _OPERATORS:
                continue
            if token.endswith("*"):
                prefixes.append(fold(token[:-1]))
            elif not token.isdigit() or len(token) > 1:
                stems.add(stem(token))
        return cls(frozenset(stems), tuple(p for p in prefixes if p))

    def matches(self, word: str) -> bool:
        if stem(word) in self.stems:
            return True
        folded = fold(word)
        return any(folded.startswith(p) for p in self.prefixes)

    def __bool__(self) -> bool:
        return bool(self.stems or self.prefixes)


def mark(text: str, terms: Terms) -> list[Piece]:
    """``text`` cut into pieces, the words matching ``terms`` marked."""
    out: list[Piece] = []
    pos = 0
    for match in _WORD.finditer(text):
        if terms.matches(match.group()):
            if match.start() > pos:
                out.append(Piece(text[pos : match.start()]))
            out.append(Piece(match.group(), True))
            pos = match.end()
    if pos < len(text):
        out.append(Piece(text[pos:]))
    return out


def snippet(paragraphs: list[str], terms: Terms, *, words: int = 32) -> list[Piece]:
    """The window of about ``words`` words with the most matches, marked, with ``…`` at cuts.

    Falls back to the start of the text when nothing matches (a match in the title only).
    """
    best: tuple[int, int, int] | None = None  # (hits, paragraph, first word)
    for p, text in enumerate(paragraphs):
        spans = [m.span() for m in _WORD.finditer(text)]
        hits = [terms.matches(text[a:b]) for a, b in spans]
        for start in range(0, max(1, len(spans) - words + 1), max(1, words // 4)):
            count = sum(hits[start : start + words])
            if best is None or count > best[0]:
                best = (count, p, start)
        if not spans and best is None:
            best = (0, p, 0)
    if best is None:
        return []
    _, p, start = best
    text = paragraphs[p]
    spans = [m.span() for m in _WORD.finditer(text)]
    if not spans:
        return mark(text[:200], terms)
    # Start a little before the first hit in the window, so it is not the first word shown.
    first = next((k for k in range(start, min(len(spans), start + words)) if terms.matches(
        text[spans[k][0] : spans[k][1]])), start)  # fmt: skip
    start = max(0, min(start, first - 4))
    end = min(len(spans), start + words)
    a = spans[start][0] if start > 0 else 0
    b = spans[end - 1][1] if end < len(spans) else len(text)
    pieces = mark(text[a:b], terms)
    if a > 0:
        pieces.insert(0, Piece("… "))
    if b < len(text):
        pieces.append(Piece(" …"))
    return pieces

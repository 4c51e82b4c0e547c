"""Pairs of common words, indexed so that a phrase of common words is found fast (schema 10).

The full-text index keeps no token positions (schema 8): a phrase is checked on the text of
every document that holds all of its words. For a phrase of two words that are each in a
tenth of the store but seldom side by side (``"duma vote"``), that was tens of thousands of
documents read for a handful of matches. Like the *common grams* of search engines, the
store therefore keeps a second, small index (table ``pairs``): for each document, every two
adjacent words that are both *common* (among the :data:`COMMON_MOST` stems found in at least
:data:`COMMON_SHARE` of the store's first documents), as one token: the two stems' one-letter
codes (CJK ideographs, which the index's tokenizer keeps together as one word). A phrase
holding such a pair is then checked only on the documents that hold the pair. Pairs of rarer
words are not kept: a rare word has few documents to check anyway.

Words are split and stemmed exactly as the full-text index does (``porter unicode61
remove_diacritics 2``): SQLite's own tokenizer stems each new word once (a cache keeps it),
and a text with characters other than ASCII and common punctuation is tokenized by SQLite
whole. A pair the index misses would lose a match, so nothing here approximates.
"""

from __future__ import annotations

import operator
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

try:  # the C scanner, built with the package where a C compiler was at hand
    from ._pairscan import CodeTable
except ImportError:  # pragma: no cover - the Python path makes the same pairs, slower
    CodeTable = None

#: The index's tokenizer (schema.py); pairs are of its tokens.
TOKENIZE = "porter unicode61 remove_diacritics 2"
#: A stem is common when at least this share of the sampled documents hold it...
COMMON_SHARE = 0.05
#: ... and it is among this many of the most frequent (the index stays small: at most this
#: squared distinct pairs).
COMMON_MOST = 512
#: Classes of common stems: a pair is indexed by its two stems' classes, so that the index has
#: few distinct tokens (FTS5 pays per distinct token of a batch far more than per document).
CLASSES = 128
#: Documents the common words are chosen from (a new store's first ones).
SAMPLE = 2000
#: Words whose stems are remembered; the cache starts again when full (memory stays flat).
CACHE_MOST = 100_000

_ASCII_TOKEN = re.compile("[a-z0-9]+")
#: ASCII bytes to their tokens, lowercased, with ``bytes.split`` (faster than a regular
#: expression): letters and digits stay (capitals lowered), every other byte is a space.
_TOKEN_BYTES = bytes(
    ord(chr(c).lower()) if c < 128 and chr(c).isalnum() else ord(" ") for c in range(256)
)
#: The code of the first common stem (CJK ideographs from here on: 20,000 letters, no space).
_FIRST_CODE = 0x4E00
#: The C scanner's code for a word whose stem is not common.
_RARE = 255
#: Two adjacent codes of common stems, overlapping.
_ADJACENT = re.compile(r"(?=(\S\S))")
#: Non-ASCII characters that are separators for the tokenizer (Unicode punctuation and
#: spaces): a text whose only other characters are these is split without SQLite.
_SEPARATORS = str.maketrans(
    dict.fromkeys(
        "\u00a0\u00ab\u00b7\u00bb\u2009\u200a\u2010\u2011\u2012\u2013\u2014\u2015\u2018"
        "\u2019\u201a\u201c\u201d\u201e\u2022\u2026\u202f\u2032\u2033\u2039\u203a\u3000",
        " ",
    )
)


class Stemmer:
    """A text's tokens as the full-text index keeps them (split, folded, stemmed), in order."""

    def __init__(self) -> None:
        self._conn = sqlite3.connect(":memory:")
        self._conn.execute(f"CREATE VIRTUAL TABLE t USING fts5 (a, b, tokenize = '{TOKENIZE}')")
        self._conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab (t, instance)")
        self._stems: dict[str, str] = {}

    def columns(self, *texts: str) -> list[list[str]]:
        """The stems of each text (at most two: title and body), in order."""
        simple = [_simple(text) for text in texts]
        if any(text is None for text in simple):
            return self._by_sqlite(texts)
        words = [_ASCII_TOKEN.findall(text) for text in simple]  # type: ignore[arg-type]
        stems = self._stems
        unknown = {w for column in words for w in column if w not in stems}
        if unknown:
            self._learn(sorted(unknown))
        return [[stems[w] for w in column] for column in words]

    def stems(self, words: Sequence[str]) -> list[str]:
        """The stem of each (unstemmed, already split) word."""
        unknown = sorted({w for w in words if w not in self._stems})
        if unknown:
            self._learn(unknown)
        return [self._stems.get(w, w) for w in words]

    def _learn(self, words: list[str]) -> None:
        if len(self._stems) + len(words) > CACHE_MOST:
            self._stems.clear()
        self._conn.execute("DELETE FROM t")
        self._conn.executemany(
            "INSERT INTO t (rowid, a, b) VALUES (?, ?, '')", enumerate(words, start=1)
        )
        for doc, term in self._conn.execute("SELECT doc, term FROM v"):
            self._stems[words[doc - 1]] = term

    def _by_sqlite(self, texts: Sequence[str]) -> list[list[str]]:
        self._conn.execute("DELETE FROM t")
        padded = [*texts, "", ""][:2]
        self._conn.execute("INSERT INTO t (rowid, a, b) VALUES (1, ?, ?)", padded)
        columns: list[list[str]] = [[] for _ in texts]
        rows = self._conn.execute("SELECT col, term FROM v ORDER BY col, offset")
        for col, term in rows:
            index = 0 if col == "a" else 1
            if index < len(columns):
                columns[index].append(term)
        return columns

    def close(self) -> None:
        self._conn.close()


def _plain_bytes(text: str) -> bytes | None:
    """``text`` as ASCII bytes, if its tokens are its runs of ASCII letters and digits."""
    if not text.isascii():
        text = text.translate(_SEPARATORS)
        if not text.isascii():
            return None
    return text.encode("ascii")


def _simple(text: str) -> str | None:
    """``text`` lowercased, if its tokens are its runs of ASCII letters and digits."""
    if not text.isascii():
        text = text.translate(_SEPARATORS)
        if not text.isascii():
            return None
    return text.lower()


def codes_of(common: Sequence[str]) -> dict[str, str]:
    """Each common stem's one-letter code (``common`` most frequent first): its rank modulo
    :data:`CLASSES`. A pair is indexed as its two stems' codes, so one token stands for the
    pairs of two classes, each class holding one stem of every :data:`CLASSES` ranks."""
    return {stem: chr(_FIRST_CODE + i % CLASSES) for i, stem in enumerate(common)}


def pair_tokens(columns: Iterable[Sequence[str]], codes: dict[str, str]) -> str:
    """The pairs text of a document's stems (one list per column), for common stems
    ``codes`` (:func:`codes_of`): each two adjacent common stems as their two codes, once,
    sorted. What :meth:`PairMaker.pairs` gives, word by word."""
    found: set[str] = set()
    for stems in columns:
        previous = None
        for stem in stems:
            code = codes.get(stem)
            if code is not None and previous is not None:
                found.add(previous + code)
            previous = code
    return " ".join(sorted(found))


def phrase_pairs(stems: Sequence[str | None], codes: dict[str, str]) -> list[str]:
    """The pair tokens a document must hold to match a phrase of ``stems`` (None for a word
    that is not known whole, such as a prefix: no pair with it), for common stems ``codes``."""
    coded = [codes.get(stem) if stem is not None else None for stem in stems]
    return [a + b for a, b in zip(coded, coded[1:], strict=False) if a and b]


def choose_common(documents: Iterable[Sequence[Sequence[str]]]) -> list[str]:
    """The common stems of sampled ``documents`` (each its stems, one list per column)."""
    counts: Counter[str] = Counter()
    total = 0
    for columns in documents:
        total += 1
        counts.update({stem for stems in columns for stem in stems})
    least = max(2.0, COMMON_SHARE * total)
    ranked = sorted((-n, stem) for stem, n in counts.items() if n >= least)
    return [stem for _, stem in ranked[:COMMON_MOST]]


class PairMaker:
    """The pairs text of documents, for one store's common words.

    A worker makes the pairs of every document, so plain text takes the fastest path there
    is: the C scanner (:mod:`corpus.store._pairscan`, built with the package when a C
    compiler is at hand) or, without it, a Python path that stays in C functions as far as
    it can. Both look each word up in a table of the words seen so far (its stem's class
    code, or none); a word not seen before is stemmed by SQLite first. ``accelerated=False``
    takes the Python path even where the scanner is built (tests compare the two).
    """

    def __init__(self, common: Sequence[str], *, accelerated: bool = True) -> None:
        #: The store's common stems, most frequent first.
        self.common = tuple(common)
        self._stemmer = Stemmer()
        self._codes = codes_of(self.common)
        # The Python path: every word seen maps to its stem's code (or a space), a text
        # becomes a string of codes, and its pairs are its adjacent non-space letters.
        self._marks: dict[bytes, str] = {}
        self._table = CodeTable() if accelerated and CodeTable is not None else None

    @property
    def accelerated(self) -> bool:
        """Whether plain text is scanned in C."""
        return self._table is not None

    def pairs(self, title: str, body: str) -> str:
        """The pairs text of a document: the pairs :func:`pair_tokens` gives for its stems
        (in any order: the index keeps none)."""
        plain_title, plain_body = _plain_bytes(title), _plain_bytes(body)
        if plain_title is None or plain_body is None:
            return pair_tokens(self._stemmer.columns(title, body), self._codes)
        if self._table is not None:
            made = self._table.pairs(plain_title, plain_body)
            while isinstance(made, list):  # words not seen before
                self._learn_in_table(made)
                made = self._table.pairs(plain_title, plain_body)
            if made is not None:  # else a word too long for its table: the Python path
                return made
        found: set[str] = set()
        for text in (plain_title, plain_body):
            words = text.translate(_TOKEN_BYTES).split()
            if len(words) < 2:
                continue
            try:
                coded = "".join(operator.itemgetter(*words)(self._marks))
            except KeyError:  # a word not seen before
                self._learn(words)
                coded = "".join(operator.itemgetter(*words)(self._marks))
            found.update(_ADJACENT.findall(coded))
        return " ".join(found)

    def _learn(self, words: list[bytes]) -> None:
        unknown = sorted(set(words).difference(self._marks))
        if len(self._marks) + len(unknown) > CACHE_MOST:
            self._marks.clear()
            unknown = sorted(set(words))
        codes = self._codes
        stems = self._stemmer.stems([w.decode("ascii") for w in unknown])
        for word, stem in zip(unknown, stems, strict=True):
            self._marks[word] = codes.get(stem, " ")

    def _learn_in_table(self, words: list[bytes]) -> None:
        table = self._table
        assert table is not None
        unknown = sorted(set(words))
        if len(table) + len(unknown) > CACHE_MOST:
            table.clear()  # the document's other words come back as unknown: learnt next
        stems = self._stemmer.stems([w.decode("ascii") for w in unknown])
        for word, stem in zip(unknown, stems, strict=True):
            code = self._codes.get(stem)
            table.add(word, ord(code) - _FIRST_CODE if code is not None else _RARE)

    def stems(self, title: str, body: str) -> list[list[str]]:
        return self._stemmer.columns(title, body)

    def close(self) -> None:
        self._stemmer.close()


def read_common(conn: sqlite3.Connection) -> tuple[str, ...]:
    """A store's common words (none before it has chosen them, or before schema 10)."""
    try:
        return tuple(s for (s,) in conn.execute("SELECT stem FROM common_words ORDER BY rank"))
    except sqlite3.OperationalError:
        return ()


def _latest_texts(
    conn: sqlite3.Connection, limit: int | None = None
) -> Iterator[tuple[int, str, str]]:
    """``(document id, title, body)`` of each document's latest version, by id."""
    from . import payload
    from .store import register_dictionaries

    register_dictionaries(conn)
    sql = (
        "SELECT d.id, v.document FROM documents d "
        "JOIN versions v ON v.doc_id = d.id AND v.n = d.latest ORDER BY d.id"
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    for doc_id, stored in conn.execute(sql):
        yield (doc_id, *payload.search_text(stored))


def choose_and_index(conn: sqlite3.Connection) -> bool:
    """Choose the store's common words from its first :data:`SAMPLE` documents and index the
    pairs of every document, if it has that many and has not chosen yet; whether it did."""
    if read_common(conn):
        return False
    (count,) = conn.execute("SELECT count(*) FROM documents").fetchone()
    if count < SAMPLE:
        return False
    stemmer = Stemmer()
    try:
        sample = [stemmer.columns(title, body) for _, title, body in _latest_texts(conn, SAMPLE)]
    finally:
        stemmer.close()
    save_common(conn, choose_common(sample))
    return True


def save_common(conn: sqlite3.Connection, common: Sequence[str]) -> None:
    """Keep the store's common words and index every document's pairs (in the caller's
    transaction). Done once: the pairs indexed are made with these words for good."""
    conn.executemany("INSERT INTO common_words (rank, stem) VALUES (?, ?)", enumerate(common))
    maker = PairMaker(common)
    try:
        # Read through a second cursor while inserting: each row's pairs go in as it comes.
        for doc_id, title, body in _latest_texts(conn):
            conn.execute(
                "INSERT INTO pairs (rowid, tokens) VALUES (?, ?)",
                (doc_id, maker.pairs(title, body)),
            )
    finally:
        maker.close()

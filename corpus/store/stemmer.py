"""Words as the store's full-text index keeps them: split, folded and stemmed by SQLite.

The index's tokenizer (``porter unicode61 remove_diacritics 2``) runs inside SQLite; a
query's words and the pair signatures (:mod:`corpus.store.pairs`) need the same stems in
Python, exactly. So a private in-memory FTS5 table with that tokenizer stems each word once
(a cache keeps it), and plain text (ASCII letters, digits and common punctuation, where the
tokens are the runs of letters and digits) is split in Python; any other text is tokenized
by SQLite whole.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence

from .snippets import TOKENIZE

#: Words whose stems are remembered; the cache starts again when full (memory stays flat).
CACHE_MOST = 100_000

_ASCII_TOKEN = re.compile("[a-z0-9]+")
#: Non-ASCII characters that are separators for the tokenizer (Unicode punctuation and
#: spaces): a text whose only other characters are these is split without SQLite.
_SEPARATORS = str.maketrans(
    dict.fromkeys(
        "\u00a0\u00ab\u00b7\u00bb\u2009\u200a\u2010\u2011\u2012\u2013\u2014\u2015\u2018"
        "\u2019\u201a\u201c\u201d\u201e\u2022\u2026\u202f\u2032\u2033\u2039\u203a\u3000",
        " ",
    )
)


def plain_text(text: str) -> str | None:
    """``text`` with its non-ASCII separators made spaces, if its tokens are then its runs
    of ASCII letters and digits; None when it holds other characters."""
    if not text.isascii():
        text = text.translate(_SEPARATORS)
        if not text.isascii():
            return None
    return text


class Stemmer:
    """A text's tokens as the full-text index keeps them (split, folded, stemmed), in order."""

    def __init__(self) -> None:
        self._conn = sqlite3.connect(":memory:")
        self._conn.execute(f"CREATE VIRTUAL TABLE t USING fts5 (a, b, tokenize = '{TOKENIZE}')")
        self._conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab (t, instance)")
        self._stems: dict[str, str] = {}

    def columns(self, *texts: str) -> list[list[str]]:
        """The stems of each text (at most two: title and body), in order."""
        plain = [plain_text(text) for text in texts]
        if any(text is None for text in plain):
            return self._by_sqlite(texts)
        words = [_ASCII_TOKEN.findall(text.lower()) for text in plain]  # type: ignore[union-attr]
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

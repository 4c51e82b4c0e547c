"""Search snippets made from the documents a search page shows.

The store's full-text index is contentless (it keeps no copy of the text, which would double
a store's size), so FTS5's ``snippet()`` has nothing to cut from. The few documents a page
shows are indexed again in a private in-memory FTS5 table with the same tokenizer and matched
with the same query, so snippets are exactly the ones ``snippet()`` on the store gave before.
The same table decides the phrase, ``NEAR`` and ``^`` parts of a query, which the store's
index (no token positions since schema 8) cannot: see :mod:`corpus.store.query`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

#: The store's tokenizer (schema.py): the same words must match here as there.
TOKENIZE = "porter unicode61 remove_diacritics 2"


def make_snippets(query: str, texts: Sequence[tuple[str, str]], *, tokens: int = 12) -> list[str]:
    """One snippet per (title, body) in ``texts`` for the FTS5 ``query``, ``[match]`` marked.

    A text the query does not match (its document changed since it was ranked) gets its title.
    """
    found = dict(_matches(query, texts, f"snippet(t, -1, '[', ']', '...', {int(tokens)})"))
    return [found.get(i, title) for i, (title, _) in enumerate(texts)]


def matching(query: str, texts: Sequence[tuple[str, str]]) -> set[int]:
    """The indexes of the ``texts`` that the FTS5 ``query`` matches.

    The table here keeps token positions, so phrases, ``NEAR`` and ``^`` are decided exactly:
    this is how a search checks the candidates the store's position-less index gave it.
    """
    return {i for i, _ in _matches(query, texts, "NULL")}


def _matches(query: str, texts: Sequence[tuple[str, str]], what: str) -> list[tuple[int, str]]:
    if not texts:
        return []
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(f"CREATE VIRTUAL TABLE t USING fts5 (title, body, tokenize = '{TOKENIZE}')")
        conn.executemany(
            "INSERT INTO t (rowid, title, body) VALUES (?, ?, ?)",
            [(i, title, body) for i, (title, body) in enumerate(texts)],
        )
        return conn.execute(f"SELECT rowid, {what} FROM t WHERE t MATCH ?", (query,)).fetchall()
    finally:
        conn.close()

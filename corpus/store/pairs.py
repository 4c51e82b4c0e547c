"""Signatures of pairs of common words, so that a phrase of common words is found fast.

The full-text index keeps no token positions (schema 8): a phrase is checked on the text of
every document that holds all of its words. For a phrase of two words that are each in a
fifth of the store but seldom side by side (``"duma vote"``), that was tens of thousands of
documents read for a handful of matches. Like the *common grams* of search engines, the
store therefore keeps, for each document, which pairs of adjacent words it holds whose stems
are both *common* (among the :data:`COMMON_MOST` stems found in at least :data:`COMMON_SHARE`
of the store's first documents). Not as an index (a second full-text index of pairs cost
the single writer too much at 1,000,000 documents; ``docs/scaling.md``) but as a Bloom
filter of :data:`BLOCKS` 64-bit integers a document (table ``pair_signatures``, schema 10),
in which each pair sets :data:`BITS_PER_PAIR` bits. A phrase search joins the
candidates the full-text index gives with their signatures and keeps, in SQLite, only those
whose bits hold every pair of the phrase, so only those are read and checked on their text.
Pairs of rarer words are not kept: a rare word has few documents to check anyway.

Words are split and stemmed exactly as the full-text index does (``porter unicode61
remove_diacritics 2``): SQLite's own tokenizer stems each new word once (a cache keeps it),
and a text with characters other than ASCII and common punctuation is tokenized by SQLite
whole. A filter may let through a document that does not match (about 1 in 300 of those
holding both words, measured), never hold back one that does, so nothing here approximates.
"""

from __future__ import annotations

import functools
import sqlite3
import struct
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

from . import payload
from .stemmer import CACHE_MOST, Stemmer, plain_text

try:  # the C scanner, built with the package where a C compiler was at hand
    from ._pairscan import CodeTable
except ImportError:  # pragma: no cover - the Python path makes the same signature, slower
    CodeTable = None

#: A stem is common when at least this share of the sampled documents hold it...
COMMON_SHARE = 0.05
#: ... and it is among this many of the most frequent.
COMMON_MOST = 512
#: Documents the common words are chosen from (a new store's first ones).
SAMPLE = 2000
#: A signature's 64-bit integers (columns ``s0`` to ``s31`` of ``pair_signatures``)...
BLOCKS = 32
#: ... and the bits each pair sets (a Bloom filter's hash functions).
BITS_PER_PAIR = 5

#: The C scanner's code for a word whose stem is not common.
_RARE = 0xFFFF
_MASK64 = (1 << 64) - 1
#: A signature as the C scanner returns it: its integers, little-endian, signed as SQLite's.
_PACKED = struct.Struct(f"<{BLOCKS}q")
Signature = tuple[int, ...]


def _plain_bytes(text: str) -> bytes | None:
    """``text`` as ASCII bytes, if its tokens are its runs of ASCII letters and digits."""
    plain = plain_text(text)
    return plain.encode("ascii") if plain is not None else None


def ranks_of(common: Sequence[str]) -> dict[str, int]:
    """Each common stem's rank (``common`` most frequent first): its code in a pair."""
    return {stem: i for i, stem in enumerate(common)}


def _mix(value: int) -> int:
    """SplitMix64's finalizer: 64 well-mixed bits of ``value`` (as _pairscan.c computes)."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


@functools.lru_cache(maxsize=1 << 16)
def pair_bits(first: int, second: int) -> dict[int, int]:
    """The bits the pair of common stems of ranks ``first`` then ``second`` sets: by block
    (0 to :data:`BLOCKS` - 1), a signed 64-bit mask. :data:`BITS_PER_PAIR` positions of the
    signature's bits by double hashing (the second hash odd, so the positions differ)."""
    h = _mix((first << 16) | second)
    step = _mix(h) | 1
    bits: dict[int, int] = {}
    for i in range(BITS_PER_PAIR):
        position = ((h + i * step) & _MASK64) % (64 * BLOCKS)
        bits[position >> 6] = bits.get(position >> 6, 0) | 1 << (position & 63)
    return {block: _signed(mask) for block, mask in bits.items()}


def signature(columns: Iterable[Sequence[str]], ranks: dict[str, int]) -> Signature:
    """The signature of a document's stems (one list per column), for common stems ``ranks``
    (:func:`ranks_of`): the bits of each two adjacent common stems of a column. What
    :meth:`PairMaker.signature` gives, word by word."""
    blocks = [0] * BLOCKS
    for stems in columns:
        previous = None
        for stem in stems:
            rank = ranks.get(stem)
            if rank is not None and previous is not None:
                for block, mask in pair_bits(previous, rank).items():
                    blocks[block] |= mask
            previous = rank
    return tuple(blocks)


def phrase_bits(stems: Sequence[str | None], ranks: dict[str, int]) -> dict[int, int]:
    """The bits a document's signature must hold to match a phrase of ``stems`` (None for a
    word that is not known whole, such as a prefix: no pair with it), by block."""
    wanted: dict[int, int] = {}
    coded = [ranks.get(stem) if stem is not None else None for stem in stems]
    for a, b in zip(coded, coded[1:], strict=False):
        if a is not None and b is not None:
            for block, mask in pair_bits(a, b).items():
                wanted[block] = wanted.get(block, 0) | mask
    return wanted


def holds(signature: Signature, wanted: dict[int, int]) -> bool:
    """Whether ``signature`` holds the bits ``wanted`` (:func:`phrase_bits`)."""
    return all(signature[block] & mask == mask for block, mask in wanted.items())


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
    """The signature of documents, for one store's common words.

    A worker makes the signature of every document, so plain text takes the fastest path
    there is: the C scanner (:mod:`corpus.store._pairscan`, built with the package when a C
    compiler is at hand), which looks each word up in its own table of the words seen so far
    (its stem's rank, or none; a word not seen before is stemmed by SQLite first), or,
    without it, :func:`signature` over the :class:`~corpus.store.stemmer.Stemmer`'s stems.
    ``accelerated=False`` takes the Python path even where the scanner is built (tests
    compare the two).
    """

    def __init__(self, common: Sequence[str], *, accelerated: bool = True) -> None:
        #: The store's common stems, most frequent first.
        self.common = tuple(common)
        self._stemmer = Stemmer()
        self._ranks = ranks_of(self.common)
        self._table = CodeTable() if accelerated and CodeTable is not None else None

    @property
    def accelerated(self) -> bool:
        """Whether plain text is scanned in C."""
        return self._table is not None

    def packed(self, title: str, body: str) -> bytes:
        """:meth:`signature`, packed as the C scanner makes it (small to send between
        processes): :data:`BLOCKS` little-endian signed 64-bit integers."""
        table = self._table
        if table is not None:
            plain_title, plain_body = _plain_bytes(title), _plain_bytes(body)
            if plain_title is not None and plain_body is not None:
                made = table.signature(plain_title, plain_body)
                while isinstance(made, list):  # words not seen before
                    self._learn_in_table(made)
                    made = table.signature(plain_title, plain_body)
                if made is not None:  # else a word too long for its table: the Python path
                    return made
        return _PACKED.pack(*signature(self._stemmer.columns(title, body), self._ranks))

    def signature(self, title: str, body: str) -> Signature:
        """The signature of a document: what :func:`signature` gives for its stems."""
        return unpack(self.packed(title, body))

    def _learn_in_table(self, words: list[bytes]) -> None:
        table = self._table
        assert table is not None
        unknown = sorted(set(words))
        if len(table) + len(unknown) > CACHE_MOST:
            table.clear()  # the document's other words come back as unknown: learnt next
        stems = self._stemmer.stems([w.decode("ascii") for w in unknown])
        for word, stem in zip(unknown, stems, strict=True):
            table.add(word, self._ranks.get(stem, _RARE))

    def close(self) -> None:
        self._stemmer.close()


def unpack(packed: bytes) -> Signature:
    """A signature from :meth:`PairMaker.packed`: its :data:`BLOCKS` signed integers."""
    return _PACKED.unpack(packed)


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
    payload.register_dictionaries(conn)
    sql = (
        "SELECT d.id, v.document FROM documents d "
        "JOIN versions v ON v.doc_id = d.id AND v.n = d.latest ORDER BY d.id"
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    for doc_id, stored in conn.execute(sql):
        yield (doc_id, *payload.search_text(stored))


#: Storing a document's signature (its id, then its integers), replacing any before.
STORE_SQL = f"INSERT OR REPLACE INTO pair_signatures VALUES ({', '.join('?' * (BLOCKS + 1))})"


def signature_join(wanted: dict[int, int], rowid: str = "search.rowid") -> str:
    """A SQL join keeping the rows whose document's signature holds the bits ``wanted``
    (:func:`phrase_bits`; integers only, so inlined): the test runs inside SQLite."""
    tests = " AND ".join(f"(g.s{b} & {mask}) = {mask}" for b, mask in sorted(wanted.items()))
    return f"JOIN pair_signatures g ON g.id = {rowid} AND {tests}"


def choose_and_index(conn: sqlite3.Connection) -> bool:
    """Choose the store's common words from its first :data:`SAMPLE` documents and store the
    signature of every document, if it has that many and has not chosen yet; whether it
    did."""
    if read_common(conn):
        return False
    (count,) = conn.execute("SELECT count(*) FROM documents").fetchone()
    if count < SAMPLE:
        return False
    sample = [(title, body) for _, title, body in _latest_texts(conn, SAMPLE)]
    save_common(conn, sample).close()
    return True


def save_common(conn: sqlite3.Connection, sample: Iterable[tuple[str, str]]) -> PairMaker:
    """Choose the store's common words from the (title, body) of ``sample`` documents, keep
    them and store every document's signature (in the caller's transaction); the maker of
    signatures for those words, for the caller to go on with (and close). Done once: the
    signatures are made with these words for good."""
    stemmer = Stemmer()
    try:
        common = choose_common(stemmer.columns(title, body) for title, body in sample)
    finally:
        stemmer.close()
    conn.executemany("INSERT INTO common_words (rank, stem) VALUES (?, ?)", enumerate(common))
    maker = PairMaker(common)
    try:
        # Read through a second cursor while inserting: each row's signature goes in as it comes.
        for doc_id, title, body in _latest_texts(conn):
            conn.execute(STORE_SQL, (doc_id, *maker.signature(title, body)))
    except BaseException:
        maker.close()  # the caller never gets it
        raise
    return maker

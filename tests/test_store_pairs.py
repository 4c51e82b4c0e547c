"""Pairs of common words (schema 10): phrases of common words check only their pairs' documents.

The pairs index is a filter in front of the exact check on the text: it may let through a
document that does not match, never hold one back. So the tests compare with FTS5 itself:
its tokenizer for the words and stems, and a table with positions for what phrases match.
"""

from __future__ import annotations

import os
import random
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_store_search_positions import LATER_TABLES, make_doc, record, reference

from corpus.pipeline import FileResult
from corpus.store import SCHEMA_VERSION, Store, pairs, payload
from corpus.store.schema import MIGRATIONS, migrate
from corpus.store.snippets import TOKENIZE
from corpus.store.stemmer import Stemmer

#: Words, including ones the stemmer changes (votes, voted, voting) and non-ASCII ones.
WORDS = ["duma", "dumas", "vote", "votes", "voted", "voting", "state", "budget", "the", "of",
         "café", "naïve", "straße", "2024", "x1", "rain"]  # fmt: skip
SEPARATORS = [" ", "  ", ", ", ". ", "\n\n", " \u2014 ", "\u2019s ", " \u201c", "\u201d ", "-"]


def fts5_stems(*texts: str) -> list[list[str]]:
    """Each text's tokens as the full-text index keeps them, by FTS5 itself."""
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE t USING fts5 (a, b, tokenize = '{TOKENIZE}')")
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab (t, instance)")
    conn.execute("INSERT INTO t (rowid, a, b) VALUES (1, ?, ?)", [*texts, "", ""][:2])
    columns: list[list[str]] = [[], []]
    for col, term in conn.execute("SELECT col, term FROM v ORDER BY col, offset"):
        columns[0 if col == "a" else 1].append(term)
    conn.close()
    return columns[: len(texts)]


texts = st.lists(
    st.one_of(
        st.sampled_from(WORDS),
        st.sampled_from(SEPARATORS),
        st.text(alphabet="abcAB9é\u00df\u0130\u2014\u00a0!?_'", min_size=1, max_size=5),
    ),
    max_size=30,
).map("".join)


#: Common stems for the pair tests: every other word of WORDS.
COMMON = sorted({s for w in WORDS[::2] for s in fts5_stems(w)[0]})
RANKS = pairs.ranks_of(COMMON)
# One of each for all examples: their tables of words seen are part of what is tested.
MAKER = pairs.PairMaker(COMMON)
PYTHON_MAKER = pairs.PairMaker(COMMON, accelerated=False)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(title=texts, body=texts)
def test_the_stemmer_splits_and_stems_exactly_as_the_index(title, body):
    stemmer = Stemmer()
    try:
        assert stemmer.columns(title, body) == fts5_stems(title, body)
    finally:
        stemmer.close()
    expected = pairs.signature(fts5_stems(title, body), RANKS)
    assert MAKER.signature(title, body) == expected
    assert PYTHON_MAKER.signature(title, body) == expected


docs_strategy = st.lists(st.lists(st.sampled_from(WORDS + SEPARATORS), max_size=25), min_size=1)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    bodies=docs_strategy,
    phrase=st.lists(st.sampled_from(WORDS), min_size=2, max_size=3),
    common=st.sets(st.sampled_from(WORDS), min_size=1),
)
def test_a_document_matching_a_phrase_always_holds_its_pairs(bodies, phrase, common):
    docs = {f"d{i}": ("", " ".join(words)) for i, words in enumerate(bodies)}
    maker = pairs.PairMaker(sorted({s for w in common for s in fts5_stems(w)[0]}))
    try:
        query = '"' + " ".join(phrase) + '"'
        stems = fts5_stems(" ".join(phrase))[0]
        needed = pairs.phrase_bits(stems, pairs.ranks_of(maker.common))
        for key in reference(docs, query):
            held = maker.signature(*docs[key])
            assert pairs.holds(held, needed), (key, docs[key], needed, held)
    finally:
        maker.close()


def test_the_c_scanner_is_built_where_it_must_be():
    if pairs.CodeTable is None:
        if os.environ.get("CORPUS_REQUIRE_SCANNER"):
            pytest.fail("corpus.store._pairscan was not built (no C compiler at install?)")
        pytest.skip("corpus.store._pairscan not built: signatures are made in Python")
    assert MAKER.accelerated and not PYTHON_MAKER.accelerated


def test_the_c_table_learns_words_and_scans_columns_apart():
    if pairs.CodeTable is None:
        pytest.skip("corpus.store._pairscan not built")
    table = pairs.CodeTable()
    long = b"x" * 300
    assert table.signature(b"The Vote", b"vote " + long + b" the") == [
        b"the",
        b"vote",
        b"vote",
        long,
        b"the",
    ]
    table.add(b"the", 0)
    table.add(b"vote", 511)
    table.add(long, pairs._RARE)
    assert len(table) == 3
    ranks = {"the": 0, "vote": 511}

    def packed(*columns: list[str]) -> bytes:
        return pairs._PACKED.pack(*pairs.signature(columns, ranks))

    # Not across columns: "vote" (title) then "vote" (body) is no pair.
    assert table.signature(b"The Vote", b"vote " + long + b" the") == packed(["the", "vote"], [])
    assert table.signature(b"", b"the-the, VOTE.the") == packed([], ["the", "the", "vote", "the"])
    assert table.signature(b"", b"the") == bytes(8 * pairs.BLOCKS)
    table.clear()
    assert len(table) == 0 and table.signature(b"", b"the") == [b"the"]
    with pytest.raises(ValueError):
        table.add(b"x", 65536)
    # A word longer than the table holds: None, and the maker takes its Python path.
    giant = "the " + "v" * 70_000 + " vote the"
    assert table.signature(b"", giant.encode()) is None
    assert MAKER.signature("", giant) == PYTHON_MAKER.signature("", giant)


def test_a_signature_holds_the_adjacent_common_pairs_of_each_column_in_order():
    ranks = pairs.ranks_of(["duma", "vote", "the"])
    assert ranks == {"duma": 0, "vote": 1, "the": 2}
    sig = pairs.signature([["the", "duma", "vote"], ["vote", "x", "duma", "the", "duma"]], ranks)
    bits = sum(bin(block & (1 << 64) - 1).count("1") for block in sig)
    assert 0 < bits <= 3 * pairs.BITS_PER_PAIR  # three pairs: the duma, duma vote, duma the
    for held in (["the", "duma"], ["duma", "vote"], ["duma", "the"]):
        assert pairs.holds(sig, pairs.phrase_bits(held, ranks))
    # Not held (these pairs' bits happen to differ from those set): order and columns count.
    for absent in (["vote", "duma"], ["vote", "the"], ["the", "the"]):
        assert not pairs.holds(sig, pairs.phrase_bits(absent, ranks))
    across = pairs.signature([["duma"], ["vote"]], ranks)
    assert across == (0,) * pairs.BLOCKS  # never across columns
    # A word that is not common, or not known whole (a prefix), makes no pair.
    assert pairs.phrase_bits(["duma", "x", "vote"], ranks) == {}
    assert pairs.phrase_bits(["duma", None], ranks) == {}
    # Masks are SQLite's signed 64-bit integers.
    masks = pairs.phrase_bits(["the", "duma"], ranks).values()
    assert all(-(1 << 63) <= m < 1 << 63 for m in masks)


def test_common_words_are_frequent_enough_and_few_enough(monkeypatch):
    monkeypatch.setattr(pairs, "COMMON_MOST", 2)
    docs = [[["a", "b", "c"]], [["a", "b"]], [["a"]], [["d"]]] * 10
    assert pairs.choose_common(docs) == ["a", "b"]  # c is in a quarter, d too; at most 2
    monkeypatch.setattr(pairs, "COMMON_SHARE", 0.5)
    monkeypatch.setattr(pairs, "COMMON_MOST", 10)
    assert pairs.choose_common(docs) == ["a", "b"]  # c and d in a quarter only


def corpus_texts(n: int, seed: int = 5) -> dict[str, tuple[str, str]]:
    """``n`` documents where "duma" and "vote" are common but seldom side by side."""
    rng = random.Random(seed)
    filler = ["state", "budget", "rain", "of", "the", "minister", "storm", "coast"]
    docs = {}
    for i in range(n):
        words = rng.choices(filler, k=40)
        words[rng.randrange(10)] = "duma"
        words[rng.randrange(20, 40)] = "vote"
        if i % 25 == 0:
            at = rng.randrange(10, 19)
            words[at : at + 2] = ["duma", "voted"]
        docs[f"k{i:04d}"] = (f"Report {i}", " ".join(words) + ".")
    return docs


@pytest.fixture
def small_samples(monkeypatch):
    monkeypatch.setattr(payload, "DICT_SAMPLES", 60)
    monkeypatch.setattr(pairs, "SAMPLE", 60)


def signatures(store: Store) -> dict[str, tuple[int, ...]]:
    """Each document's stored signature, by key."""
    rows = store.connection.execute(
        "SELECT d.key, g.* FROM pair_signatures g JOIN documents d ON d.id = g.id"
    )
    return {key: tuple(values[1:]) for key, *values in rows}


def holding(store: Store, words: list[str]) -> set[str]:
    """The documents whose stored signature holds the pairs of the phrase ``words``."""
    wanted = pairs.phrase_bits(words, pairs.ranks_of(pairs.read_common(store.connection)))
    assert wanted
    return {key for key, sig in signatures(store).items() if pairs.holds(sig, wanted)}


def checked_keys(store: Store, monkeypatch) -> list[str]:
    """What the next searches check on their text (documents fetched), by key."""
    seen: list[str] = []
    fetch = Store._fetch

    def counting(self, candidates):
        rows = fetch(self, candidates)
        seen.extend(row[0] for row in rows)
        return rows

    monkeypatch.setattr(Store, "_fetch", counting)
    return seen


def test_a_phrase_of_common_words_checks_only_the_documents_holding_its_pair(
    tmp_path, monkeypatch, small_samples
):
    docs = corpus_texts(300)
    with Store.open(tmp_path / "s.db") as store:
        record(store, str(tmp_path), docs)
        assert {"duma", "vote"} <= set(pairs.read_common(store.connection))
        assert len(signatures(store)) == 300  # the first 60 signed when the words were chosen
        seen = checked_keys(store, monkeypatch)
        hits = store.search('"duma vote"', limit=1000)
        assert sorted(h.key for h in hits) == sorted(reference(docs, '"duma vote"'))
        assert len(hits) == 12
        assert sorted(seen) == sorted(holding(store, ["duma", "vote"]))
        assert len(seen) < 20  # not the 300 that hold both words
        seen.clear()
        # An OR: a match need not hold the pair, so every candidate is checked, and found.
        hits = store.search('"duma vote" OR zeppelin', limit=1000)
        assert len(hits) == 12 and len(seen) == 300
        seen.clear()
        # With a filter on the documents table, the two joins together.
        hits = store.search('"duma vote"', limit=1000, state="present")
        assert len(hits) == 12 and len(seen) < 20


def test_a_changed_document_gets_the_signature_of_its_new_text(tmp_path, small_samples):
    docs = corpus_texts(100)
    with Store.open(tmp_path / "s.db") as store:
        record(store, str(tmp_path), docs)
        assert len(store.search('"duma vote"', limit=100)) == 4
        assert "k0000" in holding(store, ["duma", "vote"])
        changed = {"k0000": ("Report 0", "the state budget of the coast")}
        record(store, str(tmp_path), {**docs, **changed})
        assert "k0000" not in {h.key for h in store.search('"duma vote"', limit=100)}
        maker = pairs.PairMaker(pairs.read_common(store.connection))
        assert signatures(store)["k0000"] == maker.signature(*changed["k0000"])
        maker.close()
        assert "k0000" not in holding(store, ["duma", "vote"])
        assert reference({**docs, **changed}, '"duma vote"') <= holding(store, ["duma", "vote"])


def test_a_run_closes_its_signature_maker_when_it_ends(tmp_path, monkeypatch, small_samples):
    closed: list[pairs.PairMaker] = []
    close = pairs.PairMaker.close

    def counting(self):
        closed.append(self)
        close(self)

    monkeypatch.setattr(pairs.PairMaker, "close", counting)
    docs = corpus_texts(100)
    with Store.open(tmp_path / "s.db") as store:
        record(store, str(tmp_path), docs)  # chooses the common words while it runs
        assert len(closed) == 1
        record(store, str(tmp_path), docs)  # starts with them
        assert len(closed) == 2 and closed[0] is not closed[1]
        with pytest.raises(RuntimeError), store.begin_run(roots=[str(tmp_path)], arguments=[]):
            raise RuntimeError("a run that fails")
        assert len(closed) == 3
        # Closed means closed: its in-memory database is gone.
        with pytest.raises(sqlite3.ProgrammingError):
            closed[-1].signature("duma vote", "the state")


def test_common_words_that_cannot_be_signed_in_leave_no_maker_open(tmp_path, monkeypatch):
    closed: list[pairs.PairMaker] = []
    close = pairs.PairMaker.close
    monkeypatch.setattr(pairs.PairMaker, "close", lambda self: (closed.append(self), close(self)))

    def unreadable(conn):
        raise sqlite3.OperationalError("disk I/O error")
        yield

    monkeypatch.setattr(pairs, "_latest_texts", unreadable)
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE common_words (rank INTEGER, stem TEXT)")
    texts = [(title, body) for title, body in corpus_texts(50).values()]
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        pairs.save_common(conn, texts)
    assert len(closed) == 1


def test_a_store_of_the_previous_schema_chooses_common_words_when_migrating(
    tmp_path, small_samples
):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    migrate(conn, str(path), target=SCHEMA_VERSION - 1)
    MIGRATIONS[SCHEMA_VERSION](conn)  # this release's recorder may look for these tables
    old = Store(conn, str(path), 5.0)
    docs = corpus_texts(80)
    with old.begin_run(roots=[str(tmp_path)], arguments=[]) as run:
        for key, (title, body) in docs.items():
            run.record(
                str(tmp_path), FileResult(f"{key}.txt", "ok", (), make_doc(key, title, body))
            )
    for table in LATER_TABLES:
        conn.execute(f"DROP TABLE {table}")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    old.close()
    with Store.open(path, create=False) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert {"duma", "vote"} <= set(pairs.read_common(store.connection))
        assert len(signatures(store)) == 80
        assert reference(docs, '"duma vote"') <= holding(store, ["duma", "vote"])
        assert len(holding(store, ["duma", "vote"])) < 8
        assert sorted(h.key for h in store.search('"duma vote"')) == sorted(
            reference(docs, '"duma vote"')
        )


def test_a_small_store_has_no_common_words_and_searches_as_before(tmp_path):
    docs = corpus_texts(30)
    with Store.open(tmp_path / "s.db") as store:
        record(store, str(tmp_path), docs)
        assert pairs.read_common(store.connection) == ()
        assert signatures(store) == {}
        hits = store.search('"duma vote"', limit=100)
        assert sorted(h.key for h in hits) == sorted(reference(docs, '"duma vote"'))


def test_signatures_find_exactly_what_positions_find(tmp_path, small_samples):
    """Phrases of common words, several pairs, a prefix, a column, NOT: the signatures let
    fewer documents through to the check, and hold back none."""
    docs = corpus_texts(200)
    with Store.open(tmp_path / "s.db") as store:
        record(store, str(tmp_path), docs)
        queries = ['"duma vote"', '"the state"', '"of the" budget', '"budget rain coast"',
                   '"duma vot*"', 'body:"the budget"', '"the state" NOT "duma voted"',
                   '"state of" + "the"']  # fmt: skip
        for query in queries:
            hits = store.search(query, limit=1000)
            assert sorted(h.key for h in hits) == sorted(reference(docs, query)), query


def test_store_check_finds_a_missing_or_wrong_signature(tmp_path, small_samples):
    docs = corpus_texts(80)
    with Store.open(tmp_path / "s.db") as store:
        record(store, str(tmp_path), docs)
        assert store.check().ok
        ids = dict(store.connection.execute("SELECT key, id FROM documents"))
        with store.connection:
            store.connection.execute("DELETE FROM pair_signatures WHERE id = ?", (ids["k0003"],))
            store.connection.execute(
                "UPDATE pair_signatures SET s7 = 0 WHERE id = ?", (ids["k0005"],)
            )
        result = store.check()
    assert not result.ok
    problems = {d.key: d.problem for d in result.damaged}
    assert problems == {
        "k0003": "it has no pair signature: phrase searches would miss it",
        "k0005": "its pair signature does not fit its text: phrase searches may miss it",
    }


def test_few_candidates_come_in_the_order_and_with_the_ranks_of_the_full_ranking(
    tmp_path, monkeypatch, small_samples
):
    """Candidates the signatures leave are ranked in one pass (titles matched in memory);
    the page must be the one the per-title-term queries give, ranks included."""
    docs = corpus_texts(200)
    for i, title in ((0, "Duma votes"), (25, "The duma"), (50, "A vote"), (75, "Vote duma")):
        docs[f"k{i:04d}"] = (title, docs[f"k{i:04d}"][1])
    with Store.open(tmp_path / "s.db") as store:
        record(store, str(tmp_path), docs)
        queries = ['"duma vote"', '"duma voted"', '"duma vote" state', 'title:duma "duma vote"']
        signed = {q: store.search(q, limit=50) for q in queries}
        monkeypatch.setattr(Store, "_signature_join", lambda self, analysis: "")
        for query in queries:
            full = store.search(query, limit=50)
            assert [(h.key, h.rank) for h in signed[query]] == [(h.key, h.rank) for h in full]
            assert full, query
        # Both words in the title first (newest first), then one of them, then the rest.
        page = [h.key for h in signed['"duma vote"']]
        assert page[:2] == ["k0075", "k0000"] and set(page[2:4]) == {"k0025", "k0050"}

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

#: Words, including ones the stemmer changes (votes, voted, voting) and non-ASCII ones.
WORDS = ["duma", "dumas", "vote", "votes", "voted", "voting", "state", "budget", "the", "of",
         "café", "naïve", "straße", "2024", "x1", "rain"]  # fmt: skip
SEPARATORS = [" ", "  ", ", ", ". ", "\n\n", " \u2014 ", "\u2019s ", " \u201c", "\u201d ", "-"]


def fts5_stems(*texts: str) -> list[list[str]]:
    """Each text's tokens as the full-text index keeps them, by FTS5 itself."""
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE t USING fts5 (a, b, tokenize = '{pairs.TOKENIZE}')")
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
CODES = pairs.codes_of(COMMON)
# One of each for all examples: their tables of words seen are part of what is tested.
MAKER = pairs.PairMaker(COMMON)
PYTHON_MAKER = pairs.PairMaker(COMMON, accelerated=False)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(title=texts, body=texts)
def test_the_stemmer_splits_and_stems_exactly_as_the_index(title, body):
    stemmer = pairs.Stemmer()
    try:
        assert stemmer.columns(title, body) == fts5_stems(title, body)
    finally:
        stemmer.close()
    expected = pairs.pair_tokens(fts5_stems(title, body), CODES).split()
    assert sorted(MAKER.pairs(title, body).split()) == expected
    assert sorted(PYTHON_MAKER.pairs(title, body).split()) == expected


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
        needed = set(pairs.phrase_pairs(stems, pairs.codes_of(maker.common)))
        for key in reference(docs, query):
            held = set(maker.pairs(*docs[key]).split())
            assert needed <= held, (key, docs[key], needed, held)
    finally:
        maker.close()


def test_the_c_scanner_is_built_where_it_must_be():
    if pairs.CodeTable is None:
        if os.environ.get("CORPUS_REQUIRE_SCANNER"):
            pytest.fail("corpus.store._pairscan was not built (no C compiler at install?)")
        pytest.skip("corpus.store._pairscan not built: pairs are made in Python")
    assert MAKER.accelerated and not PYTHON_MAKER.accelerated


def test_the_c_table_learns_words_and_scans_columns_apart():
    if pairs.CodeTable is None:
        pytest.skip("corpus.store._pairscan not built")
    table = pairs.CodeTable()
    long = b"x" * 300
    assert table.pairs(b"The Vote", b"vote " + long + b" the") == [
        b"the",
        b"vote",
        b"vote",
        long,
        b"the",
    ]
    table.add(b"the", 0)
    table.add(b"vote", 127)
    table.add(long, 255)
    assert len(table) == 3
    a, b = chr(pairs._FIRST_CODE), chr(pairs._FIRST_CODE + 127)
    assert table.pairs(b"The Vote", b"vote " + long + b" the") == a + b  # not across columns
    assert table.pairs(b"", b"the-the, VOTE.the") == " ".join([a + a, a + b, b + a])
    table.clear()
    assert len(table) == 0 and table.pairs(b"", b"the") == [b"the"]
    with pytest.raises(ValueError):
        table.add(b"x", 128)
    # A word longer than the table holds: None, and the maker takes its Python path.
    giant = "the " + "v" * 70_000 + " vote the"
    assert table.pairs(b"", giant.encode()) is None
    assert sorted(MAKER.pairs("", giant).split()) == sorted(PYTHON_MAKER.pairs("", giant).split())


def test_pairs_are_adjacent_common_stems_once_in_order_per_column():
    codes = pairs.codes_of(["duma", "vote", "the"])
    assert sorted(codes) == ["duma", "the", "vote"]
    duma, the, vote = codes["duma"], codes["the"], codes["vote"]
    assert len({duma, the, vote}) == 3 and all(len(c) == 1 for c in (duma, the, vote))
    text = pairs.pair_tokens([["the", "duma", "vote"], ["vote", "x", "duma", "the", "duma"]], codes)
    assert text.split() == sorted([the + duma, duma + vote, duma + the])
    assert pairs.pair_tokens([["duma"], ["vote"]], codes) == ""  # never across columns


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


def duma_vote(store: Store) -> str:
    """The pairs index's token for "duma" then "vote" in ``store``."""
    codes = pairs.codes_of(pairs.read_common(store.connection))
    return '"' + codes["duma"] + codes["vote"] + '"'


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
        seen = checked_keys(store, monkeypatch)
        hits = store.search('"duma vote"', limit=1000)
        assert sorted(h.key for h in hits) == sorted(reference(docs, '"duma vote"'))
        assert len(hits) == 12
        assert len(seen) == 12  # not the 300 that hold both words
        seen.clear()
        # An OR: a match need not hold the pair, so every candidate is checked, and found.
        hits = store.search('"duma vote" OR zeppelin', limit=1000)
        assert len(hits) == 12 and len(seen) == 300


def test_a_changed_document_leaves_the_pairs_of_its_old_text(tmp_path, small_samples):
    docs = corpus_texts(100)
    with Store.open(tmp_path / "s.db") as store:
        record(store, str(tmp_path), docs)
        assert len(store.search('"duma vote"', limit=100)) == 4
        changed = {"k0000": ("Report 0", "the state budget of the coast")}
        record(store, str(tmp_path), {**docs, **changed})
        assert "k0000" not in {h.key for h in store.search('"duma vote"', limit=100)}
        rows = store.connection.execute(
            "SELECT rowid FROM pairs WHERE pairs MATCH ?", (duma_vote(store),)
        )
        holding = {
            store.connection.execute("SELECT key FROM documents WHERE id = ?", r).fetchone()[0]
            for r in rows
        }
        assert "k0000" not in holding
        assert holding == {k for k in reference({**docs, **changed}, '"duma vote"')}


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
        (indexed,) = store.connection.execute(
            "SELECT count(*) FROM pairs WHERE pairs MATCH ?", (duma_vote(store),)
        ).fetchone()
        assert indexed == len(reference(docs, '"duma vote"')) == 4
        assert sorted(h.key for h in store.search('"duma vote"')) == sorted(
            reference(docs, '"duma vote"')
        )


def test_a_small_store_has_no_common_words_and_searches_as_before(tmp_path):
    docs = corpus_texts(30)
    with Store.open(tmp_path / "s.db") as store:
        record(store, str(tmp_path), docs)
        assert pairs.read_common(store.connection) == ()
        hits = store.search('"duma vote"', limit=100)
        assert sorted(h.key for h in hits) == sorted(reference(docs, '"duma vote"'))


@pytest.mark.parametrize("classes", [1, 3])
def test_pairs_of_classes_of_common_words_still_find_exactly_what_positions_find(
    tmp_path, monkeypatch, small_samples, classes
):
    """With fewer classes than common words, one token stands for the pairs of two classes:
    more documents are let through to the check, none is held back."""
    monkeypatch.setattr(pairs, "CLASSES", classes)
    docs = corpus_texts(200)
    with Store.open(tmp_path / "s.db") as store:
        record(store, str(tmp_path), docs)
        assert len(pairs.read_common(store.connection)) > classes
        for query in ['"duma vote"', '"the state"', '"of the" budget', '"budget rain coast"']:
            hits = store.search(query, limit=1000)
            assert sorted(h.key for h in hits) == sorted(reference(docs, query)), query

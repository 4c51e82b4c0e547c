"""Search on an index without token positions (schema 8, FTS5 ``detail=column``).

Phrases, ``NEAR`` and ``^`` are answered by relaxing the query for the index and checking the
candidates on their text. The reference here is a plain FTS5 table *with* positions over the
same texts: the store must find exactly the documents it finds, for any query.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus.model import Block, Document, Source
from corpus.pipeline import FileResult
from corpus.store import SCHEMA_VERSION, Store
from corpus.store.query import analyse, relax
from corpus.store.schema import MIGRATIONS, migrate
from corpus.store.snippets import TOKENIZE, matching

RELEASE_STORE = Path(__file__).resolve().parent.parent / "fixtures" / "store" / "release-0.1.0.db"

TEXTS = {
    "exact": ("State news", "The state duma voted on the budget today."),
    "reversed": ("Other news", "The duma of the state voted again."),
    "apart": ("Far apart", "A state far away had a duma vote."),
    "title": ("State Duma in session", "Deputies met."),
    "none": ("Weather", "Rain and storm over the coast."),
}


def make_doc(key: str, title: str, body: str) -> Document:
    raw = (title + "\n\n" + body).encode("utf-8")
    return Document(
        key=key,
        title=title,
        blocks=[Block(p) for p in body.split("\n\n") if p],
        source=Source(f"{key}.txt", hashlib.sha256(raw).hexdigest(), "utf-8", len(raw)),
    )


def record(store: Store, root: str, docs: dict[str, tuple[str, str]]) -> None:
    with store.begin_run(roots=[root], arguments=[]) as run:
        for key, (title, body) in docs.items():
            doc = make_doc(key, title, body)
            run.record(root, FileResult(f"{key}.txt", "ok", (), doc))


def reference(docs: dict[str, tuple[str, str]], query: str) -> set[str]:
    """The keys an FTS5 table with positions finds for ``query`` (same tokenizer)."""
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE t USING fts5 (key UNINDEXED, title, body, "
                 f"tokenize = '{TOKENIZE}')")  # fmt: skip
    conn.executemany(
        "INSERT INTO t (key, title, body) VALUES (?, ?, ?)",
        [(k, t, b) for k, (t, b) in docs.items()],
    )
    return {k for (k,) in conn.execute("SELECT key FROM t WHERE t MATCH ?", (query,))}


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "s.db") as opened:
        record(opened, str(tmp_path), TEXTS)
        yield opened


def test_the_index_keeps_no_positions(store):
    sql = store.connection.execute("SELECT sql FROM sqlite_master WHERE name = 'search'")
    assert "detail = column" in sql.fetchone()[0]
    with pytest.raises(sqlite3.OperationalError, match="phrase"):
        store.connection.execute("SELECT rowid FROM search WHERE search MATCH '\"state duma\"'")


@pytest.mark.parametrize(
    "query",
    [
        '"state duma"',
        '"duma state"',
        "state + duma",
        "NEAR(state duma, 2)",
        "NEAR(state vote, 5)",
        "^state",
        'title:"state duma"',
        'body:"state duma"',
        'duma NOT "state duma"',
        '"state duma" OR storm',
        '"state dum"*',
        "state AND duma",
        "title:duma",
        "vote",
    ],
)
def test_queries_find_what_an_index_with_positions_finds(store, query):
    hits = store.search(query, limit=50)
    assert {h.key for h in hits} == reference(TEXTS, query)
    for hit in hits:
        assert "[" in hit.snippet or hit.snippet == TEXTS[hit.key][0]


def test_a_phrase_marks_the_phrase_in_the_snippet(store):
    hits = store.search('"state duma"')
    assert {h.key for h in hits} == {"exact", "title"}
    assert "[state duma]" in {h.key: h.snippet for h in hits}["exact"].lower()


def test_title_matches_rank_first(store):
    assert store.search("duma")[0].key == "title"
    assert store.search("state duma")[0].key == "title"


@pytest.mark.parametrize("query", ["budget", '"budget"', "budget*"])
def test_one_word_title_matches_stream_newest_first_with_the_title_rank(tmp_path, query):
    # A one-word query's title matches all rank alike, so they come newest first without a
    # sort; their rank is what a two-word query gives a title holding one of its words at
    # idf 1, and the body-only matches follow, newest first.
    docs = {
        f"d{i:02d}": (f"Budget {i}" if i % 4 == 0 else f"Day {i}", "the budget") for i in range(20)
    }
    with Store.open(tmp_path / "s.db") as store:
        record(store, str(tmp_path), docs)
        hits = store.search(query, limit=50)
    titled = [f"d{i:02d}" for i in reversed(range(0, 20, 4))]
    rest = [f"d{i:02d}" for i in reversed(range(20)) if i % 4]
    assert [h.key for h in hits] == titled + rest
    assert {h.rank for h in hits[: len(titled)]} == {-10.0}
    assert {h.rank for h in hits[len(titled) :]} == {0.0}


def test_a_checked_search_pages_through_candidates(tmp_path):
    # 120 documents hold both words, only every tenth as the phrase: pages must be disjoint,
    # complete and in one order, however many candidates are checked for each.
    docs = {
        f"d{i:03d}": (f"Doc {i}", "budget vote passed" if i % 10 == 0 else "vote on the budget")
        for i in range(120)
    }
    with Store.open(tmp_path / "s.db") as store:
        record(store, str(tmp_path), docs)
        everything = [h.key for h in store.search('"budget vote"', limit=100)]
        assert set(everything) == reference(docs, '"budget vote"')
        assert len(everything) == 12
        pages = [
            [h.key for h in store.search('"budget vote"', limit=5, offset=o)] for o in (0, 5, 10)
        ]
        assert pages[0] + pages[1] + pages[2] == everything
        assert store.search('"budget vote"', limit=5, offset=12) == []


def test_relax_rewrites_only_what_needs_positions():
    assert relax("duma") is None
    assert relax("title:duma OR vot*") is None
    assert relax('"state duma"') == '("state" AND "duma")'
    assert relax("NEAR(a b, 3)") == '("a" AND "b")'
    assert relax('x NOT "a b"') == '"x"'  # a relaxed NOT side is dropped: still a superset
    assert relax('"e-mail"') == '("e" AND "mail")'
    assert relax('"unclosed') is None  # left to FTS5, which reports it
    assert analyse("a OR b NOT c").terms == ('"a"', '"b"')


WORDS = ["state", "duma", "vote", "votes", "budget", "storm", "café", "cafe"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    bodies=st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=8), min_size=1,
                    max_size=8),
    words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
    shape=st.sampled_from(['"{0}"', "NEAR({0}, 1)", "{0}", '{0} NOT "{1}"', '"{0}" OR {1}',
                           "^{0}", 'title:"{0}"', '"{1} {0}" NOT title:{1}']),
)  # fmt: skip
def test_any_query_finds_what_an_index_with_positions_finds(tmp_path_factory, bodies, words, shape):
    docs = {f"k{i}": (" ".join(b[:2]), " ".join(b)) for i, b in enumerate(bodies)}
    query = shape.format(" ".join(words), words[-1])
    folder = tmp_path_factory.mktemp("prop")
    with Store.open(folder / "s.db") as store:
        record(store, str(folder), docs)
        found = {h.key for h in store.search(query, limit=100)}
    assert found == reference(docs, query)


# -- migrating to schema 8 --------------------------------------------------------------------

#: The step that dropped token positions from the full-text index.
POSITIONLESS_STEP = 8
#: Columns later steps add to ``sources`` (the recorder of this release writes them).
LATER_SOURCE_COLUMNS = ("file_size", "file_mtime_ns", "file_inode")
#: Tables later steps add (schema 10: pairs of common words).
LATER_TABLES = ("common_words", "pair_signatures")

QUERIES = ["duma", '"state duma"', "vote", "NEAR(duma vote, 4)", "title:state", "cafe"]


def search_all(store: Store) -> dict[str, list[str]]:
    return {q: sorted(h.key for h in store.search(q, limit=100)) for q in QUERIES}


def test_a_store_of_the_previous_schema_searches_the_same_after_migrating(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    migrate(conn, str(path), target=POSITIONLESS_STEP - 1)
    # This release's recorder writes columns of later steps: add them for the recording, then
    # take them out again, so the file is exactly a store of the schema before the step.
    for step in range(POSITIONLESS_STEP + 1, SCHEMA_VERSION + 1):
        MIGRATIONS[step](conn)
    old = Store(conn, str(path), 5.0)
    record(old, str(tmp_path), TEXTS)
    for column in LATER_SOURCE_COLUMNS:
        conn.execute(f"ALTER TABLE sources DROP COLUMN {column}")
    for table in LATER_TABLES:
        conn.execute(f"DROP TABLE {table}")
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'search'").fetchone()[0]
    assert "detail" not in sql  # the previous schema's index keeps positions
    before = search_all(old)
    old.close()
    assert before['"state duma"'] == ["exact", "title"]
    with Store.open(path, create=False) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert search_all(store) == before
        assert {
            k: sorted(reference(TEXTS, q)) for k, q in zip(before, QUERIES, strict=True)
        } == before


def test_a_release_store_searches_the_same_after_migrating(tmp_path):
    copy = tmp_path / "release.db"
    shutil.copyfile(RELEASE_STORE, copy)
    conn = sqlite3.connect(copy)
    texts = {}
    for key, text in conn.execute(
        "SELECT d.key, v.document FROM documents d JOIN versions v "
        "ON v.doc_id = d.id AND v.n = d.latest"
    ):
        data = json.loads(text)
        texts[key] = (data["title"], "\n\n".join(b["text"] for b in data["blocks"]))
    conn.close()
    with Store.open(copy, create=False) as store:
        assert store.schema_version() == SCHEMA_VERSION
        for query in [*QUERIES, '"votes again"', "NEAR(duma budget, 10)"]:
            assert {h.key for h in store.search(query, limit=100)} == reference(texts, query)


# -- the text a candidate is checked on may be shrunk, never so that the outcome changes ------

FORMS = ["vote", "votes", "Voted", "voting", "voter", "duma", "Dumas", "relational", "relate",
         "happy", "happiness", "sensibility", "sensible", "hoping", "hope", "hop", "a", "is",
         "x_y", "qx", "xq", "2024", "it's"]  # fmt: skip
SEPARATORS = [" ", ", ", ". ", "\n\n", " - ", "_", "'"]


@settings(max_examples=150, deadline=None)
@given(
    text=st.lists(st.tuples(st.sampled_from(FORMS), st.sampled_from(SEPARATORS)), max_size=30),
    words=st.lists(st.sampled_from(FORMS), min_size=2, max_size=3),
    shape=st.sampled_from(['"{0}"', '^"{0}"', '"{0}"*', 'body:"{0}" NOT {1}', '"{0}" OR "{1}"']),
)
def test_shrinking_a_text_never_changes_whether_a_phrase_matches(text, words, shape):
    body = "".join(w + sep for w, sep in text)
    title = " ".join(words[:1])
    query = shape.format(" ".join(words), " ".join(reversed(words)))
    reducer = analyse(query).reducer
    if reducer is None:  # tokens too short to shrink around: the text is checked whole
        return
    shrunk = (reducer.reduce(title), reducer.reduce(body))
    assert matching(query, [shrunk]) == matching(query, [(title, body)])
    assert len(shrunk[1]) <= max(len(body), 2)


def test_shrinking_keeps_the_words_that_can_match_and_one_filler_per_gap():
    reducer = analyse('"duma vote"').reducer
    assert reducer is not None
    text = "The Duma voted, on the state duma votes. Dumas vote! xduma _duma"
    assert reducer.reduce(text) == "qx duma voted qx duma votes dumas vote qx duma"
    assert reducer.reduce("Дума vote") == "Дума vote"  # not ASCII: checked whole
    assert analyse("NEAR(duma vote)").reducer is None  # distances count every word


# -- candidates ruled out by a regular expression before the check: never one that matches ---


@settings(max_examples=200, deadline=None)
@given(
    text=st.lists(st.tuples(st.sampled_from(FORMS), st.sampled_from(SEPARATORS)), max_size=30),
    title=st.lists(st.sampled_from(FORMS), max_size=4),
    words=st.lists(st.sampled_from(FORMS), min_size=2, max_size=4),
    other=st.sampled_from(FORMS),
    shape=st.sampled_from(
        [
            '"{0}"',
            '^"{0}"',
            '"{0}"*',
            'title:"{0}"',
            '"{0}" AND {1}',
            '"{0}" NOT {1}',
            'NEAR("{0}" {1}, 3)',
            '"{2}" + "{3}"',
            '{{title body}}: ("{0}" "{2}")',
        ]
    ),
)
def test_the_phrase_filter_never_rules_out_a_match(text, title, words, other, shape):
    body = "".join(w + sep for w, sep in text)
    head = " ".join(title)
    half = len(words) // 2
    query = shape.format(" ".join(words), other, " ".join(words[:half]), " ".join(words[half:]))
    phrases = analyse(query).phrase_filter
    if phrases is None:  # nothing to say beyond the index's words
        return
    if matching(query, [(head, body)]):
        assert phrases.admits(head, body)


def test_the_phrase_filter_rules_out_words_that_are_not_side_by_side():
    phrases = analyse('"duma vote"').phrase_filter
    assert phrases is not None
    assert phrases.admits("", "The Duma voted on Monday.")
    assert phrases.admits("State dumas' votes", "")  # stems: dumas -> duma, votes -> vote
    assert not phrases.admits("The vote", "The duma met; a vote followed.")
    assert not phrases.admits("Duma", "vote duma")  # the order counts
    assert phrases.admits("Дума", "duma, then vote")  # not ASCII: left to the check
    # Every match holds the phrase only without OR, and not when it is under NOT.
    assert analyse('"duma vote" OR budget').phrase_filter is None
    assert analyse('budget NOT "duma vote"').phrase_filter is None
    # A phrase with one word long enough to know says no more than the index does.
    assert analyse('"a vote"').phrase_filter is None
    # A prefix word stands for any token.
    prefixed = analyse('"duma vot"* + budget').phrase_filter
    assert prefixed is not None
    assert prefixed.admits("", "duma xyz budgets")
    assert not prefixed.admits("", "duma budget")


def test_a_search_checks_only_the_candidates_the_phrase_filter_admits(tmp_path, monkeypatch):
    import corpus.store.store as store_module

    docs = {
        f"apart-{i:02d}": ("News", f"The duma met. Then a vote, number {i}.") for i in range(60)
    }
    docs["side-by-side"] = ("News", "The state duma voted on Monday.")
    checked: list[tuple[str, str]] = []

    def counting(query, texts):
        checked.extend(texts)
        return matching(query, texts)

    monkeypatch.setattr(store_module, "matching", counting)
    with Store.open(tmp_path / "s.db") as store:
        record(store, str(tmp_path), docs)
        hits = store.search('"duma vote"')
    assert [h.key for h in hits] == ["side-by-side"]
    assert len(checked) == 1  # 60 candidates hold both words; only one was checked


def test_phrase_hits_rank_title_words_first_then_the_most_recent(tmp_path):
    docs = {
        "a-title": ("Budget day", "The budget vote passed."),
        "b-body": ("Day one", "A budget vote was held."),
        "c-body": ("Day two", "Another budget vote came."),
        "d-no": ("Day three", "The vote on the budget."),
    }
    with Store.open(tmp_path / "s.db") as store:
        record(store, str(tmp_path), docs)
        hits = store.search('"budget vote"')
        assert [h.key for h in hits] == ["a-title", "c-body", "b-body"]
        assert hits[0].rank < hits[1].rank
        assert [h.key for h in store.search('"budget vote"', limit=1, offset=1)] == ["c-body"]


def test_phrase_search_through_the_command(run_cli, tmp_path):
    with Store.open(tmp_path / "s.db") as store:
        record(store, str(tmp_path), TEXTS)
    result = run_cli("search", "--store", tmp_path / "s.db", '"state duma"', "--json")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert [h["key"] for h in hits] == ["title", "exact"]
    bad = run_cli("search", "--store", tmp_path / "s.db", 'nocolumn:"state duma"')
    assert bad.exit_code == 2 and "BAD_QUERY" in bad.output and "Traceback" not in bad.output


@pytest.mark.parametrize("query", ["budget", "budget vote", "budget NOT passed", "budget OR vote"])
def test_pages_of_a_word_search_are_slices_of_one_order(tmp_path, query):
    docs = {f"d{i:03d}": (f"Budget {i}" if i % 7 == 0 else f"Day {i}", "budget vote " + (
        "passed" if i % 3 else "failed")) for i in range(60)}  # fmt: skip
    with Store.open(tmp_path / "s.db") as store:
        record(store, str(tmp_path), docs)
        everything = [h.key for h in store.search(query, limit=100)]
        assert set(everything) == reference(docs, query)
        pages = [[h.key for h in store.search(query, limit=7, offset=o)] for o in range(0, 63, 7)]
        assert [k for page in pages for k in page] == everything
        titled = {k for k, (t, _) in docs.items() if t.startswith("Budget")} & set(everything)
        assert set(everything[: len(titled)]) == titled  # title matches first


def test_filters_apply_to_phrase_and_word_searches(tmp_path):
    root = str(tmp_path)
    with Store.open(tmp_path / "s.db") as store:
        record(store, root, TEXTS)
        record(store, root, {k: v for k, v in TEXTS.items() if k != "exact"})  # "exact" removed
        for query in ('"state duma"', "duma", "duma OR storm"):
            hits = {h.key: h.state for h in store.search(query, limit=50)}
            assert set(hits) == reference(TEXTS, query)
            removed = store.search(query, limit=50, state="removed")
            assert {h.key for h in removed} == {k for k, s in hits.items() if s == "removed"}
            present = store.search(query, limit=50, state="present")
            assert {h.key for h in present} == {k for k, s in hits.items() if s == "present"}
            assert store.search(query, since="9999-01-01") == []


TIER_WORDS = ["budget", "vote", "duma", "state", "storm"]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    titles=st.lists(st.lists(st.sampled_from(TIER_WORDS), max_size=3), min_size=5, max_size=25),
    words=st.lists(st.sampled_from(TIER_WORDS), min_size=2, max_size=4, unique=True),
    phrase=st.booleans(),
)
def test_title_matches_streamed_by_tier_come_in_the_ranked_order(
    tmp_path_factory, monkeypatch, titles, words, phrase
):
    # Streaming title matches set of words by set of words must give exactly the order of
    # ranking every title match in SQL and sorting (the path for many-word queries).
    import corpus.store.store as store_module

    folder = tmp_path_factory.mktemp("tiers")
    docs = {
        f"d{i:02d}": (" ".join(title) or "none", " ".join(TIER_WORDS) + " " + " ".join(words))
        for i, title in enumerate(titles)
    }
    query = '"' + " ".join(words) + '"' if phrase else " ".join(words)
    with Store.open(folder / "s.db") as store:
        record(store, str(folder), docs)
        tiered = [(h.key, h.rank) for h in store.search(query, limit=100)]
        monkeypatch.setattr(store_module, "_TIERED_TERMS", 0)
        sorted_all = [(h.key, h.rank) for h in store.search(query, limit=100)]
        monkeypatch.undo()
    assert tiered == sorted_all
    assert {key for key, _ in tiered} == reference(docs, query)

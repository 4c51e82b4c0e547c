"""Compact stores (schema 6): compressed payloads, a contentless full-text index, migration.

The index keeps no copy of the text, so removing a document's old text from it needs the exact
values that were indexed; a mistake there leaves stale terms that nothing else would show. The
tests below read the index's own vocabulary to catch that, and open a store written by release
0.1.0 (``fixtures/store``) to test the migration on a real file.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus.model import (
    Block,
    Document,
    Source,
    canonical_json,
    document_from_json,
    document_to_dict,
)
from corpus.pipeline import FileResult
from corpus.store import SCHEMA_VERSION, Store, load_version
from corpus.store.snippets import TOKENIZE, make_snippets

RELEASE_STORE = Path(__file__).resolve().parent.parent / "fixtures" / "store" / "release-0.1.0.db"


def make_doc(key: str, title: str, *paras: str) -> Document:
    raw = (title + "\n\n" + "\n\n".join(paras)).encode("utf-8")
    return Document(
        key=key,
        title=title,
        blocks=[Block(p) for p in paras],
        source=Source(f"{key}.txt", hashlib.sha256(raw).hexdigest(), "utf-8", len(raw)),
    )


def record(store: Store, root: str, *docs: Document) -> dict[str, int]:
    with store.begin_run(roots=[root], arguments=[]) as run:
        for doc in docs:
            run.record(root, FileResult(f"{doc.key}.txt", "ok", (), doc))
    return run.finish()


def indexed_terms(conn: sqlite3.Connection) -> dict[str, int]:
    """Every term in the store's full-text index, with the number of documents holding it."""
    conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.terms USING fts5vocab(main, search, row)")
    return dict(conn.execute("SELECT term, doc FROM temp.terms"))


def expected_terms(texts: list[tuple[str, str]]) -> dict[str, int]:
    """The terms a fresh index of ``texts`` holds (same tokenizer), with document counts."""
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE t USING fts5 (title, body, tokenize = '{TOKENIZE}')")
    conn.executemany("INSERT INTO t (title, body) VALUES (?, ?)", texts)
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, row)")
    return dict(conn.execute("SELECT term, doc FROM v"))


@pytest.fixture
def release_store(tmp_path: Path) -> Path:
    copy = tmp_path / "release.db"
    shutil.copyfile(RELEASE_STORE, copy)
    return copy


# -- a store written by release 0.1.0 ----------------------------------------------------------


def test_a_release_store_is_migrated_keeping_every_version(release_store):
    before = sqlite3.connect(release_store)
    assert before.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION
    old_json = dict(before.execute("SELECT doc_id || '@' || n, document FROM versions").fetchall())
    before.close()
    with Store.open(release_store, create=False) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.integrity_check() == "ok"
        kinds = {t for (t,) in store.connection.execute("SELECT typeof(document) FROM versions")}
        assert kinds == {"blob"}
        assert [v.n for v in store.versions("world/duma")] == [1, 2]
        assert store.versions("world/duma")[1].summary  # kept from the release store
        assert store.version("world/duma", 1).document.title == "The Duma votes"
        assert store.version("world/duma").document.title == "The Duma votes again"
        assert [f.code for f in store.versions("economy/grain")[0].findings] == ["DATE_MISSING"]
        assert store.document("sport/final").state == "removed"
        # The JSON is unchanged by compression: every version parses to what was stored.
        for spec, text in old_json.items():
            doc_id, n = spec.split("@")
            (key,) = store.connection.execute(
                "SELECT key FROM documents WHERE id = ?", (doc_id,)
            ).fetchone()
            assert store.version(key, int(n)).document == document_from_json(text)
        hits = {h.key: h for h in store.search("vote")}  # stemmed: "votes", "voted"
        assert set(hits) == {"world/duma"}
        assert "[voted]" in hits["world/duma"].snippet
        assert [h.key for h in store.search("cafe")] == ["sport/final"]  # diacritics folded
        assert [h.state for h in store.search("cafe")] == ["removed"]
        sql = store.connection.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'search'"
        ).fetchone()[0]
        assert "content = ''" in sql
        texts = [store.version(d.key).document for d in store.documents()]
        assert indexed_terms(store.connection) == expected_terms(
            [(d.title, d.body_text) for d in texts]
        )
    assert load_version("world/duma@1", str(release_store)).title == "The Duma votes"


def test_a_migrated_release_store_takes_new_versions(release_store):
    with Store.open(release_store, create=False) as store:
        root = store.document("world/duma").root or "articles"
        changed = make_doc("world/duma", "The Duma adjourns", "Deputies went home early.")
        assert record(store, root, changed)["changed"] == 1
        assert store.search("again") == []  # the old title left the index
        assert [h.key for h in store.search("adjourn")] == ["world/duma"]
        assert store.versions("world/duma")[-1].summary


# -- the contentless index stays exact ---------------------------------------------------------


def test_payloads_are_compressed_below_the_json(tmp_path):
    body = " ".join(f"word{i % 50} and more news about parliament" for i in range(200))
    doc = make_doc("a", "Title", body)
    with Store.open(tmp_path / "c.db") as store:
        record(store, "articles", doc)
        (size,) = store.connection.execute("SELECT length(document) FROM versions").fetchone()
        assert size < len(canonical_json(document_to_dict(doc))) / 3
        assert store.version("a").document == doc


WORDS = st.sampled_from(["duma", "vote", "budget", "café", "wheat", "storm", "rain", "voted"])
TEXTS = st.lists(WORDS, min_size=1, max_size=6).map(" ".join)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    runs=st.lists(
        st.lists(st.tuples(st.sampled_from("abc"), TEXTS, TEXTS), max_size=4),
        min_size=1,
        max_size=4,
    )
)
def test_the_index_holds_exactly_the_latest_text_of_every_document(tmp_path_factory, runs):
    """New, changed, unchanged, twice in one run, removed and back: no stale term remains."""
    path = tmp_path_factory.mktemp("idx") / "s.db"
    with Store.open(path) as store:
        for run in runs:
            record(store, "articles", *(make_doc(k, t, b) for k, t, b in run))
        latest = [store.version(d.key).document for d in store.documents()]
        assert indexed_terms(store.connection) == expected_terms(
            [(d.title, d.body_text) for d in latest]
        )


def test_search_pages_and_filters(tmp_path):
    with Store.open(tmp_path / "p.db") as store:
        docs = [make_doc(f"d{i}", f"Storm {i}", "storm " * (i + 1)) for i in range(5)]
        record(store, "articles", *docs)
        record(store, "articles", *docs[:3])  # d3 and d4 are removed
        every = store.search("storm", limit=10)
        assert len(every) == 5
        assert store.search("storm", limit=2, offset=2) == every[2:4]
        assert {h.key for h in store.search("storm", state="removed")} == {"d3", "d4"}
        assert len(store.search("storm", state="present")) == 3
        assert store.search("storm", since="9999") == []


def test_snippets_mark_the_matches_of_the_query():
    texts = [("Budget day", "The Duma voted on the budget late on Tuesday."), ("Other", "none")]
    snippets = make_snippets("vote", texts)
    assert "[voted]" in snippets[0]
    assert snippets[1] == "Other"  # not matched: the title stands in


# -- the store's zstd dictionary -----------------------------------------------------------------


def _forget_dictionaries(monkeypatch) -> None:
    """As a fresh process: no dictionary known until a store is opened."""
    from corpus.store import payload

    monkeypatch.setattr(payload, "_dictionaries", {})
    monkeypatch.setattr(payload, "_local", threading.local())


def varied_docs(n: int, prefix: str = "d") -> list[Document]:
    words = [
        "budget",
        "vote",
        "duma",
        "storm",
        "wheat",
        "rain",
        "minister",
        "parliament",
        "court",
        "strike",
    ]
    return [
        make_doc(
            f"{prefix}{i}",
            f"Story {i} about {words[i % 10]}",
            *(
                " ".join(words[(i * 7 + j * k) % 10] for k in range(40)) + f" {i}-{j}."
                for j in range(6)
            ),
        )
        for i in range(n)
    ]


def test_a_dictionary_is_trained_on_the_first_versions_and_read_back(tmp_path, monkeypatch):
    from corpus.store import payload

    monkeypatch.setattr(payload, "DICT_SAMPLES", 30)
    monkeypatch.setattr(payload, "DICT_SIZE", 2048)
    docs = varied_docs(60)
    path = tmp_path / "d.db"
    with Store.open(path) as store:
        record(store, "articles", *docs)
        (count,) = store.connection.execute("SELECT count(*) FROM dictionaries").fetchone()
        assert count == 1
        blobs = [
            b for (b,) in store.connection.execute("SELECT document FROM versions ORDER BY id")
        ]
    ids = [zstandard.get_frame_parameters(b).dict_id for b in blobs]
    assert ids[:30] == [0] * 30 and len(set(ids[30:])) == 1 and ids[30] != 0
    _forget_dictionaries(monkeypatch)
    with Store.open(path) as store:
        assert [store.version(d.key).document for d in docs] == docs
        record(store, "articles", *varied_docs(5, prefix="more"))  # a later run uses it too
        (last,) = store.connection.execute(
            "SELECT document FROM versions ORDER BY id DESC LIMIT 1"
        ).fetchone()
        assert zstandard.get_frame_parameters(last).dict_id == ids[30]


def test_migration_trains_a_dictionary_when_the_store_is_large_enough(release_store, monkeypatch):
    from corpus.store import payload

    monkeypatch.setattr(payload, "DICT_SAMPLES", 4)
    # zstd cannot train on the release store's four short versions: train on others.
    texts = [canonical_json(document_to_dict(d)).encode() for d in varied_docs(60)]
    trained = zstandard.train_dictionary(2048, texts).as_bytes()
    monkeypatch.setattr(payload, "train_dictionary", lambda samples: trained)
    with Store.open(release_store, create=False) as store:
        (count,) = store.connection.execute("SELECT count(*) FROM dictionaries").fetchone()
        assert count == 1
        assert store.version("world/duma", 1).document.title == "The Duma votes"
        (blob,) = store.connection.execute("SELECT document FROM versions LIMIT 1").fetchone()
        assert zstandard.get_frame_parameters(blob).dict_id != 0
    _forget_dictionaries(monkeypatch)
    with Store.open(release_store, create=False) as store:
        assert store.version("world/duma", 2).document.title == "The Duma votes again"
        assert store.integrity_check() == "ok"


def test_read_only_views_read_dictionary_compressed_versions(tmp_path, monkeypatch):
    """The web view opens stores read-only: it must find the store's dictionary by itself."""
    import sqlite3

    from corpus.store import payload
    from corpus.store.browse import open_read_only, read_only_view

    monkeypatch.setattr(payload, "DICT_SAMPLES", 30)
    monkeypatch.setattr(payload, "DICT_SIZE", 2048)
    docs = varied_docs(40)
    path = tmp_path / "d.db"
    with Store.open(path) as store:
        record(store, "articles", *docs)
    _forget_dictionaries(monkeypatch)
    store = open_read_only(path)
    try:
        assert store.version(docs[-1].key).document == docs[-1]
    finally:
        store.close()
    _forget_dictionaries(monkeypatch)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert read_only_view(conn, str(path)).version(docs[-1].key).document == docs[-1]
    finally:
        conn.close()

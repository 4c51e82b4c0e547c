"""The store's library API: versions, tombstones, skips, loading, search, as-of, errors."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.errors import ConfigError, NotFound, StoreError
from corpus.model import Block, Document, Finding, Severity, Source, document_to_dict
from corpus.pipeline import FileResult
from corpus.store import (
    STORE_ENV,
    Store,
    default_store_path,
    load_last_two,
    load_version,
    parse_spec,
)
from corpus.store import recorder as recorder_module


def make_doc(key: str, title: str, *paras: str, rel: str | None = None) -> Document:
    raw = (title + "\n\n" + "\n\n".join(paras)).encode("utf-8")
    return Document(
        key=key,
        title=title,
        blocks=[Block(p) for p in paras],
        source=Source(rel or f"{key}.txt", hashlib.sha256(raw).hexdigest(), "utf-8", len(raw)),
    )


def ok(doc: Document, findings: tuple[Finding, ...] = ()) -> FileResult:
    assert doc.source is not None
    return FileResult(doc.source.path, "ok", findings, doc)


@pytest.fixture
def root(tmp_path: Path) -> str:
    folder = tmp_path / "articles"
    folder.mkdir()
    return str(folder)


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "corpus.db") as opened:
        yield opened


def ingest(store: Store, root: str, *docs: Document) -> dict[str, int]:
    with store.begin_run(roots=[root], arguments=["ingest", root]) as run:
        for doc in docs:
            run.record(root, ok(doc))
    return run.finish()


# -- opening ---------------------------------------------------------------------------------


def test_default_store_path_follows_the_environment(monkeypatch):
    monkeypatch.delenv(STORE_ENV, raising=False)
    assert default_store_path() == "corpus.db"
    monkeypatch.setenv(STORE_ENV, "elsewhere.db")
    assert default_store_path() == "elsewhere.db"


def test_open_missing_store_without_create_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError) as info:
        Store.open(tmp_path / "none.db", create=False)
    assert info.value.code == "STORE_MISSING"
    assert "corpus ingest" in info.value.message
    assert not (tmp_path / "none.db").exists()


def test_open_refuses_a_file_that_is_not_a_database(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("just some text, not SQLite " * 100)
    with pytest.raises(StoreError) as info:
        Store.open(path)
    assert info.value.code == "STORE_CORRUPT"


def test_open_refuses_another_applications_database(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE people (name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError) as info:
        Store.open(path)
    assert info.value.code == "STORE_SCHEMA"
    assert "not a corpus store" in info.value.message


def test_open_refuses_a_folder_and_a_missing_parent(tmp_path):
    with pytest.raises(StoreError):
        Store.open(tmp_path)
    with pytest.raises(StoreError) as info:
        Store.open(tmp_path / "no" / "such" / "corpus.db")
    assert "does not exist" in info.value.message


def test_new_store_is_wal_and_current_schema(store):
    from corpus.store import SCHEMA_VERSION

    assert store.connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.schema_version() == SCHEMA_VERSION
    assert store.integrity_check() == "ok"


# -- versions ----------------------------------------------------------------------------------


def test_versions_new_unchanged_changed(store, root):
    v1 = make_doc("world/duma", "The Duma votes", "Russia's parliament voted.", "More.")
    assert ingest(store, root, v1)["new"] == 1
    same = ingest(store, root, v1)
    assert same["unchanged"] == 1 and same["new"] == 0 and same["changed"] == 0
    v2 = make_doc("world/duma", "The Duma votes again", "Russia's parliament voted.", "More!")
    assert ingest(store, root, v2)["changed"] == 1
    versions = store.versions("world/duma")
    assert [v.n for v in versions] == [1, 2]
    assert [v.content_hash for v in versions] == [v1.content_hash, v2.content_hash]
    assert versions[1].source_sha256 == v2.source.sha256
    assert versions[1].run_id == 3
    assert store.document("world/duma").latest == 2


def test_every_version_keeps_the_canonical_json_and_findings(store, root):
    doc = make_doc("a", "Title", "Body.")
    warning = Finding("NO_DATE", Severity.WARNING, "no date line", path="a.txt", line=1)
    with store.begin_run(roots=[root], arguments=[]) as run:
        assert run.record(root, ok(doc, (warning,))) == "new"
    stored = store.connection.execute("SELECT document FROM versions").fetchone()[0]
    assert isinstance(stored, bytes)  # compressed (schema 6): no longer the JSON itself
    assert json.loads(zstandard.ZstdDecompressor().decompress(stored)) == document_to_dict(doc)
    stored = store.version("a", 1)
    assert stored.document == doc
    assert stored.info.findings == (warning,)


def test_same_content_from_a_new_encoding_is_not_a_new_version(store, root):
    doc = make_doc("a", "Title", "Body.")
    ingest(store, root, doc)
    latin = Document(
        key="a",
        title="Title",
        blocks=[Block("Body.")],
        source=Source("a.txt", "f" * 64, "cp1252", 12),
    )
    assert ingest(store, root, latin)["unchanged"] == 1
    assert len(store.versions("a")) == 1


def test_rejected_file_adds_no_version_and_is_logged(store, root):
    error = Finding("EMPTY_FILE", Severity.ERROR, "file is empty", path="bad.txt")
    with store.begin_run(roots=[root], arguments=[]) as run:
        assert run.record(root, FileResult("bad.txt", "rejected", (error,), None)) == "rejected"
    counts = run.finish()
    assert counts["rejected"] == 1
    assert store.connection.execute("SELECT count(*) FROM versions").fetchone()[0] == 0
    outcome, findings = store.connection.execute(
        "SELECT outcome, findings FROM file_log WHERE rel_path = 'bad.txt'"
    ).fetchone()
    assert outcome == "rejected"
    assert json.loads(findings)[0]["code"] == "EMPTY_FILE"


def test_a_document_that_becomes_invalid_keeps_its_last_good_version(store, root):
    good = make_doc("a", "Title", "Body.")
    ingest(store, root, good)
    broken = make_doc("a", "", "")
    error = Finding("NO_BODY", Severity.ERROR, "no body", path="a.txt")
    with store.begin_run(roots=[root], arguments=[]) as run:
        assert run.record(root, FileResult("a.txt", "rejected", (error,), broken)) == "rejected"
    assert run.finish()["removed"] == 0
    info = store.document("a")
    assert (info.state, info.latest) == ("present", 1)


# -- tombstones --------------------------------------------------------------------------------


def test_missing_document_is_tombstoned_not_deleted_and_comes_back(store, root):
    a, b = make_doc("a", "A", "x"), make_doc("b", "B", "y")
    ingest(store, root, a, b)
    counts = ingest(store, root, a)
    assert counts["removed"] == 1
    assert store.document("b").state == "removed"
    assert store.version("b").document == b  # never deleted
    assert [r.after for r in store.removals("b")] == [1]
    assert ingest(store, root, a)["removed"] == 0  # already removed: not counted again
    back = ingest(store, root, a, b)
    assert back["new"] == 1
    info = store.document("b")
    assert (info.state, info.latest) == ("present", 2)


def test_interrupted_run_removes_nothing(store, root):
    a, b = make_doc("a", "A", "x"), make_doc("b", "B", "y")
    ingest(store, root, a, b)
    with store.begin_run(roots=[root], arguments=[]) as run:
        run.record(root, ok(a))
        counts = run.finish(interrupted=True)
    assert counts["removed"] == 0
    assert store.document("b").state == "present"
    assert store.runs(limit=1)[0].status == "interrupted"


def test_exception_inside_a_run_finishes_it_as_failed(store, root):
    ingest(store, root, make_doc("a", "A", "x"))
    with pytest.raises(RuntimeError), store.begin_run(roots=[root], arguments=[]) as run:
        run.record(root, ok(make_doc("b", "B", "y")))
        raise RuntimeError("boom")
    assert store.runs(limit=1)[0].status == "failed"
    assert store.document("a").state == "present"  # nothing tombstoned
    with pytest.raises(NotFound):  # the open batch was rolled back
        store.document("b")
    with pytest.raises(KeyboardInterrupt), store.begin_run(roots=[root], arguments=[]):
        raise KeyboardInterrupt
    assert store.runs(limit=1)[0].status == "interrupted"


def test_other_roots_are_not_tombstoned(store, tmp_path, root):
    other = tmp_path / "other"
    other.mkdir()
    ingest(store, str(other), make_doc("o", "O", "x"))
    ingest(store, root, make_doc("a", "A", "x"))
    assert store.document("o").state == "present"


def test_a_single_file_root_does_not_remove_its_neighbours(store, root):
    ingest(store, root, make_doc("a", "A", "x"), make_doc("b", "B", "y"))
    single = str(Path(root) / "a.txt")
    Path(single).write_text("A")
    with store.begin_run(roots=[single], arguments=[]) as run:
        run.record(root, ok(make_doc("a", "A", "x")))
    assert run.finish()["removed"] == 0
    assert store.document("b").state == "present"


def test_same_key_under_two_roots_is_one_document(store, tmp_path, root):
    other = tmp_path / "mirror"
    other.mkdir()
    doc = make_doc("a", "A", "x")
    ingest(store, root, doc)
    assert ingest(store, str(other), doc)["unchanged"] == 1
    assert ingest(store, root)["removed"] == 0  # still present under the mirror
    assert store.document("a").state == "present"
    assert ingest(store, str(other))["removed"] == 1


# -- skipping unchanged files ------------------------------------------------------------------


def test_known_unchanged_and_record_unchanged(store, root):
    doc = make_doc("a", "A", "x")
    ingest(store, root, doc)
    with store.begin_run(roots=[root], arguments=[]) as run:
        assert run.known_unchanged(root, "a.txt", doc.source.sha256) == "a"
        assert run.known_unchanged(root, "a.txt", "0" * 64) is None
        assert run.known_unchanged(root, "other.txt", doc.source.sha256) is None
        assert run.known_unchanged(root + "/../articles", "a.txt", doc.source.sha256) == "a"
        run.record_unchanged(root, "a.txt", "a")
        assert run.findings_of("a") == []
    counts = run.finish()
    assert counts["unchanged"] == 1 and counts["removed"] == 0
    assert len(store.versions("a")) == 1


def test_known_unchanged_misses_a_removed_document(store, root):
    doc = make_doc("a", "A", "x")
    ingest(store, root, doc)
    ingest(store, root)
    with store.begin_run(roots=[root], arguments=[]) as run:
        assert run.known_unchanged(root, "a.txt", doc.source.sha256) is None


def test_known_unchanged_misses_when_another_source_changed_the_document(store, tmp_path, root):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    old = make_doc("a", "A", "x")
    ingest(store, root, old)
    ingest(store, str(mirror), make_doc("a", "A", "changed"))
    with store.begin_run(roots=[root], arguments=[]) as run:
        assert run.known_unchanged(root, "a.txt", old.source.sha256) is None


def test_file_that_now_makes_another_key_orphans_the_old_document(store, root):
    ingest(store, root, make_doc("old-key", "A", "x", rel="a.txt"))
    assert ingest(store, root, make_doc("new-key", "A", "x", rel="a.txt"))["removed"] == 1
    assert store.document("old-key").state == "removed"


# -- loading -----------------------------------------------------------------------------------


def test_parse_spec():
    assert parse_spec("world/duma") == ("world/duma", None)
    assert parse_spec("world/duma@3") == ("world/duma", 3)
    assert parse_spec("a@b") == ("a@b", None)


def test_load_version_and_last_two(tmp_path, root):
    path = tmp_path / "c.db"
    v1, v2 = make_doc("a", "One", "x"), make_doc("a", "Two", "x")
    with Store.open(path) as store:
        ingest(store, root, v1)
        ingest(store, root, v2)
        ingest(store, root, make_doc("odd@7", "Odd", "z"))
    assert load_version("a", str(path)) == v2
    assert load_version("a@1", str(path)) == v1
    assert load_version("odd@7", str(path)).title == "Odd"  # a key that ends in @digits
    assert load_last_two("a", str(path)) == (v1, v2)
    with pytest.raises(NotFound, match="versions 1 to 2"):
        load_version("a@3", str(path))
    with pytest.raises(NotFound, match="corpus ls"):
        load_version("nope", str(path))
    with pytest.raises(NotFound, match="only one version"):
        load_last_two("odd@7", str(path))
    with pytest.raises(StoreError) as info:
        load_version("a", str(tmp_path / "missing.db"))
    assert info.value.code == "STORE_MISSING"


def test_load_version_uses_the_default_store(tmp_path, root, monkeypatch):
    path = tmp_path / "env.db"
    with Store.open(path) as store:
        ingest(store, root, make_doc("a", "One", "x"))
    monkeypatch.setenv(STORE_ENV, str(path))
    assert load_version("a").title == "One"


# -- reading -----------------------------------------------------------------------------------


def test_documents_lists_removed_ones_and_filters_by_time(store, root):
    ingest(store, root, make_doc("a", "A", "x"), make_doc("b", "B", "y"))
    cut = store.connection.execute("SELECT max(updated) FROM documents").fetchone()[0]
    ingest(store, root, make_doc("a", "A2", "x"))
    rows = {d.key: d for d in store.documents()}
    assert rows["a"].latest == 2 and rows["b"].state == "removed"
    assert {d.key for d in store.documents(since=cut + "0")} == {"a", "b"}
    late = "9999-01-01T00:00:00.000000Z"
    assert list(store.documents(since=late)) == []


def test_search_ranks_title_matches_first_and_flags_removed(store, root):
    ingest(
        store,
        root,
        make_doc("body", "Weather report", "The duma was mentioned once in passing."),
        make_doc("title", "Duma votes on the budget", "Parliament met on Tuesday."),
        make_doc("gone", "Duma archive", "Old news about the duma."),
    )
    ingest(
        store,
        root,
        make_doc("body", "Weather report", "The duma was mentioned once in passing."),
        make_doc("title", "Duma votes on the budget", "Parliament met on Tuesday."),
    )
    hits = store.search("duma")
    assert hits[0].key in ("title", "gone")
    assert {h.key for h in hits} == {"body", "title", "gone"}
    assert {h.key: h.state for h in hits}["gone"] == "removed"
    assert "[duma]" in {h.key: h.snippet for h in hits}["body"].lower()
    assert [h.key for h in store.search("parliament")] == ["title"]
    assert store.search("duma", limit=1) == hits[:1]


def test_search_sees_only_the_latest_version(store, root):
    ingest(store, root, make_doc("a", "A", "zebra crossing"))
    ingest(store, root, make_doc("a", "A", "giraffe crossing"))
    assert store.search("zebra") == []
    assert [h.version for h in store.search("giraffe")] == [2]


@pytest.mark.parametrize("query", ["duma AND", '"unbalanced', "nosuchcolumn:x", "   "])
def test_bad_search_query_is_a_clear_error(store, root, query):
    ingest(store, root, make_doc("a", "A", "x"))
    with pytest.raises(ConfigError) as info:
        store.search(query)
    assert info.value.code == "BAD_QUERY"


def test_as_of_gives_each_document_at_its_version_then(store, root):
    ingest(store, root, make_doc("a", "A1", "x"), make_doc("b", "B1", "y"))
    t1 = store.runs(limit=1)[0].finished
    ingest(store, root, make_doc("a", "A2", "x"))  # b removed
    t2 = store.runs(limit=1)[0].finished
    ingest(store, root, make_doc("a", "A2", "x"), make_doc("b", "B3", "y"))  # b back

    def titles(stamp):
        return {s.document.key: s.document.title for s in store.as_of(stamp)}

    assert titles(t1) == {"a": "A1", "b": "B1"}
    assert titles(t2) == {"a": "A2"}
    assert titles(None) == {"a": "A2", "b": "B3"}
    assert titles("2000-01-01T00:00:00.000000Z") == {}


def test_runs_record_arguments_times_and_counts(store, root):
    ingest(store, root, make_doc("a", "A", "x"))
    run = store.runs()[0]
    assert run.status == "finished"
    assert run.arguments == ("ingest", root)
    assert run.roots == (root,)
    assert run.started <= run.finished
    assert run.started.endswith("Z")
    assert run.counts == {"new": 1, "changed": 0, "unchanged": 0, "removed": 0, "rejected": 0}


def test_stats(store, root):
    ingest(store, root, make_doc("a", "A", "x"), make_doc("b", "B", "y"))
    ingest(store, root, make_doc("a", "A2", "x"))
    stats = store.stats()
    assert (stats["documents"], stats["present"], stats["removed"]) == (2, 1, 1)
    assert (stats["versions"], stats["documents_with_history"], stats["runs"]) == (3, 1, 2)
    assert stats["last_run"]["counts"]["removed"] == 1


def test_finished_run_refuses_more_records(store, root):
    run = store.begin_run(roots=[root], arguments=[])
    run.finish()
    with pytest.raises(StoreError):
        run.record(root, ok(make_doc("a", "A", "x")))
    assert run.finish() == {k: 0 for k in run.counts}


def test_batches_are_committed_and_visible_to_readers_during_a_run(tmp_path, root, monkeypatch):
    monkeypatch.setattr(recorder_module, "BATCH_SIZE", 10)
    path = tmp_path / "c.db"
    with Store.open(path) as store, Store.open(path) as reader:
        run = store.begin_run(roots=[root], arguments=[])
        for i in range(25):
            run.record(root, ok(make_doc(f"d{i}", f"T{i}", "x")))
        assert sum(1 for _ in reader.documents()) == 20  # two batches committed, one pending
        assert reader.active_run().id == run.run_id
        assert reader.runs(limit=1)[0].counts["new"] == 20
        run.finish()
        assert sum(1 for _ in reader.documents()) == 25
        assert reader.active_run() is None


# -- a model of the rules, checked on random histories ----------------------------------------

RUNS = st.lists(
    st.dictionaries(st.sampled_from(["k0", "k1", "k2", "k3"]), st.integers(0, 2), max_size=4),
    min_size=1,
    max_size=6,
)


@settings(max_examples=40, deadline=None)
@given(history=RUNS)
def test_random_histories_follow_the_version_rules(tmp_path_factory, history):
    folder = tmp_path_factory.mktemp("h")
    root = str(folder / "articles")
    Path(root).mkdir()
    expected: dict[str, list[int]] = {}
    state: dict[str, str] = {}
    with Store.open(folder / "c.db") as store:
        for run_docs in history:
            want = dict.fromkeys(("new", "changed", "unchanged", "removed", "rejected"), 0)
            for key, variant in sorted(run_docs.items()):
                versions = expected.setdefault(key, [])
                if not versions or state.get(key) == "removed":
                    want["new"] += 1
                    versions.append(variant)
                elif versions[-1] != variant:
                    want["changed"] += 1
                    versions.append(variant)
                else:
                    want["unchanged"] += 1
                state[key] = "present"
            for key in expected:
                if key not in run_docs and state[key] == "present":
                    state[key] = "removed"
                    want["removed"] += 1
            docs = [make_doc(k, f"title {v}", f"body {v}") for k, v in sorted(run_docs.items())]
            assert ingest(store, root, *docs) == want
        for key, variants in expected.items():
            stored = [store.version(key, v.n).document.title for v in store.versions(key)]
            assert stored == [f"title {v}" for v in variants]
            assert store.document(key).state == state[key]
        assert store.integrity_check() == "ok"

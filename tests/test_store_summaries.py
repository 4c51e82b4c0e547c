"""Change summaries stored at ingest (schema version 4), so ``corpus log`` needs no diff engine.

An ingest stores the diff engine's summary line with each version after the first; ``log``
prints the stored lines and works out only the missing ones (versions stored before schema 4,
or when the engine failed). These tests check that the stored lines are the ones ``log`` would
work out, that its output does not depend on whether they are stored, that an older store is
migrated without diffing anything, and that ``log`` on a recent store never loads the engine.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from storedocs import ONE, THREE, TWO
from strategies import documents

import corpus.diff as diff_api
from corpus.model import Block, Document, Source, canonical_json, document_to_dict
from corpus.pipeline import FileResult
from corpus.store import SCHEMA_VERSION, Store, load_version
from corpus.store import schema as schema_module
from corpus.store.summary import summarize_change

OTHER = Document(
    key="sport/final",
    title="Cup final tonight",
    blocks=[Block("The final kicks off at eight.")],
    source=Source("sport/final.txt", "4" * 64, "utf-8", 80),
)


def record(store: Store, root: Path, *docs: Document) -> dict[str, str]:
    """One run over ``root`` seeing ``docs``; returns each key's outcome."""
    with store.begin_run(roots=[str(root)], arguments=["ingest", str(root)]) as run:
        return {d.key: run.record(str(root), FileResult(d.source.path, "ok", (), d)) for d in docs}


def stored_summaries(db: Path, key: str) -> list[str | None]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT v.summary FROM versions v JOIN documents d ON d.id = v.doc_id "
            "WHERE d.key = ? ORDER BY v.n",
            (key,),
        ).fetchall()
    finally:
        conn.close()
    return [r[0] for r in rows]


def forget_summaries(db: Path) -> None:
    """Make every version look as if a schema-3 corpus had stored it."""
    conn = sqlite3.connect(db)
    conn.execute("UPDATE versions SET summary = NULL")
    conn.commit()
    conn.close()


def line_of(old: Document, new: Document) -> str:
    return diff_api.diff_documents(old, new).summary_line()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    return folder


@pytest.fixture
def db(tmp_path: Path, root: Path) -> Path:
    """The Duma story in three versions; the final removed in the last run."""
    path = tmp_path / "corpus.db"
    with Store.open(path) as store:
        record(store, root, ONE, OTHER)
        record(store, root, TWO, OTHER)
        record(store, root, THREE)
    return path


# -- stored at ingest --------------------------------------------------------------------------


def test_each_later_version_stores_the_engines_line_against_the_one_before(db):
    assert stored_summaries(db, "world/duma") == [None, line_of(ONE, TWO), line_of(TWO, THREE)]
    assert line_of(ONE, TWO) != line_of(TWO, THREE)  # each against its own predecessor
    assert stored_summaries(db, "sport/final") == [None]  # version 1: log says "first version"
    with Store.open(db, create=False) as store:
        infos = store.versions("world/duma")
    assert [v.summary for v in infos] == [None, line_of(ONE, TWO), line_of(TWO, THREE)]
    assert infos[1].to_dict()["summary"] == line_of(ONE, TWO)


def test_unchanged_and_rejected_files_store_nothing(tmp_path, root):
    path = tmp_path / "corpus.db"
    with Store.open(path) as store:
        record(store, root, ONE)
        assert record(store, root, ONE) == {"world/duma": "unchanged"}
        with store.begin_run(roots=[str(root)], arguments=[]) as run:
            run.record(str(root), FileResult(ONE.source.path, "rejected", (), None))
    assert stored_summaries(path, "world/duma") == [None]


def test_a_document_that_comes_back_is_summarized_against_its_last_version(tmp_path, root):
    path = tmp_path / "corpus.db"
    with Store.open(path) as store:
        record(store, root, ONE, OTHER)
        record(store, root, OTHER)  # the Duma story is removed after version 1
        assert record(store, root, TWO, OTHER)["world/duma"] == "new"
        record(store, root, OTHER)
        assert record(store, root, TWO, OTHER)["world/duma"] == "new"  # same content again
    assert stored_summaries(path, "world/duma") == [None, line_of(ONE, TWO), line_of(TWO, TWO)]
    assert line_of(TWO, TWO) == "no changes"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(old=documents(), new=documents())
def test_the_stored_line_is_the_one_log_works_out(old, new):
    # any two documents under one key: the stored line equals the engine's on the stored
    # documents, which is what `log` computes for a version stored without a line
    new = attrs.evolve(new, key=old.key)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "corpus.db"
        with Store.open(path) as store:
            for doc in (old, new):
                with store.begin_run(roots=[folder], arguments=[]) as run:
                    run.record(folder, FileResult("a.txt", "ok", (), doc))
            versions = store.versions(old.key)
            if len(versions) == 1:  # same content: no version added
                assert old.content_hash == new.content_hash
                return
            first, second = store.version(old.key, 1), store.version(old.key, 2)
        assert versions[1].summary == line_of(first.document, second.document)
        assert versions[1].summary == summarize_change(first.document, second.document)
        assert versions[1].summary == line_of(old, new)  # the stored JSON is lossless


@pytest.mark.parametrize("how", ["raises", "missing"])
def test_a_failing_diff_engine_never_costs_a_version(tmp_path, root, run_cli, monkeypatch, how):
    path = tmp_path / "corpus.db"
    with Store.open(path) as store:
        record(store, root, ONE)
        if how == "raises":

            def broken(old: Document, new: Document) -> None:
                raise RecursionError("the engine gave up")

            monkeypatch.setattr(diff_api, "diff_documents", broken)
        else:
            monkeypatch.setitem(sys.modules, "corpus.diff", None)  # a trimmed install
        assert record(store, root, TWO) == {"world/duma": "changed"}
        monkeypatch.undo()
        assert [v.n for v in store.versions("world/duma")] == [1, 2]
    assert stored_summaries(path, "world/duma") == [None, None]
    assert load_version("world/duma@2", str(path)).title == TWO.title
    lines = run_cli("log", "--store", path, "world/duma").output.splitlines()
    assert lines[1].endswith(f"  {line_of(ONE, TWO)}")  # log works the line out itself


# -- log ---------------------------------------------------------------------------------------


def test_log_prints_the_same_with_and_without_stored_lines(run_cli, db):
    stored = {
        key: (
            run_cli("log", "--store", db, key).output,
            run_cli("log", "--store", db, key, "--json").output,
        )
        for key in ("world/duma", "sport/final")
    }
    lines = stored["world/duma"][0].splitlines()
    assert [line.split()[0] for line in lines] == ["v1", "v2", "v3"]
    assert lines[0].endswith("  first version")
    assert lines[1].endswith(f"  {summarize_change(ONE, TWO)}")
    assert lines[2].endswith(f"  {summarize_change(TWO, THREE)}")
    events = json.loads(stored["world/duma"][1])["events"]
    assert [e["summary"] for e in events] == [
        "first version",
        line_of(ONE, TWO),
        line_of(TWO, THREE),
    ]
    forget_summaries(db)
    assert stored_summaries(db, "world/duma") == [None, None, None]
    for key, (text, as_json) in stored.items():
        assert run_cli("log", "--store", db, key).output == text
        assert run_cli("log", "--store", db, key, "--json").output == as_json


def test_log_mixes_stored_and_missing_lines(run_cli, db):
    conn = sqlite3.connect(db)
    conn.execute("UPDATE versions SET summary = NULL WHERE n = 2")
    conn.commit()
    conn.close()
    assert stored_summaries(db, "world/duma") == [None, None, line_of(TWO, THREE)]
    events = json.loads(run_cli("log", "--store", db, "world/duma", "--json").output)["events"]
    assert [e["summary"] for e in events] == [
        "first version",
        line_of(ONE, TWO),
        line_of(TWO, THREE),
    ]


def test_log_shows_a_stored_line_as_it_is(run_cli, db):
    # the stored line is what log prints: it does not diff again
    conn = sqlite3.connect(db)
    conn.execute("UPDATE versions SET summary = 'title changed (stored)' WHERE n = 3")
    conn.commit()
    conn.close()
    lines = run_cli("log", "--store", db, "world/duma").output.splitlines()
    assert lines[2].endswith("  title changed (stored)")


# -- migration from schema version 3 -----------------------------------------------------------


def v3_store(path: Path) -> None:
    """A store as schema version 3 wrote it: two versions of one document, no summaries."""
    conn = sqlite3.connect(path, isolation_level=None)
    schema_module.migrate(conn, str(path), target=3)  # MIGRATIONS 1..3 on a fresh file
    assert "summary" not in columns(conn, "versions")
    conn.execute(
        "INSERT INTO runs (id, started, finished, status, roots, arguments) VALUES "
        "(?, ?, ?, 'finished', '[\"articles\"]', '[]')",
        (1, "2024-01-01T00:00:00.000000Z", "2024-01-01T00:01:00.000000Z"),
    )
    conn.execute(
        "INSERT INTO runs (id, started, finished, status, roots, arguments) VALUES "
        "(?, ?, ?, 'finished', '[\"articles\"]', '[]')",
        (2, "2024-01-02T00:00:00.000000Z", "2024-01-02T00:01:00.000000Z"),
    )
    conn.execute(
        "INSERT INTO documents (id, key, state, latest, content_hash, title, root, rel_path, "
        "first_seen, updated) VALUES (1, ?, 'present', 2, ?, ?, 'articles', 'world/duma.txt', "
        "'2024-01-01T00:00:00.000000Z', '2024-01-02T00:00:00.000000Z')",
        (TWO.key, TWO.content_hash, TWO.title),
    )
    for n, doc, day in ((1, ONE, "01"), (2, TWO, "02")):
        conn.execute(
            "INSERT INTO versions (doc_id, n, run_id, created, content_hash, size, document, "
            "findings) VALUES (1, ?, ?, ?, ?, ?, ?, '[]')",
            (
                n,
                n,
                f"2024-01-{day}T00:00:00.000000Z",
                doc.content_hash,
                doc.source.size,
                canonical_json(document_to_dict(doc)),
            ),
        )
    conn.execute(
        "INSERT INTO search (rowid, title, body) VALUES (1, ?, ?)", (TWO.title, TWO.body_text)
    )
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
    conn.close()


def columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def test_a_v3_store_is_migrated_keeping_its_data(tmp_path, run_cli):
    path = tmp_path / "v3.db"
    v3_store(path)
    with Store.open(path, create=False) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert "summary" in columns(store.connection, "versions")
        assert [v.n for v in store.versions("world/duma")] == [1, 2]
        assert [h.key for h in store.search("votes")] == ["world/duma"]
        assert store.integrity_check() == "ok"
    assert stored_summaries(path, "world/duma") == [None, None]  # nothing diffed on open
    assert load_version("world/duma@1", str(path)) == ONE
    assert load_version("world/duma", str(path)) == TWO
    lines = run_cli("log", "--store", path, "world/duma").output.splitlines()
    assert lines[0].endswith("  first version")
    assert lines[1].endswith(f"  {line_of(ONE, TWO)}")  # worked out on demand, as before


def test_a_migrated_store_stores_lines_for_new_versions(tmp_path):
    path = tmp_path / "v3.db"
    v3_store(path)
    root = tmp_path / "articles"
    root.mkdir()
    with Store.open(path) as store:
        assert record(store, root, THREE) == {"world/duma": "changed"}
    assert stored_summaries(path, "world/duma") == [None, None, line_of(TWO, THREE)]


# -- what `corpus log` imports -----------------------------------------------------------------

#: Runs one ``corpus`` command as the console script does and reports which of the named
#: modules it imported (on stderr, after the command's own output).
RUN_AND_REPORT = """
import json, sys
import corpus.cli
watched = json.loads(sys.argv[1])
code = None
try:
    corpus.cli.main(sys.argv[2:])
except SystemExit as exc:
    code = exc.code
loaded = sorted(m for m in sys.modules if any(m == w or m.startswith(w + ".") for w in watched))
print(json.dumps({"code": code, "loaded": loaded}), file=sys.stderr)
"""

DIFF_ENGINE = ("corpus.diff.engine", "rapidfuzz")


def loaded_by(cwd: Path, *argv: str | Path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CORPUS_PLUGINS", "CORPUS_STORE")}
    proc = subprocess.run(
        [sys.executable, "-c", RUN_AND_REPORT, json.dumps(DIFF_ENGINE), *map(str, argv)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=cwd,
    )
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    assert report["code"] in (0, None), proc.stderr
    assert proc.stdout.count("\n") == 3  # the three versions
    return report["loaded"]


def test_log_on_a_store_with_stored_lines_loads_no_diff_engine(tmp_path, db):
    assert stored_summaries(db, "world/duma")[1:] == [line_of(ONE, TWO), line_of(TWO, THREE)]
    assert loaded_by(tmp_path, "log", "world/duma", "--store", db) == []
    forget_summaries(db)  # the probe can fail: without stored lines the engine is loaded
    assert set(DIFF_ENGINE) <= set(loaded_by(tmp_path, "log", "world/duma", "--store", db))

"""A run that fails part way is recorded as failed, tombstones nothing, keeps what it committed
and still writes its report; nothing about it is a traceback."""

from __future__ import annotations

import errno
import json
import sqlite3
from pathlib import Path

import pytest
from conftest import FIXTURES

from corpus.config import Config
from corpus.errors import CorpusError
from corpus.ingest import IngestOptions, run_ingest
from corpus.store import SCHEMA_VERSION, Store
from corpus.store import recorder as recorder_module
from corpus.store import schema as schema_module

SEED = (FIXTURES / "articles" / "seed.txt").read_text(encoding="utf-8")


def make_corpus(folder: Path, n: int, edition: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        text = SEED + f"\n\nParagraph number {i}, edition {edition}."
        (folder / f"a{i:04d}.txt").write_text(text, encoding="utf-8")


def ingest(plugins, src: Path, tmp_path: Path, **kwargs):
    options = IngestOptions(
        sources=(str(src),),
        output=str(tmp_path / "out"),
        formats=("json",),
        store=str(tmp_path / "c.db"),
        **kwargs,
    )
    return run_ingest(options, plugins=plugins, config=Config())


def store_state(db: Path) -> tuple[list[tuple], int, int]:
    with sqlite3.connect(db) as conn:
        runs = conn.execute(
            "SELECT id, status, n_new, n_changed, n_removed FROM runs ORDER BY id"
        ).fetchall()
        present = conn.execute("SELECT count(*) FROM documents WHERE state = 'present'")
        versions = conn.execute("SELECT count(*) FROM versions").fetchone()[0]
        return runs, present.fetchone()[0], versions


def test_a_run_failing_part_way_is_failed_tombstones_nothing_keeps_committed_batches(
    plugins, tmp_path, monkeypatch
):
    src = tmp_path / "src"
    make_corpus(src, 40)
    ingest(plugins, src, tmp_path).cleanup()
    make_corpus(src, 40, edition=1)  # every file changed: the next run adds 40 versions
    monkeypatch.setattr(recorder_module, "BATCH_SIZE", 4)
    seen = []

    def breaks_at_the_tenth(result):
        seen.append(result.path)
        if len(seen) == 10:
            raise RuntimeError("simulated bug after ten files")

    options = IngestOptions(
        sources=(str(src),),
        output=str(tmp_path / "out"),
        formats=("json",),
        store=str(tmp_path / "c.db"),
    )
    with pytest.raises(CorpusError) as raised:
        run_ingest(options, plugins=plugins, config=Config(), on_result=breaks_at_the_tenth)
    assert raised.value.code == "INTERNAL_ERROR"
    assert "simulated bug" in raised.value.message
    runs, present, versions = store_state(tmp_path / "c.db")
    # Two batches of four committed; the open batch (files 9 and 10) was rolled back.
    assert runs == [(1, "finished", 40, 0, 0), (2, "failed", 0, 8, 0)]
    assert present == 40  # before the fix: 30 unseen documents were tombstoned
    assert versions == 48
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["run"]["failed"]["code"] == "INTERNAL_ERROR"
    # The report has every file processed; the store counts say what the store kept.
    assert report["totals"]["files"] == 10
    assert report["totals"]["store"]["changed"] == 8


def test_a_full_disk_under_the_store_fails_the_run_with_store_full(plugins, tmp_path, monkeypatch):
    src = tmp_path / "src"
    make_corpus(src, 30)
    ingest(plugins, src, tmp_path).cleanup()
    make_corpus(src, 30, edition=1)
    real_open = Store.open

    def nearly_full(path, **kwargs):  # SQLite's own SQLITE_FULL, as on a full disk
        store = real_open(path, **kwargs)
        pages = store.connection.execute("PRAGMA page_count").fetchone()[0]
        store.connection.execute(f"PRAGMA max_page_count = {pages + 2}")
        return store

    monkeypatch.setattr(Store, "open", staticmethod(nearly_full))
    with pytest.raises(CorpusError) as raised:
        ingest(plugins, src, tmp_path)
    assert raised.value.code == "STORE_FULL"
    runs, present, versions = store_state(tmp_path / "c.db")
    assert runs == [(1, "finished", 30, 0, 0), (2, "failed", 0, 0, 0)]
    assert (present, versions) == (30, 30)
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["run"]["failed"]["code"] == "STORE_FULL"
    assert report["totals"]["store"] == {
        "new": 0,
        "changed": 0,
        "unchanged": 0,
        "removed": 0,
        "rejected": 0,
    }


def test_cli_failed_run_is_a_coded_error_not_a_traceback(run_cli, tmp_path, monkeypatch):
    src = tmp_path / "src"
    make_corpus(src, 5)
    db = tmp_path / "c.db"

    def full(self, root, result, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(recorder_module.IngestRun, "record", recorder_module._coded(full))
    result = run_cli("ingest", src, "-o", tmp_path / "out", "--store", db, "-q")
    assert result.exit_code == 2
    assert "STORE_FULL" in result.output and "Traceback" not in result.output
    assert str(tmp_path / "out" / "report.json") in result.output


def test_unwritable_quarantine_is_refused_before_the_run(run_cli, tmp_path):
    src = tmp_path / "src"
    make_corpus(src, 20)
    db = tmp_path / "c.db"
    assert run_cli("ingest", src, "--store", db, "-q").exit_code == 0
    (src / "bad.txt").write_bytes(b"")  # a rejected file, so quarantine is used
    for i in range(5, 20):
        (src / f"a{i:04d}.txt").unlink()
    result = run_cli(
        "ingest", src, "--store", db, "-q", "--quarantine", "/proc/self/no/such/folder"
    )
    assert result.exit_code == 2
    assert "QUARANTINE_UNWRITABLE" in result.output and "Traceback" not in result.output
    runs, present, _ = store_state(db)
    assert [r[1] for r in runs] == ["finished"] and present == 20  # nothing tombstoned


def test_a_file_that_cannot_be_quarantined_gets_a_finding_and_the_run_goes_on(
    plugins, tmp_path, monkeypatch
):
    import corpus.ingest

    src = tmp_path / "src"
    make_corpus(src, 3)
    (src / "bad.txt").write_bytes(b"")

    def no_space(item, result, folder):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(corpus.ingest, "quarantine_file", no_space)
    report = ingest(plugins, src, tmp_path, quarantine=str(tmp_path / "q"))
    entry = next(e for e in report.files if e["path"] == "bad.txt")
    assert [f["code"] for f in entry["findings"]] == ["EMPTY_FILE", "QUARANTINE_FAILED"]
    assert report.store_counts["new"] == 3
    report.cleanup()


def test_v4_store_migrates_to_a_runs_table_that_takes_failed(tmp_path):
    db = tmp_path / "v4.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    schema_module.migrate(conn, str(db), target=4)
    conn.execute(
        "INSERT INTO runs (id, started, status, roots, arguments, n_new) VALUES "
        "(7, '2024-01-01T00:00:00Z', 'finished', '[]', '[]', 1)"
    )
    conn.execute(
        "INSERT INTO documents (id, key, state, latest, content_hash, title, first_seen, "
        "updated) VALUES (1, 'k', 'present', 1, 'h', 't', 'x', 'x')"
    )
    conn.execute(
        "INSERT INTO versions (doc_id, n, run_id, created, content_hash, size, document, "
        "findings) VALUES (1, 1, 7, 'x', 'h', 1, '{}', '[]')"
    )
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE runs SET status = 'failed'")
    conn.close()
    with Store.open(db, create=False) as store:
        assert store.schema_version() == SCHEMA_VERSION
        store.connection.execute("UPDATE runs SET status = 'failed' WHERE id = 7")
        assert store.run(7).status == "failed" and store.run(7).counts["new"] == 1
        assert store.integrity_check() == "ok"
        assert store.connection.execute("PRAGMA foreign_key_check").fetchall() == []
        with pytest.raises(sqlite3.IntegrityError):  # references to runs still hold
            store.connection.execute(
                "INSERT INTO versions (doc_id, n, run_id, created, content_hash, size, "
                "document, findings) VALUES (1, 2, 99, 'x', 'h', 1, '{}', '[]')"
            )

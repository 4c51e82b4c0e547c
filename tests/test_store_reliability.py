"""The store survives kill -9, refuses concurrent writers clearly, and migrates old schemas."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from corpus.errors import StoreError
from corpus.store import SCHEMA_VERSION, Store, load_version
from corpus.store import schema as schema_module

# A stand-in for an ingest loop, driven through the library API in its own process so that
# it can be killed: it records N deterministic documents, one version each.
WRITER = textwrap.dedent(
    """
    import hashlib, sys, time
    from corpus.model import Block, Document, Source
    from corpus.pipeline import FileResult
    from corpus.store import Store

    store_path, root, count, pause_at, timeout = sys.argv[1:6]
    count, pause_at = int(count), int(pause_at)
    store = Store.open(store_path, busy_timeout=float(timeout))
    run = store.begin_run(roots=[root], arguments=["writer", root])
    print("RUN", run.run_id, flush=True)
    for i in range(count):
        body = f"Paragraph {i} about the duma and the budget vote."
        raw = body.encode()
        doc = Document(
            key=f"doc{i:06d}",
            title=f"Article {i}",
            blocks=[Block(body), Block("A second paragraph, the same in every article.")],
            source=Source(f"doc{i:06d}.txt", hashlib.sha256(raw).hexdigest(), "utf-8", len(raw)),
        )
        run.record(root, FileResult(f"doc{i:06d}.txt", "ok", (), doc))
        if i + 1 == pause_at:
            print("PAUSED", flush=True)
            time.sleep(600)
        if i == 600:
            print("WRITING", flush=True)
    print("COUNTS", run.finish(), flush=True)
    store.close()
    """
)


def start_writer(
    tmp_path: Path, store: Path, root: Path, count: int, pause_at: int = -1, timeout: float = 30.0
) -> subprocess.Popen:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    return subprocess.Popen(
        [
            sys.executable,
            str(script),
            str(store),
            str(root),
            str(count),
            str(pause_at),
            str(timeout),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(proc: subprocess.Popen, marker: str) -> str:
    for line in proc.stdout:
        if line.startswith(marker):
            return line
    raise AssertionError(f"writer ended before {marker}: {proc.stderr.read()}")


def check_consistent(path: Path) -> tuple[int, int]:
    """integrity_check ok, one version row per (document, n), versions 1..latest; counts."""
    with Store.open(path, create=False) as store:
        conn = store.connection
        assert store.integrity_check() == "ok"
        assert (
            conn.execute(
                "SELECT doc_id, n FROM versions GROUP BY doc_id, n HAVING count(*) > 1"
            ).fetchall()
            == []
        )
        assert (
            conn.execute(
                "SELECT d.key FROM documents d WHERE d.latest <> "
                "(SELECT count(*) FROM versions v WHERE v.doc_id = d.id)"
            ).fetchall()
            == []
        )
        fts = conn.execute("SELECT count(*) FROM search").fetchone()[0]
        docs = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
        assert fts == docs
        versions = conn.execute("SELECT count(*) FROM versions").fetchone()[0]
        return docs, versions


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    return folder


# -- kill -9 -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_kill_9_mid_batch_then_same_ingest_completes(tmp_path, root):
    db = tmp_path / "corpus.db"
    proc = start_writer(tmp_path, db, root, 3000, pause_at=1700)
    wait_for(proc, "PAUSED")  # 1700 recorded: 3 batches of 500 committed, 200 pending
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert check_consistent(db) == (1500, 1500)

    again = start_writer(tmp_path, db, root, 3000)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    counts = json.loads(out.split("COUNTS ", 1)[1].replace("'", '"'))
    assert counts == {"new": 1500, "changed": 0, "unchanged": 1500, "removed": 0, "rejected": 0}
    assert check_consistent(db) == (3000, 3000)
    with Store.open(db, create=False) as store:
        assert [r.status for r in store.runs()] == ["finished", "abandoned"]
        assert load_version("doc001999", str(db)).title == "Article 1999"


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.05, 0.2, 0.45])
def test_kill_9_while_writing_then_same_ingest_completes(tmp_path, root, delay):
    db = tmp_path / "corpus.db"
    proc = start_writer(tmp_path, db, root, 100_000)
    wait_for(proc, "WRITING")
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    docs, versions = check_consistent(db)
    assert docs == versions and docs % 500 == 0 and docs >= 500

    total = docs + 700  # the same ingest again, a little further than the killed one got
    again = start_writer(tmp_path, db, root, total)
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert check_consistent(db) == (total, total)


@pytest.mark.slow
def test_kill_9_of_the_real_ingest_command_then_again(tmp_path):
    corpus_cli = [sys.executable, "-c", "from corpus.cli import main; main()"]
    help_text = subprocess.run([*corpus_cli, "ingest", "--help"], capture_output=True, text=True)
    if "--store" not in help_text.stdout:
        pytest.skip("corpus ingest has no --store option yet")
    articles = tmp_path / "articles"
    articles.mkdir()
    count = 4000
    for i in range(count):
        (articles / f"a{i:05d}.txt").write_text(
            f" date 2022-02-26 Headline number {i}\n\nThe Duma voted on bill {i} today, "
            "in a session that lasted well into the night and drew a large crowd.\n\n"
            "A second paragraph follows here with a few more words in it.",
            encoding="utf-8",
        )
    db = tmp_path / "corpus.db"
    args = [*corpus_cli, "ingest", str(articles), "--store", str(db), "-q"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # kill once a few batches are in
        time.sleep(0.05)
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
                if conn.execute("SELECT count(*) FROM versions").fetchone()[0] >= 1000:
                    break
        except sqlite3.Error:
            continue
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    docs, versions = check_consistent(db)
    assert docs == versions and 0 < docs < count

    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    assert check_consistent(db) == (count, count)
    with Store.open(db, create=False) as store:
        runs = store.runs()
        assert [r.status for r in runs] == ["finished", "abandoned"]
        assert runs[0].counts["unchanged"] == docs
        assert runs[0].counts["new"] == count - docs


# -- two writers -------------------------------------------------------------------------------


def test_second_writer_fails_clearly_after_waiting(tmp_path, root):
    db = tmp_path / "corpus.db"
    with Store.open(db) as first, Store.open(db, busy_timeout=0.3) as second:
        run = first.begin_run(roots=[str(root)], arguments=[])
        started = time.monotonic()
        with pytest.raises(StoreError) as info:
            second.begin_run(roots=[str(root)], arguments=[])
        assert time.monotonic() - started >= 0.25
        assert info.value.code == "STORE_BUSY"
        assert f"another ingest is writing to {db} (run {run.run_id}, started" in str(info.value)
        run.finish()
        second.begin_run(roots=[str(root)], arguments=[]).finish()  # free again
        assert [r.status for r in second.runs()] == ["finished", "finished"]


def test_second_writer_waits_for_the_first_to_finish(tmp_path, root):
    db = tmp_path / "corpus.db"
    with Store.open(db) as first:
        run = first.begin_run(roots=[str(root)], arguments=[])
        timer = threading.Timer(0.4, run.finish)
        timer.start()
        with Store.open(db, busy_timeout=20) as second:
            waited = time.monotonic()
            second_run = second.begin_run(roots=[str(root)], arguments=[])
            assert time.monotonic() - waited >= 0.3
            second_run.finish()
        timer.join()
    with Store.open(db) as store:
        older, newer = store.runs()[::-1]
        assert older.finished <= newer.started


def test_one_store_object_runs_one_ingest_at_a_time(tmp_path, root):
    with Store.open(tmp_path / "corpus.db") as store:
        store.begin_run(roots=[str(root)], arguments=[])
        with pytest.raises(StoreError) as info:
            store.begin_run(roots=[str(root)], arguments=[])
        assert info.value.code == "STORE_BUSY"


@pytest.mark.slow
def test_writer_in_another_process_blocks_until_it_dies(tmp_path, root):
    db = tmp_path / "corpus.db"
    proc = start_writer(tmp_path, db, root, 10, pause_at=5)
    try:
        wait_for(proc, "PAUSED")
        with Store.open(db, busy_timeout=0.2) as store, pytest.raises(StoreError) as info:
            store.begin_run(roots=[str(root)], arguments=[])
        assert info.value.code == "STORE_BUSY"
        assert "run 1" in info.value.message
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    with Store.open(db, busy_timeout=5) as store:  # the dead writer's lock is gone
        store.begin_run(roots=[str(root)], arguments=[]).finish()
        assert [r.status for r in store.runs()] == ["finished", "abandoned"]
    check_consistent(db)


@pytest.mark.slow
def test_two_concurrent_writer_processes_both_complete_in_turn(tmp_path):
    db = tmp_path / "corpus.db"
    Store.open(db).close()
    roots = [tmp_path / "one", tmp_path / "two"]
    for folder in roots:
        folder.mkdir()
    procs = [start_writer(tmp_path, db, folder, 1200, timeout=60) for folder in roots]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert check_consistent(db) == (1200, 1200)  # same keys under both roots: one document each
    with Store.open(db) as store:
        first, second = store.runs()[::-1]
        assert first.finished <= second.started
        assert first.counts["new"] == 1200 and second.counts["unchanged"] == 1200


# -- schema versions ---------------------------------------------------------------------------


def _v1_store(path: Path) -> None:
    """A store as schema version 1 wrote it: no full-text index yet."""
    conn = sqlite3.connect(path, isolation_level=None)
    schema_module.migrate(conn, str(path), target=1)
    conn.execute(
        "INSERT INTO runs (id, started, finished, status, roots, arguments) VALUES "
        "(1, '2024-01-01T00:00:00.000000Z', '2024-01-01T00:01:00.000000Z', 'finished', "
        "'[\"articles\"]', '[]')"
    )
    document = {
        "model_version": 1,
        "key": "old",
        "title": "Budget vote in the Duma",
        "blocks": [{"text": "Deputies voted on the budget.", "kind": "paragraph"}],
    }
    conn.execute(
        "INSERT INTO documents (id, key, state, latest, content_hash, title, first_seen, updated) "
        "VALUES (1, 'old', 'present', 1, 'h', 'Budget vote in the Duma', "
        "'2024-01-01T00:00:00.000000Z', '2024-01-01T00:00:00.000000Z')"
    )
    conn.execute(
        "INSERT INTO versions (doc_id, n, run_id, created, content_hash, size, document, findings) "
        "VALUES (1, 1, 1, '2024-01-01T00:00:00.000000Z', 'h', 10, ?, '[]')",
        (json.dumps(document),),
    )
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    conn.close()


def test_older_schema_is_migrated_and_its_data_kept(tmp_path):
    db = tmp_path / "v1.db"
    _v1_store(db)
    with Store.open(db, create=False) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert [h.key for h in store.search("budget")] == ["old"]
        assert [h.key for h in store.search("deputy")] == ["old"]  # stemmed: "Deputies"
        assert store.integrity_check() == "ok"
    assert load_version("old@1", str(db)).title == "Budget vote in the Duma"


def test_failed_migration_leaves_the_old_version_intact(tmp_path, monkeypatch):
    db = tmp_path / "v1.db"
    _v1_store(db)

    def broken(conn):
        conn.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("disk pulled out")

    monkeypatch.setitem(schema_module.MIGRATIONS, 2, broken)
    with pytest.raises(RuntimeError):
        Store.open(db)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert "half_done" not in schema_module.user_tables(conn)
    conn.close()
    monkeypatch.undo()
    with Store.open(db) as store:
        assert store.schema_version() == SCHEMA_VERSION


def test_newer_schema_is_refused_clearly(tmp_path):
    db = tmp_path / "future.db"
    Store.open(db).close()
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError) as info:
        Store.open(db)
    assert info.value.code == "STORE_SCHEMA"
    assert "newer than this corpus knows" in info.value.message
    assert "upgrade newscorpus" in info.value.message


def test_foreign_application_id_is_refused(tmp_path):
    db = tmp_path / "foreign.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA application_id = 1234")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError) as info:
        Store.open(db)
    assert info.value.code == "STORE_SCHEMA"


def test_readers_open_and_query_while_an_ingest_holds_a_batch(tmp_path, root):
    db = tmp_path / "corpus.db"
    with Store.open(db) as writer:
        run = writer.begin_run(roots=[str(root)], arguments=[])
        started = time.monotonic()
        with Store.open(db, create=False, busy_timeout=5) as reader:
            assert list(reader.documents()) == []
            assert reader.active_run().id == run.run_id
        assert time.monotonic() - started < 1.0
        run.finish()

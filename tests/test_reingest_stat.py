"""Re-ingest trusts a file whose size, modification time and inode are those recorded.

Such a file is not even opened; any difference means it is hashed as before; ``--checksum``
hashes every file. Files are counted as opened by the pipeline's ``open`` (``--jobs 1``: the
planner's hashing and the processing both go through it).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

import pytest
from conftest import FIXTURES

import corpus.pipeline
from corpus.config import Config
from corpus.ingest import IngestOptions, run_ingest
from corpus.store import SCHEMA_VERSION, Store
from corpus.store import schema as schema_module

SEED = (FIXTURES / "articles" / "seed.txt").read_text(encoding="utf-8")
#: Sources are dated an hour back: a file modified within the last seconds is hashed anyway.
AN_HOUR = 3600 * 10**9


def make_corpus(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"a{i:03d}.txt"
        path.write_text(SEED + f"\n\nParagraph number {i}.", encoding="utf-8")
        backdate(path)
        paths.append(path)
    return paths


def backdate(path: Path, mtime_ns: int | None = None) -> None:
    when = mtime_ns if mtime_ns is not None else time.time_ns() - AN_HOUR
    os.utime(path, ns=(when, when))


@pytest.fixture
def opened(monkeypatch) -> list[str]:
    """Every source file the pipeline opens from now on."""
    seen: list[str] = []

    def counting_open(path, *args, **kwargs):
        seen.append(Path(path).name)
        return open(path, *args, **kwargs)

    monkeypatch.setattr(corpus.pipeline, "open", counting_open, raising=False)
    return seen


def ingest(plugins, src: Path, tmp_path: Path, **kwargs):
    options = IngestOptions(
        sources=(str(src),),
        output=str(tmp_path / "out"),
        store=str(tmp_path / "c.db"),
        **kwargs,
    )
    return run_ingest(options, plugins=plugins, config=Config())


def test_an_unchanged_file_is_not_read_and_a_touched_one_is_hashed_once(plugins, tmp_path, opened):
    src = tmp_path / "src"
    paths = make_corpus(src, 5)
    first = ingest(plugins, src, tmp_path)
    assert first.store_counts["new"] == 5
    opened.clear()
    again = ingest(plugins, src, tmp_path)
    assert again.store_counts["unchanged"] == 5
    assert opened == []  # not one file read: size, mtime and inode were enough
    assert again.totals_dict()["ok"] == first.totals_dict()["ok"]
    # Touched (a new mtime), same bytes: hashed, still unchanged, its new time recorded.
    backdate(paths[2], time.time_ns() - AN_HOUR // 2)
    touched = ingest(plugins, src, tmp_path)
    assert touched.store_counts["unchanged"] == 5 and touched.store_counts["changed"] == 0
    assert opened == ["a002.txt"]
    opened.clear()
    ingest(plugins, src, tmp_path)
    assert opened == []


def test_unchanged_files_report_the_same_entries_as_when_hashed(plugins, tmp_path):
    src = tmp_path / "src"
    make_corpus(src, 4)
    (src / "empty.txt").write_bytes(b"")  # rejected: never skipped, always reported
    backdate(src / "empty.txt")
    ingest(plugins, src, tmp_path)
    by_stat = ingest(plugins, src, tmp_path)
    hashed = ingest(plugins, src, tmp_path, checksum=True)
    assert by_stat.files == hashed.files
    assert by_stat.store_counts == hashed.store_counts


def test_an_edited_file_of_another_size_is_a_new_version(plugins, tmp_path, opened):
    src = tmp_path / "src"
    paths = make_corpus(src, 3)
    ingest(plugins, src, tmp_path)
    paths[1].write_text(SEED + "\n\nA longer paragraph, written later.", encoding="utf-8")
    backdate(paths[1])  # even with the old time: the size differs
    opened.clear()
    report = ingest(plugins, src, tmp_path)
    assert report.store_counts["changed"] == 1
    assert report.store_counts["unchanged"] == 2
    assert "a001.txt" in opened and "a000.txt" not in opened
    with Store.open(tmp_path / "c.db", create=False) as store:
        assert len(store.versions("a001")) == 2


def test_same_size_and_time_is_the_blind_spot_that_checksum_covers(plugins, tmp_path):
    src = tmp_path / "src"
    paths = make_corpus(src, 3)
    ingest(plugins, src, tmp_path)
    before = paths[0].stat()
    text = paths[0].read_text(encoding="utf-8")
    edited = text.replace("Paragraph number 0.", "Paragraph NUMBER 0.")
    assert len(edited) == len(text) and edited != text
    with open(paths[0], "r+", encoding="utf-8") as fh:  # in place: the inode stays
        fh.write(edited)
    backdate(paths[0], before.st_mtime_ns)
    assert paths[0].stat().st_ino == before.st_ino
    trusted = ingest(plugins, src, tmp_path)
    assert trusted.store_counts["changed"] == 0  # size, time and inode alone cannot tell
    checked = ingest(plugins, src, tmp_path, checksum=True)
    assert checked.store_counts["changed"] == 1
    with Store.open(tmp_path / "c.db", create=False) as store:
        assert "NUMBER" in store.version("a000").document.body_text


def test_a_replaced_file_with_the_same_size_and_time_is_hashed(plugins, tmp_path, opened):
    """A new inode (an editor's save-and-rename, a restore) is a difference too."""
    src = tmp_path / "src"
    paths = make_corpus(src, 2)
    ingest(plugins, src, tmp_path)
    before = paths[1].stat()
    text = paths[1].read_text(encoding="utf-8")
    spare = src / "spare.tmp"
    spare.write_text(text.replace("Paragraph number 1.", "Paragraph numbeR 1."), "utf-8")
    os.replace(spare, paths[1])
    backdate(paths[1], before.st_mtime_ns)
    opened.clear()
    report = ingest(plugins, src, tmp_path)
    assert report.store_counts["changed"] == 1
    assert opened.count("a001.txt") == 1 and "a000.txt" not in opened


def test_a_file_modified_moments_ago_is_hashed_next_time(plugins, tmp_path, opened):
    """Its time may not change on a second write within the same tick: nothing is trusted."""
    src = tmp_path / "src"
    make_corpus(src, 2)
    (src / "fresh.txt").write_text(SEED, encoding="utf-8")  # modified now
    ingest(plugins, src, tmp_path)
    opened.clear()
    report = ingest(plugins, src, tmp_path)
    assert report.store_counts["unchanged"] == 3
    assert opened == ["fresh.txt"]


def test_a_changed_pipeline_or_missing_outputs_still_reprocess(plugins, tmp_path):
    src = tmp_path / "src"
    make_corpus(src, 3)
    ingest(plugins, src, tmp_path)
    (tmp_path / "out" / "a002.xml").unlink()
    report = ingest(plugins, src, tmp_path)
    assert (tmp_path / "out" / "a002.xml").is_file()
    assert report.totals_dict()["outputs"] == 2  # a002's two outputs, written again
    only_json = ingest(plugins, src, tmp_path, formats=("json",))
    assert only_json.pipeline["reprocessed"] == 3


def test_a_store_from_before_the_step_is_migrated_and_hashed_once(plugins, tmp_path, opened):
    db = tmp_path / "c.db"
    conn = sqlite3.connect(db, isolation_level=None)
    schema_module.migrate(conn, str(db), target=8)  # before the step that added them
    columns = {row[1] for row in conn.execute("PRAGMA table_info(sources)")}
    conn.close()
    assert "file_mtime_ns" not in columns
    src = tmp_path / "src"
    make_corpus(src, 3)
    ingest(plugins, src, tmp_path)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    rows = conn.execute("SELECT file_size, file_mtime_ns, file_inode FROM sources").fetchall()
    assert len(rows) == 3 and all(None not in row for row in rows)
    # Sources recorded before the step have no size or time: hashed once, then trusted.
    conn.execute("UPDATE sources SET file_size = NULL, file_mtime_ns = NULL, file_inode = NULL")
    conn.commit()
    conn.close()
    opened.clear()
    assert ingest(plugins, src, tmp_path).store_counts["unchanged"] == 3
    assert sorted(opened) == ["a000.txt", "a001.txt", "a002.txt"]
    opened.clear()
    assert ingest(plugins, src, tmp_path).store_counts["unchanged"] == 3
    assert opened == []


def test_cli_checksum_option(run_cli, tmp_path):
    src = tmp_path / "src"
    paths = make_corpus(src, 2)
    args = ("ingest", src, "-o", tmp_path / "out", "--store", tmp_path / "c.db", "--json")
    assert run_cli(*args).exit_code == 0
    before = paths[0].stat()
    text = paths[0].read_text(encoding="utf-8")
    with open(paths[0], "r+", encoding="utf-8") as fh:
        fh.write(text.replace("Paragraph number 0.", "Paragraph numbeR 0."))
    backdate(paths[0], before.st_mtime_ns)
    trusted = run_cli(*args)
    assert json.loads(trusted.output)["totals"]["store"]["changed"] == 0
    checked = run_cli(*args, "--checksum")
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.output)["totals"]["store"]["changed"] == 1
    assert "--checksum" in run_cli("ingest", "--help").output


@pytest.mark.parametrize("checksum", [False, True])
def test_a_file_the_store_never_recorded_is_not_read_to_check_it(
    plugins, tmp_path, opened, checksum
):
    """With worker processes, a new file is read once, by the worker that processes it; the
    planner reads (to hash) only files the store has recorded whose stat changed."""
    src = tmp_path / "src"
    paths = make_corpus(src, 4)
    ingest(plugins, src, tmp_path, jobs=2)
    paths[1].write_text(SEED + "\n\nAn edited paragraph.", encoding="utf-8")
    backdate(paths[1], time.time_ns() - AN_HOUR // 2)
    (src / "zz-new.txt").write_text(SEED + "\n\nA new article.", encoding="utf-8")
    backdate(src / "zz-new.txt")
    opened.clear()
    again = ingest(plugins, src, tmp_path, jobs=2, checksum=checksum)
    assert again.store_counts["changed"] == 1
    assert again.store_counts["new"] == 1
    # Forked workers count in their own process: what is seen here is the planner's reading.
    expected = [p.name for p in paths] if checksum else [paths[1].name]
    assert sorted(opened) == expected


def test_with_workers_a_new_files_stat_comes_from_the_worker_that_read_it(
    plugins, tmp_path, opened
):
    """The planner does not stat a file the store never recorded; the worker's own fstat is
    recorded, so the next run trusts it without reading it (here: nothing opened at all)."""
    src = tmp_path / "src"
    paths = make_corpus(src, 6)
    first = ingest(plugins, src, tmp_path, jobs=2)
    assert first.store_counts["new"] == 6
    assert opened == []  # read by the workers only (they count in their own processes)
    conn = sqlite3.connect(tmp_path / "c.db")
    rows = conn.execute("SELECT rel_path, file_size, file_mtime_ns, file_inode FROM sources")
    recorded = {rel: stat for rel, *stat in rows}
    conn.close()
    for path in paths:
        st = path.stat()
        assert recorded[path.name] == [st.st_size, st.st_mtime_ns, st.st_ino]
    again = ingest(plugins, src, tmp_path, jobs=2)
    assert again.store_counts["unchanged"] == 6
    assert opened == []


def test_a_file_written_just_now_gets_no_recorded_stat_from_a_worker(plugins, tmp_path):
    src = tmp_path / "src"
    make_corpus(src, 2)
    (src / "fresh.txt").write_text(SEED, encoding="utf-8")  # modified within the racy window
    ingest(plugins, src, tmp_path, jobs=2)
    conn = sqlite3.connect(tmp_path / "c.db")
    sizes = dict(conn.execute("SELECT rel_path, file_size FROM sources"))
    conn.close()
    assert sizes["fresh.txt"] is None
    assert sizes["a000.txt"] is not None


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_forced_run_records_each_files_stat_too(plugins, tmp_path, opened, jobs):
    src = tmp_path / "src"
    make_corpus(src, 3)
    ingest(plugins, src, tmp_path, jobs=jobs)
    forced = ingest(plugins, src, tmp_path, jobs=jobs, force=True)
    assert forced.store_counts["unchanged"] == 3
    conn = sqlite3.connect(tmp_path / "c.db")
    assert conn.execute("SELECT count(*) FROM sources WHERE file_size IS NULL").fetchone() == (0,)
    conn.close()
    opened.clear()
    again = ingest(plugins, src, tmp_path, jobs=jobs)
    assert again.store_counts["unchanged"] == 3
    assert opened == []

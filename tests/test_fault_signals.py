"""Signals and dead parents, through the real console script: workers never outlive ingest,
SIGTERM stops a run the way Ctrl-C does, and a FIFO in the input never hangs it."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import FIXTURES

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and FIFOs")

SEED = (FIXTURES / "articles" / "seed.txt").read_text(encoding="utf-8")


def make_corpus(folder: Path, n: int) -> None:
    for i in range(n):
        sub = folder / f"b{i // 200}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"a{i:05d}.txt").write_text(SEED + f"\n\nParagraph number {i}.", encoding="utf-8")


def corpus_cmd(*args) -> list[str]:
    return [sys.executable, "-m", "corpus", *map(str, args)]


def wait_for_outputs(out: Path, proc: subprocess.Popen, minimum: int) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        if out.exists() and sum(1 for _ in out.rglob("*.json")) >= minimum:
            return
        if proc.poll() is not None:
            pytest.fail("ingest finished before it could be stopped; raise the corpus size")
        time.sleep(0.05)
    pytest.fail("no outputs appeared")


def children_of(pid: int) -> list[int]:
    """Live (not zombie) processes whose parent is ``pid``, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry))
    return found


def codes_of(entry: dict) -> list[str]:
    return [f["code"] for f in entry["findings"]]


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds workers through /proc")
def test_workers_die_within_two_seconds_of_a_killed_parent(tmp_path):
    src, out, db = tmp_path / "src", tmp_path / "out", tmp_path / "c.db"
    make_corpus(src, 3000)
    proc = subprocess.Popen(
        corpus_cmd("ingest", src, "-o", out, "--store", db, "--jobs", "2", "-q"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    wait_for_outputs(out, proc, 100)
    workers = children_of(proc.pid)
    assert len(workers) >= 2, workers
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and any(alive(w) for w in workers):
        time.sleep(0.05)
    survivors = [w for w in workers if alive(w)]
    for pid in survivors:  # do not leave them running when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not survivors, "workers outlived their killed parent"
    # ... so the store's writer lock is free: the next ingest runs at once and completes
    (tmp_path / "small").mkdir()
    (tmp_path / "small" / "a.txt").write_text(SEED, encoding="utf-8")
    again = subprocess.run(
        corpus_cmd("ingest", tmp_path / "small", "--store", db, "--jobs", "2", "-q"),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert again.returncode == 0, again.stderr
    assert "STORE_BUSY" not in again.stderr
    with sqlite3.connect(db) as conn:
        statuses = [s for (s,) in conn.execute("SELECT status FROM runs ORDER BY id")]
    assert statuses == ["abandoned", "finished"]


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_sigterm_is_handled_like_sigint_and_exits_143(tmp_path, jobs):
    src, out, db = tmp_path / "src", tmp_path / "out", tmp_path / "c.db"
    make_corpus(src, 3000)
    proc = subprocess.Popen(
        corpus_cmd("ingest", src, "-o", out, "--store", db, "--jobs", jobs),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    wait_for_outputs(out, proc, 20)
    workers = children_of(proc.pid) if Path("/proc/self/stat").exists() else []
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
    assert b"interrupted" in stdout
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["run"]["interrupted"] is True
    assert report["run"]["signal"] == "SIGTERM"
    t = report["totals"]
    assert 0 < t["files"] < 3000 and t["files"] == len(report["files"])
    assert not list(out.rglob(".corpus-tmp-*"))
    with sqlite3.connect(db) as conn:
        (status, removed) = conn.execute("SELECT status, n_removed FROM runs").fetchone()
    assert (status, removed) == ("interrupted", 0)
    assert not [w for w in workers if alive(w)]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_fifo_in_the_input_is_rejected_without_being_opened(tmp_path, jobs):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text(SEED, encoding="utf-8")
    os.mkfifo(src / "pipe.txt")
    os.symlink(src / "pipe.txt", src / "link.txt")  # also behind a symbolic link
    os.symlink(os.devnull, src / "device.txt")  # a character device
    # Nobody ever writes to the FIFO: opening it for reading would block forever.
    proc = subprocess.run(
        corpus_cmd("ingest", src, "-o", tmp_path / "out", "--no-store", "--jobs", jobs),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    by_path = {e["path"]: e for e in report["files"]}
    for name in ("pipe.txt", "link.txt"):
        assert by_path[name]["status"] == "rejected"
        assert [f["code"] for f in by_path[name]["findings"]] == ["NOT_A_REGULAR_FILE"]
        assert "FIFO" in by_path[name]["findings"][0]["message"]
    assert codes_of(by_path["device.txt"]) == ["NOT_A_REGULAR_FILE"]
    assert "character device" in by_path["device.txt"]["findings"][0]["message"]
    assert by_path["a.txt"]["status"] in ("ok", "warning")


def test_a_fifo_given_directly_is_rejected(tmp_path):
    os.mkfifo(tmp_path / "pipe.txt")
    proc = subprocess.run(
        corpus_cmd("validate", tmp_path / "pipe.txt"),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "NOT_A_REGULAR_FILE" in proc.stdout + proc.stderr


def test_a_fifo_swapped_in_after_the_listing_is_not_blocked_on(tmp_path):
    from corpus.errors import InputRejected
    from corpus.pipeline import read_file_bytes

    os.mkfifo(tmp_path / "late.txt")
    with pytest.raises(InputRejected) as raised:
        read_file_bytes(tmp_path / "late.txt", "late.txt", 1000)
    assert raised.value.code == "NOT_A_REGULAR_FILE"


def test_a_socket_swapped_in_after_the_listing_is_not_a_regular_file(tmp_path):
    """Opening a socket fails with ENXIO: still NOT_A_REGULAR_FILE, as in the listing."""
    import socket

    from corpus.errors import InputRejected
    from corpus.pipeline import read_file_bytes

    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "late.txt"))
        with pytest.raises(InputRejected) as raised:
            read_file_bytes(tmp_path / "late.txt", "late.txt", 1000)
    assert raised.value.code == "NOT_A_REGULAR_FILE"


def test_diff_of_a_fifo_says_it_is_not_a_regular_file(tmp_path):
    """A FIFO named on the command line is a file argument, not a store key to look up."""
    os.mkfifo(tmp_path / "pipe.txt")
    (tmp_path / "a.txt").write_text(SEED, encoding="utf-8")
    proc = subprocess.run(
        corpus_cmd("diff", tmp_path / "pipe.txt", tmp_path / "a.txt"),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "NOT_A_REGULAR_FILE" in proc.stderr and "STORE_MISSING" not in proc.stderr


POOL_OWNER = """
import sys, time
import corpus.workers as workers

workers.USE_PDEATHSIG = sys.argv[1] == "1"


def nap(batch):
    time.sleep(600)
    return batch


def init():
    pass


if __name__ == "__main__":
    ctx, _ = workers.default_context()
    pool = workers.WorkerPool(ctx, 2, nap, init, ())
    pool.submit([1])
    pool.submit([2])
    print("ready", flush=True)
    time.sleep(600)
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds workers through /proc")
@pytest.mark.parametrize("pdeathsig", ["1", "0"], ids=["pdeathsig", "lifeline-only"])
def test_busy_workers_die_with_their_pool_owner(tmp_path, pdeathsig):
    script = tmp_path / "owner.py"
    script.write_text(POOL_OWNER, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, str(script), pdeathsig], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "ready"
    workers = children_of(proc.pid)
    assert len(workers) == 2 and all(alive(w) for w in workers)
    proc.kill()
    proc.wait(timeout=30)
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and any(alive(w) for w in workers):
        time.sleep(0.05)
    survivors = [w for w in workers if alive(w)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert not survivors, "busy workers outlived the process that owned the pool"

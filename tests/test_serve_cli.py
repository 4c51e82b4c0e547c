"""``corpus serve`` as users run it: start-up errors, a real server on loopback, Ctrl-C."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("datasette")

from webstore import DUMA, build_store, start_server  # noqa: E402


def test_serve_help(run_cli) -> None:
    result = run_cli("serve", "--help")
    assert result.exit_code == 0
    for option in ("--store", "--host", "--port", "--open", "127.0.0.1", "8001"):
        assert option in result.output


def test_a_missing_store_exits_2_before_listening(run_cli, tmp_path: Path) -> None:
    result = run_cli("serve", "--store", str(tmp_path / "none.db"), "--port", "0")
    assert result.exit_code == 2
    assert "STORE_MISSING" in result.output
    assert not (tmp_path / "none.db").exists()


def test_a_corrupt_store_exits_2(run_cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"\x00garbage, not SQLite" * 200)
    result = run_cli("serve", "--store", str(bad), "--port", "0")
    assert result.exit_code == 2
    assert "STORE_CORRUPT" in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_serve_prints_the_url_serves_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    store = build_store(tmp_path / "news.db")
    with sqlite3.connect(store) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = hashlib.sha256(store.read_bytes()).hexdigest(), os.stat(store).st_mtime_ns
    proc, url = start_server(store)
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200
            assert "script-src 'self'" in response.headers["Content-Security-Policy"]
            assert "The corpus at a glance" in response.read().decode()
        with urllib.request.urlopen(url + "doc/" + DUMA + "/diff", timeout=30) as response:
            assert response.status == 200
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert code == 0, proc.stderr.read()
    assert (hashlib.sha256(store.read_bytes()).hexdigest(), os.stat(store).st_mtime_ns) == before


@pytest.mark.slow
def test_datasette_finds_the_corpus_pages_through_its_entry_point(tmp_path: Path) -> None:
    """``datasette corpus.db``: Datasette's own loading (entry point), no help from corpus."""
    store = build_store(tmp_path / "news.db")
    script = (
        "import asyncio, sys\n"
        "from datasette.app import Datasette\n"
        "from datasette.plugins import pm\n"
        "import corpus.web\n"
        "assert any(p is corpus.web for p in pm.get_plugins()), 'not loaded by entry point'\n"
        "ds = Datasette([sys.argv[1]])\n"
        "r = asyncio.run(ds.client.get('/'))\n"
        "print(r.status_code, 'The corpus at a glance' in r.text)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(store)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["200", "True"]


@pytest.mark.slow
def test_open_hands_the_url_to_the_browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = build_store(tmp_path / "news.db")
    marker = tmp_path / "opened.txt"
    fake_browser = tmp_path / "browser.py"
    fake_browser.write_text(f"import sys\nopen({str(marker)!r}, 'w').write(sys.argv[1])\n")
    monkeypatch.setenv("BROWSER", f"{sys.executable} {fake_browser} %s")
    proc, url = start_server(store, "--open")
    try:
        deadline = time.monotonic() + 30
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert marker.read_text() == url


@pytest.mark.slow
def test_the_server_answers_while_an_ingest_writes(tmp_path: Path) -> None:
    from corpus.model import Block, Document
    from corpus.pipeline import FileResult
    from corpus.store import Store

    store_path = build_store(tmp_path / "news.db")
    proc, url = start_server(store_path)
    try:
        with Store.open(store_path) as store:
            run = store.begin_run(roots=["articles"], arguments=["again"])
            late = Document(key="late/news", title="Late news", blocks=[Block("Breaking.")])
            run.record("articles", FileResult("late/news.txt", "ok", (), late))
            # The ingest holds the writer lock and an open transaction.
            with urllib.request.urlopen(url + "doc/" + DUMA, timeout=30) as response:
                assert response.status == 200
            run.finish()
        with urllib.request.urlopen(url + "doc/late/news", timeout=30) as response:
            assert response.status == 200 and "Late news" in response.read().decode()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert proc.returncode == 0


@pytest.mark.slow
def test_a_port_in_use_exits_2_with_a_message(tmp_path: Path) -> None:
    """Uvicorn exits 3 on its own when it cannot bind; serve says so and exits 2, as documented."""
    import socket

    store = build_store(tmp_path / "news.db")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run(
            [sys.executable, "-m", "corpus", "serve", "--store", str(store), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert out.returncode == 2, (out.returncode, out.stderr)
    assert f"corpus: error: cannot listen on 127.0.0.1:{port}" in out.stderr
    assert "Traceback" not in out.stderr

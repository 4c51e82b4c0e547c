"""A damaged store is STORE_CORRUPT with what to do, never a traceback; `corpus store check`
says whether the store is intact and which documents damage touches."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import FIXTURES

from corpus.errors import NotFound, StoreError
from corpus.store import Store

SEED = (FIXTURES / "articles" / "seed.txt").read_text(encoding="utf-8")
PAGE = 4096


@pytest.fixture
def store_db(tmp_path: Path, run_cli) -> Path:
    """A store of 60 documents with sizeable, incompressible bodies (many pages)."""
    import random

    rng = random.Random(16)
    src = tmp_path / "src"
    src.mkdir()
    for i in range(60):
        noise = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(3000))
        (src / f"a{i:02d}.txt").write_text(f"{SEED}\n\nPara {i} {noise}", encoding="utf-8")
    db = tmp_path / "c.db"
    assert run_cli("ingest", src, "--store", db, "-q").exit_code == 0
    return db


def corrupt_pages(db: Path, first: int, last: int) -> None:
    with open(db, "r+b") as fh:
        for page in range(first, last):
            fh.seek(page * PAGE + 100)
            fh.write(b"\xde\xad\xbe\xef" * 200)


def coded_failure(result, code: str) -> None:
    assert result.exit_code == 2, result.output
    assert f"{code}:" in result.output
    assert "Traceback" not in result.output


def test_store_check_on_an_intact_store(run_cli, store_db):
    result = run_cli("store", "check", "--store", store_db)
    assert result.exit_code == 0, result.output
    assert "ok (60 documents read back)" in result.output


def test_corrupt_pages_are_store_corrupt_and_check_names_the_documents(run_cli, store_db):
    pages = store_db.stat().st_size // PAGE
    corrupt_pages(store_db, pages // 3, 2 * pages // 3)
    outcomes = []
    for args in (("ls",), ("export", "-t", "json", "-o", store_db.parent / "exp"), ("stats",)):
        result = run_cli(*args, "--store", store_db)
        assert "Traceback" not in result.output
        outcomes.append(result.exit_code)
        if result.exit_code != 0:
            coded_failure(result, "STORE_CORRUPT")
            assert "corpus store check" in result.output
    assert 2 in outcomes  # the damage is met by at least one reader
    for i in range(60):
        result = run_cli("show", "--store", store_db, f"a{i:02d}")
        assert result.exit_code in (0, 2)
        if result.exit_code:
            coded_failure(result, "STORE_CORRUPT")
    result = run_cli("store", "check", "--store", store_db, "--json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["ok"] is False and report["integrity"] != ["ok"]
    damaged = {d["key"] for d in report["damaged"]}
    # named by key, or by record number where the key itself is on a damaged page
    known = {f"a{i:02d}" for i in range(60)} | {f"#{i}" for i in range(1, 61)}
    assert damaged and damaged <= known
    text = run_cli("store", "check", "--store", store_db)
    assert "DAMAGED" in text.output and "documents affected" in text.output


@pytest.mark.parametrize("version", [-3, 2])
def test_invalid_user_version_is_store_corrupt(run_cli, store_db, version):
    with sqlite3.connect(store_db) as conn:
        conn.execute(f"PRAGMA user_version = {version}")  # 2: tables of a newer schema
    coded_failure(run_cli("ls", "--store", store_db), "STORE_CORRUPT")
    with pytest.raises(StoreError) as raised:
        Store.open(store_db, create=False)
    assert raised.value.code == "STORE_CORRUPT"


def test_a_missing_table_is_store_corrupt_and_check_names_it(run_cli, store_db):
    with sqlite3.connect(store_db) as conn:
        conn.execute("DROP TABLE file_log")
    coded_failure(run_cli("ls", "--store", store_db), "STORE_CORRUPT")
    coded_failure(run_cli("ingest", FIXTURES / "articles", "--store", store_db), "STORE_CORRUPT")
    result = run_cli("store", "check", "--store", store_db)
    assert result.exit_code == 1 and "missing table: file_log" in result.output


def test_an_unreadable_version_record_is_store_corrupt_naming_it(run_cli, store_db):
    with sqlite3.connect(store_db) as conn:
        conn.execute(
            "UPDATE versions SET document = '{\"title\": [' WHERE doc_id = "
            "(SELECT id FROM documents WHERE key = 'a07')"
        )
        conn.execute(
            "UPDATE versions SET findings = 'not json' WHERE doc_id = "
            "(SELECT id FROM documents WHERE key = 'a08')"
        )
    result = run_cli("show", "--store", store_db, "a07")
    coded_failure(result, "STORE_CORRUPT")
    assert "a07@1" in result.output
    coded_failure(run_cli("log", "--store", store_db, "a08"), "STORE_CORRUPT")
    assert run_cli("show", "--store", store_db, "a09").exit_code == 0
    coded_failure(
        run_cli("export", "--store", store_db, "-t", "json", "-o", store_db.parent / "e"),
        "STORE_CORRUPT",
    )
    result = run_cli("store", "check", "--store", store_db, "--json")
    assert result.exit_code == 1
    damaged = sorted((d["key"], d["version"]) for d in json.loads(result.output)["damaged"])
    assert damaged == [("a07", 1), ("a08", 1)]


@pytest.mark.parametrize("number", ["99999999999999999999999", "9" * 5000, "0"])
def test_a_version_number_too_large_for_sqlite_is_not_found(run_cli, store_db, number):
    result = run_cli("show", "--store", store_db, f"a01@{number}")
    coded_failure(result, "NOT_FOUND")
    assert str(2**63) not in result.output  # no made-up number the user never typed
    with Store.open(store_db, create=False) as store, pytest.raises(NotFound):
        store.load(f"a01@{number}")


@pytest.mark.parametrize("command", [["search", "para"], ["runs"]])
def test_a_limit_too_large_for_sqlite_means_no_limit(run_cli, store_db, command):
    result = run_cli(*command, "--store", store_db, "--limit", "9" * 30, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)


def test_a_limit_below_one_is_still_a_usage_error(run_cli, store_db):
    assert run_cli("search", "para", "--store", store_db, "--limit", "0").exit_code == 2


def test_search_meeting_an_unreadable_version_record_is_store_corrupt(run_cli, store_db):
    with sqlite3.connect(store_db) as conn:
        conn.execute(
            "UPDATE versions SET document = x'00ff00' WHERE doc_id = "
            "(SELECT id FROM documents WHERE key = 'a07')"
        )
    result = run_cli("search", "--store", store_db, "--limit", "100", "para")
    coded_failure(result, "STORE_CORRUPT")
    assert "a07@1" in result.output

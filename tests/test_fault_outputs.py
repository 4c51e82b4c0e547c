"""Output folders that cannot be written, a report that cannot be written, names from the
input that would reach the run's own files, and the accounting of every file seen."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
from pathlib import Path

import pytest
from conftest import FIXTURES

import corpus.report
from corpus import hookimpl
from corpus.config import Config
from corpus.ingest import IngestOptions, run_ingest

SEED = (FIXTURES / "articles" / "seed.txt").read_text(encoding="utf-8")


def write(path: Path, extra: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SEED + extra, encoding="utf-8")
    return path


def coded_failure(result, code: str) -> None:
    assert result.exit_code == 2, result.output
    assert f"{code}:" in result.output and "Traceback" not in result.output


def entries(out: Path) -> dict[str, dict]:
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return {e["path"]: e for e in report["files"]}


def codes(entry: dict) -> list[str]:
    return [f["code"] for f in entry["findings"]]


# -- output folders and the report ----------------------------------------------------------


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs a folder nobody can write")
@pytest.mark.parametrize("out", ["/proc/self/corpus-out", "/proc/self"])
def test_an_output_folder_that_cannot_be_created_or_written_is_a_coded_error(
    run_cli, tmp_path, out
):
    write(tmp_path / "src" / "a.txt")
    db = tmp_path / "c.db"
    result = run_cli("ingest", tmp_path / "src", "-o", out, "--store", db)
    coded_failure(result, "OUTPUT_UNWRITABLE")
    assert not db.exists()  # refused before the store was touched


def test_an_output_folder_under_a_file_is_a_coded_error(run_cli, tmp_path):
    write(tmp_path / "src" / "a.txt")
    (tmp_path / "plain").write_text("a file, not a folder")
    result = run_cli("ingest", tmp_path / "src", "-o", tmp_path / "plain" / "out", "--no-store")
    coded_failure(result, "OUTPUT_UNWRITABLE")


def full_disk_under(monkeypatch, folder: Path) -> None:
    real_write = corpus.report.IngestReport.write

    def write_report(self, path):
        if str(path).startswith(str(folder)):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(self, path)

    monkeypatch.setattr(corpus.report.IngestReport, "write", write_report)


def test_a_report_that_cannot_be_written_goes_next_to_the_store(run_cli, tmp_path, monkeypatch):
    write(tmp_path / "src" / "a.txt")
    out, db = tmp_path / "out", tmp_path / "db" / "c.db"
    db.parent.mkdir()
    full_disk_under(monkeypatch, out)
    result = run_cli("ingest", tmp_path / "src", "-o", out, "--store", db)
    assert result.exit_code == 0, result.output
    assert "REPORT_UNWRITABLE" in result.output and "No space left" in result.output
    (fallback,) = db.parent.glob("c.db.report-*.json")
    assert str(fallback) in result.output
    report = json.loads(fallback.read_text(encoding="utf-8"))
    assert report["totals"]["files"] == 1 and report["totals"]["store"]["new"] == 1


def test_without_a_store_the_report_goes_to_stderr(run_cli, tmp_path, monkeypatch):
    write(tmp_path / "src" / "a.txt")
    out = tmp_path / "out"
    full_disk_under(monkeypatch, out)
    result = run_cli("ingest", tmp_path / "src", "-o", out, "--no-store")
    assert result.exit_code == 0, result.output
    assert "REPORT_UNWRITABLE" in result.output and "standard error" in result.output
    assert '"path": "a.txt"' in result.output and not (out / "report.json").exists()


# -- names from the input against the run's own files ----------------------------------------


def test_an_input_named_report_cannot_overwrite_the_run_report(run_cli, tmp_path):
    write(tmp_path / "src" / "report.txt")
    write(tmp_path / "src" / "other.txt")
    out = tmp_path / "out"
    result = run_cli("ingest", tmp_path / "src", "-o", out, "--no-store")
    assert result.exit_code == 1
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert "run" in report and "totals" in report  # the run's report, not the article
    entry = {e["path"]: e for e in report["files"]}["report.txt"]
    assert entry["status"] == "rejected" and codes(entry) == ["RESERVED_NAME"]
    assert not (out / "report.xml").exists()  # all of a document's outputs, or none
    assert (out / "other.json").is_file()
    # In a subfolder the name is free.
    write(tmp_path / "src2" / "sub" / "report.txt")
    assert run_cli("ingest", tmp_path / "src2", "-o", tmp_path / "o2", "--no-store").exit_code == 0
    assert (tmp_path / "o2" / "sub" / "report.json").is_file()


@pytest.mark.parametrize("key", [".corpus-tmp-999999-7", "x/.corpus-tmp-1-2", ".corpus-x"])
def test_keys_like_the_runs_temporary_files_are_refused(plugins, tmp_path, key):
    class Keys:
        @hookimpl
        def document_key(self, document, path):
            return key if path == "a.txt" else None

    plugins.register(Keys(), name="keys")
    write(tmp_path / "src" / "a.txt")
    write(tmp_path / "src" / "b.txt")
    out = tmp_path / "out"
    options = IngestOptions(sources=(str(tmp_path / "src"),), output=str(out))
    run_ingest(options, plugins=plugins, config=Config()).cleanup()
    by_path = entries(out)
    assert codes(by_path["a.txt"]) == ["RESERVED_NAME"]
    assert by_path["b.txt"]["status"] in ("ok", "warning")
    assert not [p for p in out.rglob(".corpus-*")]
    # ... so the next run's sweep of stale temporary files has nothing of the input's to take.
    run_ingest(options, plugins=plugins, config=Config()).cleanup()
    assert (out / "b.json").is_file()


def test_a_symbolic_link_inside_the_output_folder_cannot_lead_outside(run_cli, tmp_path):
    write(tmp_path / "src" / "sub" / "a.txt")
    write(tmp_path / "src" / "b.txt")
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    os.symlink(elsewhere, out / "sub")
    result = run_cli("ingest", tmp_path / "src", "-o", out, "--no-store")
    assert result.exit_code == 1
    assert codes(entries(out)["sub/a.txt"]) == ["OUTPUT_OUTSIDE"]
    assert list(elsewhere.iterdir()) == []
    assert (out / "b.xml").is_file()


def test_a_name_too_long_for_the_file_system_writes_no_output(run_cli, tmp_path):
    stem = "n" * 251  # a.txt fits (255 bytes), its .xml fits (255), its .json does not (256)
    write(tmp_path / "src" / f"{stem}.txt")
    out = tmp_path / "out"
    result = run_cli("ingest", tmp_path / "src", "-o", out, "--no-store")
    assert result.exit_code == 1
    assert "0 outputs written" in result.output
    assert codes(entries(out)[f"{stem}.txt"]) == ["NAME_TOO_LONG"]
    assert sorted(p.name for p in out.iterdir()) == ["report.json"]


# -- accounting --------------------------------------------------------------------------------


def test_hidden_files_and_folders_are_in_the_report_as_skipped(run_cli, tmp_path):
    write(tmp_path / "src" / "a.txt")
    write(tmp_path / "src" / ".hidden.txt")
    write(tmp_path / "src" / ".git" / "HEAD.txt")
    write(tmp_path / "src" / "sub" / ".DS_Store")
    out = tmp_path / "out"
    result = run_cli("ingest", tmp_path / "src", "-o", out, "--store", tmp_path / "c.db")
    assert result.exit_code == 0, result.output
    assert "3 skipped" in result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    by_path = {e["path"]: e for e in report["files"]}
    for path in (".hidden.txt", ".git", "sub/.DS_Store"):
        assert by_path[path]["status"] == "skipped" and codes(by_path[path]) == ["HIDDEN"]
    assert ".git/HEAD.txt" not in by_path  # a hidden folder is one entry, never walked
    t = report["totals"]
    assert t["files"] == len(report["files"]) == 4
    assert t["ok"] + t["warning"] + t["rejected"] + t["skipped"] == t["files"]
    assert t["skipped"] == 3 and t["store"]["new"] == 1
    assert not (out / ".hidden.xml").exists()


@pytest.mark.skipif(os.name != "posix", reason="file names as bytes")
@pytest.mark.parametrize(
    "args",
    [
        ("--no-store",),
        ("--store", "{db}"),
        ("--store", "{db}", "--jobs", "2"),
        ("--no-store", "--jobs", "2"),
    ],
)
def test_names_differing_only_in_invalid_bytes_collide_the_same_way_in_every_mode(
    run_cli, tmp_path, args
):
    src = tmp_path / "src"
    src.mkdir()
    for raw, n in ((b"a\xfe.txt", 1), (b"a\xff.txt", 2)):
        with open(os.path.join(os.fsencode(src), raw), "wb") as fh:
            fh.write((SEED + f"\n\nVersion {n}.").encode("utf-8"))
    db = tmp_path / "c.db"
    out = tmp_path / "out"
    argv = [a.format(db=db) for a in args]
    for _ in range(2):  # a second run must say the same, not call the second file unchanged
        result = run_cli("ingest", src, "-o", out, *argv)
        assert result.exit_code == 1, result.output
        report = json.loads((out / "report.json").read_text(encoding="utf-8"))
        statuses = sorted((e["status"], tuple(codes(e))) for e in report["files"])
        assert statuses == [
            ("rejected", ("FILENAME_COLLISION",)),
            ("warning", ("FILENAME_NOT_UTF8",)),
        ]
    if "--store" in args:
        with sqlite3.connect(db) as conn:
            versions = conn.execute("SELECT count(*) FROM versions").fetchone()[0]
        assert versions == 1


def test_a_rename_failing_half_way_leaves_none_of_the_documents_outputs(
    plugins, tmp_path, monkeypatch
):
    import corpus.outputs

    write(tmp_path / "src" / "a.txt")
    real_replace = os.replace

    def second_fails(src, dst):
        if str(dst) == str(tmp_path / "out" / "a.json"):
            raise OSError(errno.EIO, "Input/output error")
        return real_replace(src, dst)

    monkeypatch.setattr(corpus.outputs.os, "replace", second_fails)
    out = tmp_path / "out"
    options = IngestOptions(
        sources=(str(tmp_path / "src"),), output=str(out), report_path=str(tmp_path / "r.json")
    )
    report = run_ingest(options, plugins=plugins, config=Config())
    assert report.totals_dict()["outputs"] == 0
    (entry,) = report.files
    assert codes(entry) == ["OUTPUT_UNWRITABLE"] and report.write_problem is None
    assert sorted(p.name for p in out.iterdir()) == []  # no .xml, no temporary file
    report.cleanup()


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_the_report_and_exported_files_get_the_same_mode_as_outputs(run_cli, tmp_path):
    """Files written through a temporary file follow the umask like every output (not 0600)."""
    import stat

    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text(SEED, encoding="utf-8")
    old = os.umask(0o022)
    try:
        db = tmp_path / "c.db"
        assert run_cli("ingest", src, "-o", tmp_path / "out", "--store", db, "-q").exit_code == 0
        exported = run_cli("export", "--to", "json", "-o", tmp_path / "exp", "--store", db)
        assert exported.exit_code == 0
    finally:
        os.umask(old)
    modes = {
        name: stat.S_IMODE(path.stat().st_mode)
        for name, path in [
            ("output", tmp_path / "out" / "a.json"),
            ("report", tmp_path / "out" / "report.json"),
            ("export", tmp_path / "exp" / "a.json"),
        ]
    }
    assert modes == {"output": 0o644, "report": 0o644, "export": 0o644}

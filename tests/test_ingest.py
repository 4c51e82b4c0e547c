"""corpus ingest / validate / convert / plugins through the CLI, in-process and as a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import FIXTURES
from lxml import etree

from corpus import hookimpl
from corpus.config import Config
from corpus.ingest import IngestOptions, run_ingest

ARTICLES = FIXTURES / "articles"
BAD = FIXTURES / "bad"


def article_files() -> list[Path]:
    return sorted(p for p in ARTICLES.rglob("*") if p.is_file() and not p.name.startswith("."))


def ingest(plugins, *sources, output=None, config=None, **kwargs):
    options = IngestOptions(
        sources=tuple(str(s) for s in sources),
        output=str(output) if output else None,
        formats=kwargs.pop("formats", ("nitf", "json") if output else ()),
        **kwargs,
    )
    return run_ingest(options, plugins=plugins, config=config or Config())


def test_cli_ingest_mirrors_tree_and_writes_report(run_cli, tmp_path, nitf_schema):
    out = tmp_path / "out"
    result = run_cli("ingest", ARTICLES, "-o", out, "--no-store")
    assert result.exit_code == 0, result.output
    files = article_files()
    summary = result.output.strip().splitlines()[-1]
    assert summary.startswith(f"{len(files)} files: ")
    assert "rejected" in summary
    for src in files:
        rel = src.relative_to(ARTICLES).with_suffix("")
        xml = out / rel.with_suffix(".xml")
        assert xml.is_file(), f"missing {xml}"
        nitf_schema.assertValid(etree.parse(str(xml)))
        data = json.loads((out / rel.with_suffix(".json")).read_text(encoding="utf-8"))
        assert data["key"] == rel.as_posix()
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    totals = report["totals"]
    assert totals["files"] == len(files) == len(report["files"])
    assert totals["ok"] + totals["warning"] + totals["rejected"] == totals["files"]
    assert totals["rejected"] == 0
    assert {e["path"] for e in report["files"]} == {
        p.relative_to(ARTICLES).as_posix() for p in files
    }
    assert not list(out.rglob(".corpus-tmp-*")), "temporary files left behind"


def test_ingest_never_writes_inside_a_source(run_cli, tmp_path):
    src = tmp_path / "src"
    shutil.copytree(ARTICLES, src)
    before = sorted(p for p in src.rglob("*"))
    result = run_cli("ingest", src, "-o", src / "out", "--no-store")
    assert result.exit_code == 2
    assert "inside source" in result.output
    assert sorted(p for p in src.rglob("*")) == before


def test_source_inside_output_is_refused(run_cli, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(ARTICLES, out / "in")
    result = run_cli("ingest", out / "in", "-o", out, "--no-store")
    assert result.exit_code == 2
    assert "inside output folder" in result.output


def test_jobs_2_gives_the_same_output_as_jobs_1(plugins, tmp_path):
    src = tmp_path / "src"
    shutil.copytree(ARTICLES, src / "good")
    shutil.copytree(BAD, src / "bad", ignore=shutil.ignore_patterns("expected.json"))
    one = ingest(plugins, src, output=tmp_path / "one", jobs=1)
    two = ingest(plugins, src, output=tmp_path / "two", jobs=2)
    assert one.files == two.files
    assert one.totals_dict() == two.totals_dict()
    names = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*.*"))
    assert names == sorted(p.relative_to(tmp_path / "two") for p in (tmp_path / "two").rglob("*.*"))
    for rel in names:
        if rel.name == "report.json":
            continue
        assert (tmp_path / "one" / rel).read_bytes() == (tmp_path / "two" / rel).read_bytes()


def test_spawned_workers_give_the_same_output(plugins, tmp_path, monkeypatch):
    """Where fork is missing (macOS, Windows) workers are spawned and load the plugin spec."""
    import multiprocessing

    import corpus.ingest

    one = ingest(plugins, ARTICLES, output=tmp_path / "one", jobs=1)
    spawn = multiprocessing.get_context("spawn")
    monkeypatch.setattr(corpus.ingest, "default_context", lambda: (spawn, False))
    two = ingest(plugins, ARTICLES, output=tmp_path / "two", jobs=2)
    assert one.files == two.files
    for path in sorted((tmp_path / "one").rglob("*.*")):
        rel = path.relative_to(tmp_path / "one")
        if rel.name != "report.json":
            assert path.read_bytes() == (tmp_path / "two" / rel).read_bytes(), rel


def test_store_with_workers_moves_batches_larger_than_a_pipe_buffer(plugins, tmp_path):
    """Files read by the parent travel with their bytes, and results carry whole documents."""
    import faulthandler

    src = tmp_path / "src"
    src.mkdir()
    for i in range(300):
        shutil.copy(ARTICLES / "seed.txt", src / f"a{i:03d}.txt")
    faulthandler.dump_traceback_later(120, exit=True)  # a deadlock is the bug this looks for
    try:
        report = ingest(plugins, src, output=tmp_path / "out", jobs=2, store=str(tmp_path / "c.db"))
    finally:
        faulthandler.cancel_dump_traceback_later()
    assert report.totals_dict()["ok"] == 300
    assert report.store_counts["new"] == 300


@pytest.mark.parametrize("jobs", [1, 2])
def test_with_a_store_each_file_is_read_once_and_outputs_match(
    plugins, tmp_path, monkeypatch, jobs
):
    import corpus.pipeline

    src = tmp_path / "src"
    shutil.copytree(ARTICLES, src)
    plain = ingest(plugins, src, output=tmp_path / "plain", jobs=jobs)
    opened: list[str] = []

    def counting_open(path, *args, **kwargs):
        opened.append(str(path))
        return open(path, *args, **kwargs)

    monkeypatch.setattr(corpus.pipeline, "open", counting_open, raising=False)
    stored = ingest(
        plugins, src, output=tmp_path / "stored", jobs=jobs, store=str(tmp_path / "c.db")
    )
    assert stored.files == plain.files
    files = sorted(str(p) for p in src.rglob("*") if p.is_file())
    # The store has never seen these files, so none is read to check it: each is read once,
    # where it is processed (here with one job; with two, in forked workers, which count in
    # their own process).
    assert sorted(opened) == (files if jobs == 1 else [])
    for rel in sorted(p.relative_to(tmp_path / "plain") for p in (tmp_path / "plain").rglob("*.*")):
        if rel.name != "report.json":
            assert (tmp_path / "plain" / rel).read_bytes() == (
                tmp_path / "stored" / rel
            ).read_bytes()


@pytest.mark.skipif(sys.platform == "win32", reason="kills with POSIX signals")
def test_a_worker_killed_by_one_file_costs_only_that_file(plugins, tmp_path):
    import faulthandler

    class Killer:
        @hookimpl
        def enrich(self, document):
            if document.key.endswith("doomed"):
                os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer would

    plugins.register(Killer(), name="killer")
    src = tmp_path / "src"
    src.mkdir()
    for i in range(150):
        shutil.copy(ARTICLES / "seed.txt", src / f"a{i:03d}.txt")
    shutil.copy(ARTICLES / "seed.txt", src / "a070doomed.txt")
    faulthandler.dump_traceback_later(120, exit=True)  # a hang is the bug this looks for
    try:
        report = ingest(plugins, src, output=tmp_path / "out", jobs=2)
    finally:
        faulthandler.cancel_dump_traceback_later()
    entries = {e["path"]: e for e in report.files}
    assert len(entries) == 151
    doomed = entries.pop("a070doomed.txt")
    assert doomed["status"] == "rejected"
    (finding,) = doomed["findings"]
    assert finding["code"] == "WORKER_DIED" and "killed by signal 9" in finding["message"]
    assert {e["status"] for e in entries.values()} == {"ok"}
    for name in entries:
        stem = name.removesuffix(".txt")
        assert (tmp_path / "out" / f"{stem}.xml").is_file()
        assert (tmp_path / "out" / f"{stem}.json").is_file()
    assert not (tmp_path / "out" / "a070doomed.xml").exists()
    assert not list((tmp_path / "out").glob(".corpus-tmp-*"))  # the dead worker's stages


def test_an_error_escaping_a_worker_batch_costs_only_its_file(plugins, tmp_path, monkeypatch):
    import corpus.ingest

    real = corpus.ingest._worker_batch

    def buggy(items):
        if any(item.rel == "seed.txt" for item in items):
            raise RuntimeError("a bug outside the per-file guard")
        return real(items)

    monkeypatch.setattr(corpus.ingest, "_worker_batch", buggy)  # forked workers inherit it
    report = ingest(plugins, ARTICLES, output=tmp_path / "out", jobs=2)
    entries = {e["path"]: e for e in report.files}
    seed = entries.pop("seed.txt")
    assert [f["code"] for f in seed["findings"]] == ["INTERNAL_ERROR"]
    assert "RuntimeError: a bug outside the per-file guard" in seed["findings"][0]["message"]
    assert all(e["status"] != "rejected" for e in entries.values())
    assert len(entries) == len(article_files()) - 1


def test_bad_inputs_are_all_accounted_for(plugins, tmp_path):
    expected = json.loads((BAD / "expected.json").read_text(encoding="utf-8"))
    src = tmp_path / "bad"
    shutil.copytree(BAD, src, ignore=shutil.ignore_patterns("expected.json"))
    # the reader's outcomes, without the stub-length check that tiny fixtures would trip
    config = Config(plugins={"validators": {"min_body_words": 1}})
    report = ingest(plugins, src, output=tmp_path / "out", config=config)
    entries = {e["path"]: e for e in report.files}
    assert set(entries) == {p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file()}
    # expected.json gives the reader's outcome; validators can add to it
    expected["mojibake.txt"] = {"status": "warning", "codes": ["MOJIBAKE"]}
    for name, want in expected.items():
        entry = entries[name]
        assert entry["status"] == want["status"], (name, entry)
        codes = {f["code"] for f in entry["findings"]}
        assert set(want["codes"]) <= codes, (name, codes)
        for finding in entry["findings"]:
            assert finding["message"]
            assert finding["severity"] in ("info", "warning", "error")
    t = report.totals_dict()
    assert t["ok"] + t["warning"] + t["rejected"] == t["files"] == len(entries)
    # rejected files produce no output; the others do
    out = tmp_path / "out"
    for name, entry in entries.items():
        stem = Path(name).with_suffix("")
        exists = (out / stem.with_suffix(".json")).exists()
        assert exists == (entry["status"] != "rejected"), name


@pytest.mark.parametrize(("fail_on", "code"), [("error", 1), ("warning", 1), ("never", 0)])
def test_fail_on_levels_with_rejections(run_cli, tmp_path, fail_on, code):
    result = run_cli("ingest", BAD, "-o", tmp_path / "o", "--no-store", "--fail-on", fail_on)
    assert result.exit_code == code, result.output


def test_fail_on_warning_for_warnings_only(run_cli, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "nodate.txt").write_text(
        "A headline with no date line\n\n" + "Body words here. " * 20, encoding="utf-8"
    )
    assert run_cli("ingest", src, "-o", tmp_path / "a", "--no-store").exit_code == 0
    result = run_cli("ingest", src, "-o", tmp_path / "b", "--no-store", "--fail-on", "warning")
    assert result.exit_code == 1
    assert "DATE_MISSING" in result.output


def test_json_report_on_stdout(run_cli, tmp_path):
    result = run_cli("ingest", ARTICLES / "seed.txt", "--no-store", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    (entry,) = report["files"]
    assert entry["path"] == "seed.txt"
    assert entry["key"] == "seed"
    assert len(entry["content_hash"]) == 64
    assert report["totals"]["files"] == 1


def test_output_collision_is_rejected_not_overwritten(plugins, tmp_path):
    class SameKey:
        @hookimpl
        def document_key(self):
            return "everything"

    plugins.register(SameKey(), name="same-key")
    src = tmp_path / "src"
    src.mkdir()
    for name in ("a.txt", "b.txt"):
        shutil.copy(ARTICLES / "seed.txt", src / name)
    report = ingest(plugins, src, output=tmp_path / "out")
    a, b = report.files
    assert a["status"] != "rejected"
    assert b["status"] == "rejected"
    (finding,) = [f for f in b["findings"] if f["code"] == "OUTPUT_COLLISION"]
    assert "everything" in finding["message"]


def _dead_pid() -> int:
    """The id of a process that has just exited (ids are not reused that fast)."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(child.stdout)


@pytest.mark.skipif(os.name != "posix", reason="stale temporary files are only swept on POSIX")
def test_temporary_files_of_a_killed_run_are_removed_by_the_next(plugins, tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    shutil.copy(ARTICLES / "seed.txt", src / "sub" / "seed.txt")
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    dead = _dead_pid()
    old = time.time() - 3600
    stale = [out / "sub" / f".corpus-tmp-{dead}-7", out / f".corpus-tmp-{dead}-abc123"]
    kept = [
        out / "sub" / f".corpus-tmp-{os.getpid()}-9",  # a live process: may still be writing
        out / "sub" / ".corpus-tmp-notapid",  # not a name corpus writes
        out / "untouched" / f".corpus-tmp-{dead}-1",  # a folder this run does not write to
    ]
    for path in stale + kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half a file")
        os.utime(path, (old, old))
    report = ingest(plugins, src, output=out, jobs=2)
    assert report.totals_dict()["ok"] == 1
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in kept)
    assert report.stale_temps_removed == 2
    assert "removed 2 stale temporary files" in report.summary_line()
    written = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert written["run"]["stale_temps_removed"] == 2


@pytest.mark.skipif(os.name != "posix", reason="stale temporary files are only swept on POSIX")
def test_a_killed_dask_runs_stage_folder_is_removed_by_any_next_run(plugins, tmp_path):
    """Shard stage folders (``.corpus-tmp-<pid>-shards``) of a driver that is gone go with the
    next ingest into the folder, with the local pool or in-process too."""
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(ARTICLES / "seed.txt", src / "seed.txt")
    out = tmp_path / "out"
    dead_stage = out / f".corpus-tmp-{_dead_pid()}-shards"
    live_stage = out / f".corpus-tmp-{os.getpid()}-shards"  # this process: still in use
    for stage in (dead_stage, live_stage):
        stage.mkdir(parents=True)
        for name in ("a-nitf", "a-json", "b-nitf"):
            (stage / name).write_bytes(b"staged")
    report = ingest(plugins, src, output=out, jobs=1)
    assert report.totals_dict()["ok"] == 1
    assert not dead_stage.exists()
    assert live_stage.is_dir() and len(list(live_stage.iterdir())) == 3
    assert report.stale_temps_removed == 3


@pytest.mark.skipif(os.name != "posix", reason="stale temporary files are only swept on POSIX")
def test_only_old_temporary_files_of_gone_processes_are_stale(tmp_path):
    from corpus.outputs import remove_stale_temps

    dead = _dead_pid()
    names = {
        f".corpus-tmp-{dead}-1": 100,  # gone, old: stale
        f".corpus-tmp-{dead}-2": 300,  # gone but newer than the cut-off: in flight elsewhere
        f".corpus-tmp-{os.getpid()}-3": 100,  # alive
        ".corpus-tmp-x-4": 100,  # no process id
        f"corpus-tmp-{dead}-5": 100,  # not ours
    }
    for name, seconds in names.items():
        (tmp_path / name).write_bytes(b"")
        os.utime(tmp_path / name, ns=(seconds * 10**9, seconds * 10**9))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / f".corpus-tmp-{dead}-6").write_bytes(b"")
    assert remove_stale_temps(str(tmp_path), before_ns=200 * 10**9) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*list(names)[1:], "sub"])
    assert (tmp_path / "sub" / f".corpus-tmp-{dead}-6").exists()
    assert remove_stale_temps(str(tmp_path / "missing"), before_ns=200 * 10**9) == 0


def test_symlink_loop_is_reported_and_the_run_goes_on(plugins, tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    shutil.copy(ARTICLES / "seed.txt", src / "sub" / "seed.txt")
    os.symlink(src, src / "sub" / "loop")
    os.symlink(src / "missing.txt", src / "dangling.txt")
    report = ingest(plugins, src, output=tmp_path / "out")
    entries = {e["path"]: e for e in report.files}
    assert entries["sub/loop"]["findings"][0]["code"] == "SYMLINK_LOOP"
    assert entries["dangling.txt"]["findings"][0]["code"] == "BROKEN_SYMLINK"
    assert entries["sub/seed.txt"]["status"] != "rejected"
    assert report.totals_dict()["files"] == 3


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_real_permissions(plugins, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "secret.txt").write_text(" date 2022-01-01 T\n\nBody.", encoding="utf-8")
    (src / "secret.txt").chmod(0)
    report = ingest(plugins, src)
    assert report.files[0]["findings"][0]["code"] == "FILE_UNREADABLE"


def test_unreadable_and_vanished_files(plugins, tmp_path, monkeypatch):
    import builtins

    src = tmp_path / "src"
    src.mkdir()
    for name in ("locked.txt", "gone.txt", "fine.txt"):
        shutil.copy(ARTICLES / "seed.txt", src / name)
    real_open = builtins.open

    def fake_open(path, *args, **kwargs):
        name = os.fspath(path)
        if name.endswith("locked.txt"):
            raise PermissionError(13, "Permission denied")
        if name.endswith("gone.txt"):
            raise FileNotFoundError(2, "No such file")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    report = ingest(plugins, src)
    codes = {e["path"]: [f["code"] for f in e["findings"]] for e in report.files}
    assert codes["locked.txt"] == ["FILE_UNREADABLE"]
    assert codes["gone.txt"] == ["FILE_VANISHED"]
    assert "FILE_UNREADABLE" not in codes["fine.txt"]


def test_file_name_that_is_not_utf8(plugins, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    raw = os.fsencode(str(src)) + b"/caf\xe9.txt"
    with open(raw, "wb") as fh:
        fh.write((ARTICLES / "seed.txt").read_bytes())
    report = ingest(plugins, src, output=tmp_path / "out")
    (entry,) = report.files
    assert entry["path"] == "caf\ufffd.txt"
    assert "FILENAME_NOT_UTF8" in [f["code"] for f in entry["findings"]]
    assert (tmp_path / "out" / "caf\ufffd.json").is_file()
    json.dumps(report.to_dict())  # the report stays valid JSON


def test_quarantine_copies_rejected_files_with_a_reason(run_cli, tmp_path):
    q = tmp_path / "q"
    result = run_cli("ingest", BAD, "-o", tmp_path / "o", "--no-store", "--quarantine", q)
    assert result.exit_code == 1
    report = json.loads((tmp_path / "o" / "report.json").read_text(encoding="utf-8"))
    rejected = [e for e in report["files"] if e["status"] == "rejected"]
    assert rejected
    for entry in rejected:
        copy = q / entry["path"]
        assert copy.read_bytes() == (BAD / entry["path"]).read_bytes()
        sidecar = json.loads(Path(str(copy) + ".rejected.json").read_text(encoding="utf-8"))
        assert sidecar["findings"] == entry["findings"]


def test_file_size_limit(run_cli, tmp_path):
    result = run_cli(
        "ingest", ARTICLES / "seed.txt", "--no-store", "--max-file-size", "100", "--json"
    )
    report = json.loads(result.output)
    assert report["files"][0]["findings"][0]["code"] == "FILE_TOO_LARGE"
    assert result.exit_code == 1


@pytest.mark.parametrize("limit", [None, 10_000, 50])
def test_a_file_that_grows_after_fstat_is_read_whole_and_judged_by_its_bytes(
    tmp_path, monkeypatch, limit
):
    import corpus.pipeline
    from corpus.errors import InputRejected
    from corpus.pipeline import read_file_bytes

    path = tmp_path / "a.txt"
    data = b"x" * 100
    path.write_bytes(data)
    real_fstat = os.fstat

    def stale_fstat(fd):  # the size seen before a writer appended 90 bytes
        result = real_fstat(fd)
        return os.stat_result((*result[:6], 10, *result[7:]))

    monkeypatch.setattr(corpus.pipeline.os, "fstat", stale_fstat)
    if limit is not None and limit < len(data):
        with pytest.raises(InputRejected) as rejected:
            read_file_bytes(path, "a.txt", limit)
        assert rejected.value.code == "FILE_TOO_LARGE" and str(limit + 1) in str(rejected.value)
    else:
        assert read_file_bytes(path, "a.txt", limit) == data


def test_validate_prints_findings_and_writes_nothing(run_cli, tmp_path):
    result = run_cli("validate", BAD)
    assert result.exit_code == 1
    assert "EMPTY_FILE" in result.output or "EMPTY" in result.output
    assert not (tmp_path / "corpus.db").exists()


def test_convert_to_nitf_and_json(run_cli, nitf_schema):
    result = run_cli("convert", ARTICLES / "seed.txt", "--to", "nitf")
    assert result.exit_code == 0
    nitf_schema.assertValid(etree.fromstring(result.stdout_bytes))
    result = run_cli("convert", ARTICLES / "seed.txt", "--to", "json")
    assert json.loads(result.stdout)["title"].startswith("The Russian flag")


def test_convert_unknown_format_is_a_usage_error(run_cli):
    result = run_cli("convert", ARTICLES / "seed.txt", "--to", "pdf")
    assert result.exit_code == 2
    assert "unknown format 'pdf'" in result.output
    assert "Traceback" not in result.output


def test_unknown_plugin_module_is_a_usage_error(run_cli):
    result = run_cli("--plugin", "no_such_plugin_mod", "plugins")
    assert result.exit_code == 2
    assert "no_such_plugin_mod" in result.output


def test_plugins_json_lists_builtins_with_hooks(run_cli):
    result = run_cli("plugins", "--json")
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert rows["article"]["origin"] == "built-in"
    assert "register_readers" in rows["article"]["hooks"]
    assert rows["validators"]["hooks"] == ["register_settings", "validate"]


def test_no_progress_bar_when_piped(run_cli, tmp_path):
    result = run_cli("ingest", ARTICLES, "-o", tmp_path / "o", "--no-store")
    assert "ingesting" not in result.output


def test_quiet_prints_no_summary(run_cli, tmp_path):
    result = run_cli("ingest", ARTICLES, "-o", tmp_path / "o", "--no-store", "-q")
    assert result.exit_code == 0
    assert "files:" not in result.output


# -- real subprocesses: the console script, SIGINT and SIGKILL --------------------------------


def make_corpus(folder: Path, n: int) -> None:
    text = (ARTICLES / "seed.txt").read_text(encoding="utf-8")
    for i in range(n):
        sub = folder / f"b{i // 200}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"a{i:05d}.txt").write_text(text + f"\n\nParagraph number {i}.", encoding="utf-8")


def corpus_cmd(*args) -> list[str]:
    return [sys.executable, "-m", "corpus", *map(str, args)]


@pytest.mark.slow
def test_subprocess_ingest(tmp_path):
    proc = subprocess.run(
        corpus_cmd("ingest", ARTICLES, "-o", tmp_path / "out", "--no-store"),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"{len(article_files())} files:")


def _wait_for_outputs(out: Path, proc: subprocess.Popen, minimum: int) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        if out.exists() and sum(1 for _ in out.rglob("*.json")) >= minimum:
            return
        if proc.poll() is not None:
            pytest.fail("ingest finished before it could be interrupted; raise the corpus size")
        time.sleep(0.05)
    pytest.fail("no outputs appeared")


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_sigint_finishes_current_document_writes_report_exits_130(tmp_path, jobs):
    src, out = tmp_path / "src", tmp_path / "out"
    make_corpus(src, 3000)
    proc = subprocess.Popen(
        corpus_cmd("ingest", src, "-o", out, "--no-store", "--jobs", jobs),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    _wait_for_outputs(out, proc, 20)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert b"interrupted" in stdout
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["run"]["interrupted"] is True
    t = report["totals"]
    assert 0 < t["files"] < 3000
    assert t["ok"] + t["warning"] + t["rejected"] == t["files"] == len(report["files"])
    # every document in the report has both outputs, and nothing else is there
    assert sum(1 for _ in out.rglob("*.xml")) == t["files"] - t["rejected"]
    assert not list(out.rglob(".corpus-tmp-*"))


@pytest.mark.slow
def test_sigkill_leaves_no_partial_file_under_a_final_name(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    make_corpus(src, 3000)
    proc = subprocess.Popen(
        corpus_cmd("ingest", src, "-o", out, "--no-store"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    _wait_for_outputs(out, proc, 50)
    proc.kill()
    proc.wait(timeout=30)
    for path in out.rglob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))
    for path in out.rglob("*.xml"):
        etree.parse(str(path))


@pytest.mark.skipif(
    "fork" not in __import__("multiprocessing").get_all_start_methods(),
    reason="worker processes inherit inline plugins only when they are forked",
)
def test_inline_plugin_runs_in_forked_workers(plugins, tmp_path):
    class Marker:
        @hookimpl
        def enrich(self, document):
            return {"pid_seen": True}

    plugins.register(Marker(), name="marker")
    report = ingest(plugins, ARTICLES, output=tmp_path / "out", jobs=2)
    assert report.totals_dict()["rejected"] == 0
    for path in (tmp_path / "out").rglob("*.json"):
        if path.name != "report.json":
            data = json.loads(path.read_text(encoding="utf-8"))
            assert data["annotations"]["marker"] == {"pid_seen": True}


def test_same_stem_in_one_folder_collides_even_with_a_subfolder_between(plugins, tmp_path):
    src = tmp_path / "src"
    (src / "a.k").mkdir(parents=True)  # sorts between a.json and a.txt
    shutil.copy(ARTICLES / "seed.txt", src / "a.k" / "inner.txt")
    shutil.copy(ARTICLES / "seed.txt", src / "a.txt")
    shutil.copy(ARTICLES / "seed.txt", src / "a.article")
    report = ingest(plugins, src, output=tmp_path / "out")
    entries = {e["path"]: e for e in report.files}
    assert list(entries) == ["a.article", "a.txt", "a.k/inner.txt"]  # files, then subfolders
    assert entries["a.article"]["status"] != "rejected"
    assert [f["code"] for f in entries["a.txt"]["findings"]][-1] == "OUTPUT_COLLISION"
    assert entries["a.k/inner.txt"]["status"] != "rejected"


def test_stored_json_key_colliding_with_an_earlier_folder_is_caught(plugins, tmp_path):
    src = tmp_path / "src"
    (src / "one").mkdir(parents=True)
    (src / "two").mkdir()
    shutil.copy(ARTICLES / "seed.txt", src / "one" / "x.txt")  # key one/x
    exported = json.loads((FIXTURES / "golden" / "seed.json").read_text(encoding="utf-8"))
    exported["key"] = "one/x"  # a JSON input keeps the key stored in it
    (src / "two" / "y.json").write_text(json.dumps(exported), encoding="utf-8")
    report = ingest(plugins, src, output=tmp_path / "out")
    entries = {e["path"]: e for e in report.files}
    assert entries["one/x.txt"]["status"] != "rejected"
    assert entries["two/y.json"]["key"] == "one/x"
    assert "OUTPUT_COLLISION" in [f["code"] for f in entries["two/y.json"]["findings"]]


@pytest.mark.skipif(os.name != "posix", reason="process ids are checked the POSIX way")
def test_entries_files_of_runs_killed_outright_are_removed_by_the_next(
    plugins, tmp_path, monkeypatch
):
    """A run killed with SIGKILL cannot remove its report's temporary entries file; the next
    report removes those of processes that are gone, and no other file."""
    import tempfile

    from corpus import report as report_module

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = tmp_path / f"corpus-report-{_dead_pid()}-abc.jsonl"
    alive = tmp_path / f"corpus-report-{os.getpid()}-def.jsonl"  # a run still going
    other = tmp_path / "corpus-report-notapid.jsonl"
    for path in (dead, alive, other):
        path.write_text("{}\n", encoding="utf-8")
    report = ingest(plugins, ARTICLES / "layout")
    try:
        assert not dead.exists()
        assert alive.exists() and other.exists()
        assert os.path.dirname(report._entries_path) == str(tmp_path)  # noqa: SLF001
        assert os.path.basename(report._entries_path).startswith(  # noqa: SLF001
            f"{report_module.ENTRIES_PREFIX}{os.getpid()}-"
        )
    finally:
        report.cleanup()


def test_a_library_callers_report_leaves_no_temporary_file(plugins, tmp_path):
    """run_ingest's report streams its entries to a temporary file; a caller that never calls
    cleanup() must not leave it behind once the report is gone, and cleanup() removes it at
    once (the entries stay readable until then)."""
    import gc

    report = ingest(plugins, ARTICLES / "layout", output=tmp_path / "out", store=None)
    entries = report._entries_path  # noqa: SLF001 - the file this test is about
    assert os.path.exists(entries)
    assert len(report.files) == report.totals["files"] > 0
    del report
    gc.collect()
    assert not os.path.exists(entries)

    report = ingest(plugins, ARTICLES / "layout")
    entries = report._entries_path  # noqa: SLF001
    report.cleanup()
    assert not os.path.exists(entries)
    report.cleanup()  # twice is harmless

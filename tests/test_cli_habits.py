"""One set of habits across commands: paths, streams, stdin, format spelling, CI output."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from corpus.config import Config
from corpus.errors import PluginError
from corpus.findings_output import FindingsPrinter, PathNames
from corpus.ingest import IngestOptions, run_ingest
from corpus.model import Finding, Severity
from corpus.plugins import Plugins, PluginSpec
from corpus.selection import selected

SEED = "seed.txt"


@pytest.fixture
def folder(tmp_path, fixtures_dir) -> Path:
    """A folder of articles with a README and a sub-folder, as users have them."""
    src = tmp_path / "arts"
    (src / "sub").mkdir(parents=True)
    shutil.copy(fixtures_dir / "articles" / SEED, src / SEED)
    shutil.copy(fixtures_dir / "bad" / "date_garbage.txt", src / "sub" / "garbage.txt")
    (src / "README.md").write_text("# notes\n", encoding="utf-8")
    return src


def test_findings_name_the_path_as_given_never_a_bare_name(run_cli, folder, monkeypatch):
    monkeypatch.chdir(folder.parent)
    result = run_cli("validate", "arts")
    assert "arts/sub/garbage.txt:1: warning DATE_MALFORMED" in result.output
    assert "arts/README.md: error UNKNOWN_FORMAT" in result.output
    assert "\ngarbage.txt" not in "\n" + result.output
    result = run_cli("validate", "arts/sub/garbage.txt")
    assert result.output.startswith("arts/sub/garbage.txt:1: warning DATE_MALFORMED")
    result = run_cli("ingest", "arts", "--no-store", "--exclude", "README.md")
    assert "arts/sub/garbage.txt:1: warning" in result.output


def test_path_names_with_several_sources(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x.txt").write_text("x")
    names = PathNames([str(tmp_path / "a"), str(tmp_path / "b"), "loose/one.txt"])
    assert names("x.txt") == f"{tmp_path / 'b'}/x.txt"
    assert names("one.txt") == "loose/one.txt"
    assert PathNames(["."])("sub/x.txt") == "sub/x.txt"


def test_include_and_exclude_pick_the_inputs(run_cli, folder, tmp_path):
    result = run_cli("validate", folder)
    assert result.exit_code == 1 and "README.md" in result.output  # a README fails the run
    result = run_cli("validate", folder, "--exclude", "README*")
    assert result.exit_code == 0, result.output
    assert "2 files:" in result.output and "README" not in result.output
    result = run_cli("validate", folder, "--include", "sub/*")
    assert "1 files:" in result.output and "garbage.txt" in result.output
    assert selected("a/b/README.md", exclude=["README*"]) is False
    assert selected("a/notes.txt", include=["*.xml"]) is False
    assert selected("a/x.xml", include=["*.xml"], exclude=["b/*"]) is True


def test_a_filtered_run_marks_nothing_removed(folder, tmp_path):
    db, plugins = str(tmp_path / "c.db"), Plugins(PluginSpec(entry_points=False))

    def run(**patterns):
        options = IngestOptions(sources=(str(folder),), store=db, formats=(), **patterns)
        return run_ingest(options, plugins=plugins, config=Config()).store_counts

    assert run(exclude=("README*",))["new"] == 2
    assert run(include=("sub/*",))["removed"] == 0
    assert run(exclude=("README*", "sub/*"))["removed"] == 0
    assert run()["removed"] == 0  # everything is still there


def test_validate_and_convert_read_standard_input(run_cli, fixtures_dir, tmp_path):
    text = (fixtures_dir / "bad" / "date_garbage.txt").read_bytes()
    result = run_cli("validate", "-", input=text)
    assert result.exit_code == 0
    assert result.output.startswith("<stdin>:1: warning DATE_MALFORMED")
    result = run_cli("validate", "-", "--fail-on", "warning", "--json", input=text)
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["files"][0]["path"] == "<stdin>"
    assert report["totals"]["warning"] == 1 and report["totals"]["codes"]["DATE_MALFORMED"] == 1
    result = run_cli("convert", "-", "-f", "json", input=text)
    assert json.loads(result.stdout)["title"] == "Headline"
    nitf = (fixtures_dir / "nitf" / "latin1.xml").read_bytes()
    result = run_cli("convert", "-", "--to", "json", input=nitf)
    assert json.loads(result.stdout)["source"]["format"] == "nitf"
    out = tmp_path / "x.xml"
    result = run_cli("convert", "-", "--format", "nitf", "-o", out, input=text)
    assert result.exit_code == 0 and out.read_bytes().startswith(b"<?xml")


def test_one_spelling_for_formats_and_json_everywhere(run_cli, fixtures_dir, tmp_path):
    seed = fixtures_dir / "articles" / SEED
    db = tmp_path / "c.db"
    for spelling in ("-f", "--format", "-t", "--to"):
        result = run_cli("convert", seed, spelling, "json")
        assert json.loads(result.stdout)["key"] == "seed", spelling
    out = tmp_path / "out"
    result = run_cli("ingest", seed, "-o", out, "--store", db, "--format", "json", "-q")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["report.json", "seed.json"]
    shown = run_cli("show", "seed", "--store", db, "--json")
    assert json.loads(shown.output)["key"] == "seed"
    assert run_cli("show", "seed", "--store", db, "-f", "nitf").output.startswith("<?xml")
    exported = run_cli(
        "export",
        "--store",
        db,
        "-f",
        "ninjs",
        "-o",
        tmp_path / "snap",
        "--as-of",
        "today",
        "--json",
    )
    summary = json.loads(exported.output)
    assert (summary["written"], summary["failures"]) == (1, [])
    assert (tmp_path / "snap" / "seed.ninjs.json").is_file()
    yesterday = run_cli(
        "export", "--store", db, "-t", "json", "-o", tmp_path / "y", "--as-of", "yesterday"
    )
    assert "exported 0 documents" in yesterday.output


def test_ls_has_a_header_and_a_limit(run_cli, folder, tmp_path):
    db = tmp_path / "c.db"
    run_cli("ingest", folder, "--store", db, "--exclude", "README*", "-q")
    lines = run_cli("ls", "--store", db).output.splitlines()
    assert lines[0].split() == ["STATE", "VER", "UPDATED", "KEY", "TITLE"]
    assert len(lines) == 3
    lines = run_cli("ls", "--store", db, "--limit", "1").output.splitlines()
    assert len(lines) == 2 and lines[1].startswith("present  v1")
    assert len(json.loads(run_cli("ls", "--store", db, "-n", "1", "--json").output)) == 1


def test_diff_of_missing_files_says_they_do_not_exist(run_cli, tmp_path):
    result = run_cli("diff", tmp_path / "a.txt", tmp_path / "b.txt", "--store", tmp_path / "c.db")
    assert result.exit_code == 2
    assert f"{tmp_path / 'a.txt'}: FILE_NOT_FOUND: the file does not exist" in result.output
    assert "no document" not in result.output
    result = run_cli("diff", "./missing", "seed@1", "--store", tmp_path / "c.db")
    assert "FILE_NOT_FOUND" in result.output
    result = run_cli("diff", "snapshot-a/", "snapshot-b/", "--store", tmp_path / "c.db")
    assert result.exit_code == 2
    assert "snapshot-a/: FILE_NOT_FOUND: the folder does not exist" in result.output
    assert "no document" not in result.output


FINDINGS = [
    Finding("DATE_MALFORMED", Severity.WARNING, "bad, date: 100%", path="sub/a.txt", line=3),
    Finding("X_FAILED", Severity.ERROR, "two\nlines", path="sub/a.txt", plugin="x"),
    Finding("NOTE", Severity.INFO, "fyi", path="sub/a.txt", line=1),
]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def in_folder(tmp_path, monkeypatch):
    """A source folder called ``in`` in the current directory."""
    (tmp_path / "in").mkdir()
    monkeypatch.chdir(tmp_path)


def test_text_findings_are_coloured_on_a_terminal_unless_no_color(monkeypatch, in_folder):
    monkeypatch.delenv("NO_COLOR", raising=False)
    stream = Terminal()
    FindingsPrinter("text", sources=["in"], stream=stream).emit(FINDINGS)
    assert "\x1b[33m\x1b[1mwarning\x1b[0m" in stream.getvalue()
    assert "\x1b[31m\x1b[1merror\x1b[0m" in stream.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    stream = Terminal()
    FindingsPrinter("text", sources=["in"], stream=stream).emit(FINDINGS)
    assert "\x1b" not in stream.getvalue()
    assert stream.getvalue().startswith("in/sub/a.txt:3: warning DATE_MALFORMED: bad")
    plain = io.StringIO()
    FindingsPrinter("text", sources=["in"], stream=plain).emit(FINDINGS)
    assert "\x1b" not in plain.getvalue()


def test_the_progress_line_is_cleared_before_a_finding():
    bar, out = io.StringIO(), io.StringIO()
    printer = FindingsPrinter("text", sources=[], stream=out, clear_line=bar, min_rank=1)
    printer.emit(FINDINGS[2:])  # info only: below min_rank, nothing printed, nothing cleared
    assert bar.getvalue() == ""
    printer.emit(FINDINGS)
    assert bar.getvalue() == "\r\x1b[K" and out.getvalue().count("sub/a.txt") == 2


def test_the_progress_bar_is_on_stderr_with_its_label(capsys, fixtures_dir):
    options = IngestOptions(sources=(str(fixtures_dir / "articles" / SEED),), formats=())
    plugins = Plugins(PluginSpec(entry_points=False))
    run_ingest(options, plugins=plugins, config=Config(), progress="validating")
    captured = capsys.readouterr()
    assert "validating" in captured.err and captured.out == ""


def test_findings_for_ci_systems(in_folder):
    stream = io.StringIO()
    printer = FindingsPrinter("json", sources=["in"], stream=stream)
    printer.emit(FINDINGS)
    rows = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [r["path"] for r in rows] == ["in/sub/a.txt"] * 3 and rows[1]["plugin"] == "x"

    stream = io.StringIO()
    FindingsPrinter("github", sources=["in"], stream=stream).emit(FINDINGS)
    lines = stream.getvalue().splitlines()
    assert lines[0] == (
        "::warning file=in/sub/a.txt,line=3,title=DATE_MALFORMED::DATE_MALFORMED: bad, date: 100%25"
    )
    assert lines[1] == "::error file=in/sub/a.txt,title=X_FAILED::X_FAILED [x]: two%0Alines"
    assert lines[2].startswith("::notice ")

    stream = io.StringIO()
    printer = FindingsPrinter("sarif", sources=["in"], stream=stream)
    printer.emit(FINDINGS[:2])
    printer.emit(FINDINGS[2:])
    printer.close()
    log = json.loads(stream.getvalue())
    assert log["version"] == "2.1.0"
    results = log["runs"][0]["results"]
    assert [r["level"] for r in results] == ["warning", "error", "note"]
    location = results[0]["locations"][0]["physicalLocation"]
    assert location == {"artifactLocation": {"uri": "in/sub/a.txt"}, "region": {"startLine": 3}}
    empty = io.StringIO()
    FindingsPrinter("sarif", sources=[], stream=empty).close()
    assert json.loads(empty.getvalue())["runs"][0]["results"] == []


def test_cli_findings_format_goes_to_stdout_and_the_summary_to_stderr(run_cli, folder):
    result = run_cli("ingest", folder, "--no-store", "--findings-format", "sarif")
    log = json.loads(result.stdout)
    assert {r["ruleId"] for r in log["runs"][0]["results"]} >= {"UNKNOWN_FORMAT", "DATE_MALFORMED"}
    assert "3 files:" in result.stderr


def test_the_same_module_twice_is_one_plugin(tmp_path, monkeypatch):
    (tmp_path / "twice_plugin.py").write_text(
        "from corpus import hookimpl\n\n@hookimpl\ndef enrich(document):\n    return None\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins = Plugins(PluginSpec(modules=("twice_plugin", "twice_plugin"), entry_points=False))
    assert plugins.names().count("twice_plugin") == 1
    with pytest.raises(PluginError) as info:
        plugins.register(object(), name="twice_plugin")
    assert "already loaded" in info.value.message and "Plugin name" not in info.value.message


@pytest.mark.slow
def test_shell_completion_works_as_documented(tmp_path):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    assert "_CORPUS_COMPLETE=bash_source corpus" in readme
    env = {**os.environ, "_CORPUS_COMPLETE": "bash_complete", "COMP_WORDS": "corpus vali"}
    env["COMP_CWORD"] = "1"
    proc = subprocess.run(
        [sys.executable, "-c", "from corpus.cli import main; main()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert "plain,validate" in proc.stdout, proc.stderr


def test_a_web_page_on_standard_input_is_read_as_html(run_cli, fixtures_dir):
    page = (fixtures_dir / "html" / "harbour-bridge.html").read_bytes()
    result = run_cli("convert", "-", "-f", "json", input=page)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["source"]["format"] == "html"
    assert document["title"].startswith("Harbour bridge to close")
    result = run_cli("validate", "-", input=page)
    assert result.exit_code == 0 and "XML_MALFORMED" not in result.output

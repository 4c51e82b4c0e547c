"""The store commands: runs, ls, show, log, search, export, stats."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from storedocs import ONE, TWO

from corpus.model import Block, Document, Source, document_from_json
from corpus.pipeline import FileResult
from corpus.store import STORE_ENV, Store
from corpus.store.summary import fallback_summary, summarize_change

OTHER = Document(
    key="sport/final",
    title="Cup final tonight",
    blocks=[Block("The final kicks off at eight; the budget for the stadium was a vote.")],
    source=Source("sport/final.txt", "3" * 64, "utf-8", 80),
)


def record_runs(db: Path, root: Path, *runs: tuple[Document, ...]) -> None:
    with Store.open(db) as store:
        for docs in runs:
            with store.begin_run(roots=[str(root)], arguments=["ingest", str(root)]) as run:
                for doc in docs:
                    run.record(str(root), FileResult(doc.source.path, "ok", (), doc))


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Three runs: both documents; the Duma story changed; the final removed."""
    root = tmp_path / "articles"
    root.mkdir()
    path = tmp_path / "corpus.db"
    record_runs(path, root, (ONE, OTHER), (TWO, OTHER), (TWO,))
    return path


def test_missing_store_is_a_clear_error(run_cli, tmp_path):
    for command in ("ls", "runs", "stats", "log", "show", "search"):
        args = [command, "--store", str(tmp_path / "none.db")]
        if command in ("log", "show", "search"):
            args.append("x")
        result = run_cli(*args)
        assert result.exit_code == 2, command
        assert "STORE_MISSING" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "none.db").exists()


def test_store_defaults_to_the_environment(run_cli, db, monkeypatch):
    monkeypatch.setenv(STORE_ENV, str(db))
    result = run_cli("ls")
    assert result.exit_code == 0
    assert "world/duma" in result.output


def test_ls_shows_removed_documents_with_their_state(run_cli, db):
    result = run_cli("ls", "--store", db)
    assert result.exit_code == 0
    header, *lines = result.output.splitlines()
    assert header.split() == ["STATE", "VER", "UPDATED", "KEY", "TITLE"]
    assert len(lines) == 2
    assert lines[0].startswith("removed  v1") and "sport/final  Cup final tonight" in lines[0]
    assert lines[1].startswith("present  v2") and "world/duma   The Duma votes again" in lines[1]
    # Aligned: each column starts where its header does.
    for name in ("VER", "UPDATED", "KEY", "TITLE"):
        at = header.index(name)
        assert all(line[at - 1] == " " and line[at] != " " for line in lines), name


def test_ls_json_and_since(run_cli, db):
    rows = json.loads(run_cli("ls", "--store", db, "--json").output)
    assert {r["key"]: (r["state"], r["latest"]) for r in rows} == {
        "sport/final": ("removed", 1),
        "world/duma": ("present", 2),
    }
    assert json.loads(run_cli("ls", "--store", db, "--json", "--since", "2999-01-01").output) == []
    assert len(json.loads(run_cli("ls", "--store", db, "--json", "--since", "2000-01-01").output))
    bad = run_cli("ls", "--store", db, "--since", "last tuesday")
    assert bad.exit_code == 2 and "BAD_TIME" in bad.output


def test_show_text_latest_and_older_version(run_cli, db):
    latest = run_cli("show", "--store", db, "world/duma")
    assert latest.exit_code == 0
    assert latest.output == (
        "The Duma votes again\n\nRussia's parliament voted on Tuesday.\n\nThe vote was not close.\n"
    )
    first = run_cli("show", "--store", db, "world/duma@1")
    assert first.output.startswith("The Duma votes\n\n")
    assert "The vote was close." in first.output


def test_show_json_is_the_stored_document(run_cli, db, plugins):
    if "json" not in plugins.exporters:
        pytest.skip("no json exporter registered")
    result = run_cli("show", "--store", db, "world/duma@1", "--to", "json")
    assert result.exit_code == 0
    assert document_from_json(result.output) == ONE


def test_show_nitf_is_valid(run_cli, db, plugins, nitf_schema):
    from lxml import etree

    if "nitf" not in plugins.exporters:
        pytest.skip("no nitf exporter registered")
    result = run_cli("show", "--store", db, "world/duma", "--to", "nitf")
    assert result.exit_code == 0
    tree = etree.fromstring(result.stdout_bytes, etree.XMLParser(resolve_entities=False))
    nitf_schema.assertValid(tree)
    assert b"The Duma votes again" in result.stdout_bytes


def test_show_errors(run_cli, db):
    for args, code in (
        (["nope"], "NOT_FOUND"),
        (["world/duma@9"], "NOT_FOUND"),
        (["world/duma", "--to", "nosuchformat"], "UNKNOWN_FORMAT"),
    ):
        result = run_cli("show", "--store", db, *args)
        assert result.exit_code == 2
        assert code in result.output


def test_log_lists_versions_and_removals(run_cli, db):
    result = run_cli("log", "--store", db, "world/duma")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("v1 ") and "run 1" in lines[0] and "first version" in lines[0]
    assert lines[1].startswith("v2 ") and "run 2" in lines[1] and "124 B" in lines[1]
    assert lines[1].endswith(summarize_change(ONE, TWO))
    removed = run_cli("log", "--store", db, "sport/final").output.splitlines()
    assert "removed" in removed[-1] and "run 3" in removed[-1]


def test_log_json(run_cli, db):
    data = json.loads(run_cli("log", "--store", db, "sport/final", "--json").output)
    assert data["state"] == "removed"
    assert [e["event"] for e in data["events"]] == ["version", "removed"]
    assert data["events"][1]["run"] == 3
    assert run_cli("log", "--store", db, "nope").exit_code == 2


def test_log_uses_the_diff_engine_when_there_is_one():
    try:
        from corpus.diff import diff_documents
    except ImportError:
        pytest.skip("corpus.diff has no diff_documents yet")
    assert summarize_change(ONE, TWO) == diff_documents(ONE, TWO).summary_line()


def test_fallback_summary_names_fields_and_paragraph_counts():
    assert fallback_summary(ONE, TWO) == "title changed; paragraph: 1 changed"
    added = Document(key="k", title="The Duma votes", blocks=[*ONE.blocks, Block("New.")])
    assert fallback_summary(ONE, added) == "paragraph: 1 added"
    assert fallback_summary(added, ONE) == "paragraph: 1 removed"
    assert fallback_summary(ONE, ONE) == "markup or metadata changed"
    assert summarize_change(None, ONE) == "first version"


def test_runs_text_and_json(run_cli, db):
    lines = run_cli("runs", "--store", db).output.splitlines()
    assert [line.split()[1] for line in lines] == ["3", "2", "1"]
    assert "finished" in lines[0] and "1 removed" in lines[0]
    data = json.loads(run_cli("runs", "--store", db, "--json", "--limit", "1").output)
    assert len(data) == 1 and data[0]["id"] == 3
    assert data[0]["counts"] == {
        "new": 0,
        "changed": 0,
        "unchanged": 1,
        "removed": 1,
        "rejected": 0,
    }
    assert data[0]["arguments"][0] == "ingest"


def test_search_text_json_and_limit(run_cli, db):
    result = run_cli("search", "--store", db, "vote")
    assert result.exit_code == 0
    assert "world/duma@2  The Duma votes again" in result.output
    assert "sport/final@1 [removed]" in result.output
    assert "[vote]" in result.output.lower()
    hits = json.loads(run_cli("search", "--store", db, "vote", "--json").output)
    assert [h["key"] for h in hits][0] == "world/duma"  # the title match ranks first
    assert len(json.loads(run_cli("search", "--store", db, "vote", "--json", "-n", "1").output))
    none = run_cli("search", "--store", db, "zeppelin")
    assert none.exit_code == 0 and "no documents match" in none.output


@pytest.mark.parametrize("query", ['"open', "vote AND", "col:vote"])
def test_bad_search_syntax_exits_2_without_traceback(run_cli, db, query):
    result = run_cli("search", "--store", db, query)
    assert result.exit_code == 2
    assert "BAD_QUERY" in result.output
    assert "Traceback" not in result.output


def test_export_writes_every_present_document(run_cli, db, tmp_path, plugins):
    if "json" not in plugins.exporters:
        pytest.skip("no json exporter registered")
    out = tmp_path / "out"
    result = run_cli("export", "--store", db, "--to", "json", "-o", out)
    assert result.exit_code == 0
    assert "exported 1 documents" in result.output
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == ["world/duma.json"]
    assert (out / "world/duma.json").read_bytes() == plugins.exporters.get("json").export(TWO)


def test_export_as_of_an_earlier_time(run_cli, db, tmp_path, plugins):
    if "json" not in plugins.exporters:
        pytest.skip("no json exporter registered")
    with Store.open(db) as store:
        first_run_end = store.run(1).finished
    out = tmp_path / "then"
    result = run_cli("export", "--store", db, "--to", "json", "-o", out, "--as-of", first_run_end)
    assert result.exit_code == 0, result.output
    assert document_from_json((out / "world/duma.json").read_text()) == ONE
    assert (out / "sport/final.json").is_file()
    early = run_cli(
        "export", "--store", db, "--to", "json", "-o", tmp_path / "e", "--as-of", "2001-01-01"
    )
    assert "exported 0 documents" in early.output


PLUGIN = textwrap.dedent(
    """
    from corpus import hookimpl
    from corpus.formats import Exporter


    class Shout(Exporter):
        name = "shout"
        extension = "txt"

        def export(self, document):
            if "again" in document.title:
                raise ValueError("cannot shout this one")
            return document.title.upper().encode()


    @hookimpl
    def register_exporters(register):
        register(Shout())
    """
)


def test_export_with_a_plugin_exporter_reports_failures(run_cli, db, tmp_path, monkeypatch):
    (tmp_path / "store_cli_shout.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "shout"
    with Store.open(db) as store:
        first_run_end = store.run(1).finished
    ok = run_cli(
        "--plugin",
        "store_cli_shout",
        "export",
        "--store",
        db,
        "--to",
        "shout",
        "-o",
        out,
        "--as-of",
        first_run_end,
    )
    assert ok.exit_code == 0, ok.output
    assert (out / "world/duma.txt").read_text() == "THE DUMA VOTES"
    bad = run_cli(
        "--plugin", "store_cli_shout", "export", "--store", db, "--to", "shout", "-o", out
    )
    assert bad.exit_code == 1
    assert "EXPORT_FAILED" in bad.output and "world/duma@2" in bad.output
    assert not [p for p in out.rglob("*") if p.name.startswith(".corpus-tmp-")]
    unknown = run_cli("export", "--store", db, "--to", "nosuch", "-o", out)
    assert unknown.exit_code == 2 and "UNKNOWN_FORMAT" in unknown.output


def test_stats_text_and_json(run_cli, db):
    data = json.loads(run_cli("stats", "--store", db, "--json").output)
    assert (data["documents"], data["present"], data["removed"], data["versions"]) == (2, 1, 1, 3)
    assert data["runs"] == 3 and data["last_run"]["id"] == 3
    text = run_cli("stats", "--store", db).output
    assert "documents:     2 (1 present, 1 removed)" in text
    assert "versions:      3 (1 documents with more than one)" in text

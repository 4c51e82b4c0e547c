"""corpus.testing: the helpers and the pytest plugin offered to plugin authors."""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

import attrs
import click
import pytest

from corpus import Block, Document, Finding, Severity, hookimpl
from corpus.cli import cli as global_cli
from corpus.errors import PluginError
from corpus.plugins import DEFAULT_PLUGINS
from corpus.testing import (
    CorpusCLI,
    assert_valid_json,
    assert_valid_nitf,
    document_from_text,
    find_standards,
    finding_codes,
    make_config,
    make_plugins,
    run_pipeline,
)

pytest_plugins = ["pytester"]

ARTICLE = (
    " date 2024-03-01 Budget passes after long night\n\n"
    + "The council approved the budget after a debate that lasted well past midnight. " * 4
    + "\n\nIt takes effect in April.\n"
)


class Stamp:
    """An enricher that counts paragraphs, with a setting for its label."""

    @hookimpl
    def enrich(self, document, config):
        label = config.plugin_settings("stamp").get("label", "paragraphs")
        return {label: len(document.blocks)}


class Mutator:
    @hookimpl
    def enrich(self, document):
        document.title = "changed"  # frozen: must be reported, not crash


class Hello:
    @hookimpl
    def register_commands(self, cli):
        @cli.command(name="hello-test")
        @click.argument("name")
        def hello(name):
            """Greet, and report on stderr."""
            click.echo(f"hello {name}")
            click.echo("greeted", err=True)


# -- make_plugins, make_config, document_from_text ------------------------------------------


def test_make_plugins_is_builtins_plus_the_given_plugins_only() -> None:
    pm = make_plugins(("stamp", Stamp()))
    assert set(pm.names()) == set(DEFAULT_PLUGINS) | {"stamp"}
    origins = {row.name: row.origin for row in pm.describe()}
    assert origins["stamp"] == "module"
    assert {origins[name] for name in DEFAULT_PLUGINS} == {"built-in"}


def test_make_plugins_disables_by_name() -> None:
    pm = make_plugins(disabled=["validators"])
    assert "validators" not in pm.names()
    assert [row.enabled for row in pm.describe() if row.name == "validators"] == [False]


def test_make_plugins_imports_modules_by_name() -> None:
    pm = make_plugins(modules=["corpus.testing"])  # a module with no hooks registers fine
    assert "corpus.testing" in pm.names()


def test_make_config_gives_each_plugin_its_table() -> None:
    config = make_config({"stamp": {"label": "n"}})
    assert config.plugin_settings("stamp") == {"label": "n"}
    assert config.plugin_settings("other") == {}


def test_document_from_text_uses_the_article_reader() -> None:
    document = document_from_text(ARTICLE, path="news/budget.txt")
    assert document.key == "news/budget"
    assert document.title == "Budget passes after long night"
    assert str(document.date) == "2024-03-01"
    assert len(document.blocks) == 2
    assert document_from_text(ARTICLE.encode("utf-8")).key == "article"


# -- run_pipeline ---------------------------------------------------------------------------


def test_run_pipeline_on_text_reads_enriches_validates_and_exports() -> None:
    result = run_pipeline(ARTICLE, ("stamp", Stamp()), formats=["json"])
    assert result.status == "ok", result.findings
    assert result.document.annotations["stamp"] == {"paragraphs": 2}
    assert json.loads(result.outputs["json"])["annotations"]["stamp"] == {"paragraphs": 2}


def test_run_pipeline_on_a_document_with_settings() -> None:
    document = Document(key="k", title="T", blocks=[Block("a"), Block("b"), Block("c")])
    result = run_pipeline(document, ("stamp", Stamp()), settings={"stamp": {"label": "n"}})
    assert result.document.annotations["stamp"] == {"n": 3}
    assert result.path == "k"


def test_run_pipeline_reports_a_contract_breach_naming_the_plugin() -> None:
    result = run_pipeline(ARTICLE, ("mutator", Mutator()), formats=["json"])
    assert result.status == "rejected"
    assert result.outputs == {}
    failed = [f for f in result.findings if f.code == "PLUGIN_FAILED"]
    assert [f.plugin for f in failed] == ["mutator"]
    assert "frozen document" in failed[0].message


def test_run_pipeline_fail_fast_gives_the_real_exception() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        run_pipeline(ARTICLE, ("mutator", Mutator()), fail_fast=True)


def test_finding_codes_filters_by_plugin() -> None:
    findings = [
        Finding("A", Severity.WARNING, "m", plugin="x"),
        Finding("B", Severity.INFO, "m", plugin="y"),
    ]
    assert finding_codes(findings) == ["A", "B"]
    assert finding_codes(findings, plugin="y") == ["B"]


# -- schema checks --------------------------------------------------------------------------


def test_assert_valid_nitf_accepts_an_export_and_rejects_others(standards: Path) -> None:
    nitf = run_pipeline(ARTICLE, formats=["nitf"]).outputs["nitf"]
    assert_valid_nitf(nitf, standards=standards)
    with pytest.raises(AssertionError, match="not valid NITF"):
        assert_valid_nitf(b"<nitf><body/></nitf>", standards=standards)
    with pytest.raises(AssertionError, match="not well-formed"):
        assert_valid_nitf(b"<nitf", standards=standards)


def test_find_standards_order(standards: Path, monkeypatch, tmp_path: Path) -> None:
    assert find_standards(standards) == standards
    monkeypatch.setenv("CORPUS_STANDARDS", str(standards))
    assert find_standards() == standards
    monkeypatch.setenv("CORPUS_STANDARDS", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="CORPUS_STANDARDS"):
        find_standards()
    with pytest.raises(FileNotFoundError, match="CORPUS_STANDARDS"):
        find_standards(tmp_path / "nowhere")


def test_assert_valid_json_accepts_an_export_and_rejects_others() -> None:
    data = run_pipeline(ARTICLE, ("stamp", Stamp()), formats=["json"]).outputs["json"]
    assert_valid_json(data)
    assert_valid_json(json.loads(data))
    broken = json.loads(data)
    broken["blocks"] = "not a list"
    with pytest.raises(AssertionError, match="blocks"):
        assert_valid_json(broken)


# -- CorpusCLI ------------------------------------------------------------------------------


def test_cli_runs_plugin_commands_without_leaking_them(tmp_path: Path) -> None:
    runner = CorpusCLI(cwd=tmp_path)
    runner.register(Hello(), name="hello")
    result = runner.run("hello-test", "ann")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "hello ann\n", "greeted\n")
    assert "hello-test" not in global_cli.commands
    assert CorpusCLI(cwd=tmp_path).run("hello-test", "ann").exit_code == 2  # no such command


def test_cli_global_options_and_settings(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    runner = CorpusCLI(("stamp", Stamp()), settings={"stamp": {"label": "count"}}, cwd=tmp_path)
    rows = {r["name"]: r for r in runner.run("plugins", "--json").json()}
    assert rows["stamp"]["hooks"] == ["enrich"]
    assert rows["stamp"]["enabled"] is True
    rows = {
        r["name"]: r for r in runner.run("--disable-plugin", "nitf", "plugins", "--json").json()
    }
    assert rows["nitf"]["enabled"] is False
    result = runner.run("convert", "a.txt", "--to", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["annotations"]["stamp"] == {"count": 2}


def test_cli_reads_corpus_toml_in_its_folder(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "corpus.toml").write_text('[plugins.stamp]\nlabel = "from-toml"\n')
    result = CorpusCLI(("stamp", Stamp()), cwd=tmp_path).run("convert", "a.txt")
    assert result.json()["annotations"]["stamp"] == {"from-toml": 2}


def test_cli_refuses_a_misspelt_hook(tmp_path: Path) -> None:
    class Typo:
        @hookimpl
        def validat(self, document):
            return []

    with pytest.raises(PluginError, match="validat"):
        CorpusCLI(("typo", Typo()), cwd=tmp_path).run("plugins")


# -- the pytest plugin ----------------------------------------------------------------------


def _plugin_args() -> list[str]:
    eps = importlib.metadata.entry_points(group="pytest11")
    return [] if any(ep.value == "corpus.testing" for ep in eps) else ["-p", "corpus.testing"]


def test_pytest_plugin_fixtures(pytester: pytest.Pytester, standards: Path, monkeypatch) -> None:
    monkeypatch.setenv("CORPUS_STANDARDS", str(standards))
    pytester.makepyfile(
        test_author=f"""
        import click
        from corpus import hookimpl

        ARTICLE = {ARTICLE!r}

        class Hello:
            @hookimpl
            def register_commands(self, cli):
                @cli.command(name="hi")
                def hi():
                    click.echo("hi there")

        def test_cli(corpus_cli, tmp_path):
            corpus_cli.register(Hello(), name="hello")
            result = corpus_cli.run("hi")
            assert (result.exit_code, result.stdout) == (0, "hi there\\n")
            (tmp_path / "a.txt").write_text(ARTICLE)
            assert corpus_cli.run("validate", "a.txt").exit_code == 0

        def test_pipeline(corpus_pipeline, corpus_standards):
            from corpus.testing import assert_valid_nitf
            result = corpus_pipeline(ARTICLE, formats=["nitf"])
            assert_valid_nitf(result.outputs["nitf"], standards=corpus_standards)
        """
    )
    result = pytester.runpytest_subprocess(*_plugin_args(), "-q")
    result.assert_outcomes(passed=2)


def test_assert_valid_nitf_skips_with_a_reason_without_schemas(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("CORPUS_STANDARDS", str(tmp_path))
    monkeypatch.delenv("CORPUS_REQUIRE_STANDARDS", raising=False)
    with pytest.raises(pytest.skip.Exception) as info:
        assert_valid_nitf(b"<nitf/>")
    assert "CORPUS_STANDARDS" in str(info.value) and "iptc/newsml-g2" in str(info.value)
    monkeypatch.setenv("CORPUS_REQUIRE_STANDARDS", "1")
    with pytest.raises(FileNotFoundError, match="CORPUS_STANDARDS"):
        assert_valid_nitf(b"<nitf/>")

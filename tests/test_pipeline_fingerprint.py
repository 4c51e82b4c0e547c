"""Re-ingest trusts a stored version only when the pipeline that made it is the one running."""

from __future__ import annotations

import json
import shutil
import sqlite3

from corpus.config import Config
from corpus.fingerprint import pipeline_description, pipeline_fingerprint
from corpus.hookspecs import hookimpl
from corpus.ingest import IngestOptions, run_ingest
from corpus.plugins import Plugins, PluginSpec
from corpus.store.schema import SCHEMA_VERSION


class Stamp:
    """An enricher that leaves a mark in the annotations."""

    @hookimpl
    def enrich(self, document, config):
        import attrs

        label = config.plugin_settings("stamp").get("label", "stamped")
        return attrs.evolve(document, annotations={**document.annotations, "stamp": label})


def hermetic() -> Plugins:
    return Plugins(PluginSpec(entry_points=False))


def ingest(plugins, src, out, db, config=None, formats=("json",)):
    options = IngestOptions(sources=(str(src),), output=str(out), formats=formats, store=str(db))
    return run_ingest(options, plugins=plugins, config=config or Config())


def seed(tmp_path, fixtures_dir):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(fixtures_dir / "articles" / "seed.txt", src / "seed.txt")
    shutil.copy(fixtures_dir / "articles" / "seed.txt", src / "other.txt")
    return src


def test_an_unchanged_pipeline_skips_unchanged_files(tmp_path, fixtures_dir):
    src, out, db = seed(tmp_path, fixtures_dir), tmp_path / "out", tmp_path / "c.db"
    first = ingest(hermetic(), src, out, db)
    assert first.store_counts["new"] == 2
    again = ingest(hermetic(), src, out, db)
    assert again.store_counts["unchanged"] == 2
    assert again.pipeline == {
        "fingerprint": first.pipeline["fingerprint"],
        "changed": False,
        "reprocessed": 0,
    }
    assert "processed again" not in again.summary_line()


def test_enabling_an_enricher_reprocesses_and_says_so(tmp_path, fixtures_dir):
    src, out, db = seed(tmp_path, fixtures_dir), tmp_path / "out", tmp_path / "c.db"
    ingest(hermetic(), src, out, db)
    assert "stamp" not in json.loads((out / "seed.json").read_text("utf-8"))["annotations"]
    plugins = hermetic()
    plugins.register(Stamp(), name="stamp")
    report = ingest(plugins, src, out, db)
    assert report.pipeline["changed"] and report.pipeline["reprocessed"] == 2
    assert "2 unchanged files processed again: the pipeline changed" in report.summary_line()
    assert report.to_dict()["run"]["pipeline"]["reprocessed"] == 2
    # The outputs were made again, by the new pipeline.
    assert json.loads((out / "seed.json").read_text("utf-8"))["annotations"]["stamp"] == "stamped"
    # Same pipeline again: skipped.
    plugins = hermetic()
    plugins.register(Stamp(), name="stamp")
    assert ingest(plugins, src, out, db).pipeline["reprocessed"] == 0


def test_a_changed_setting_or_format_reprocesses(tmp_path, fixtures_dir):
    src, out, db = seed(tmp_path, fixtures_dir), tmp_path / "out", tmp_path / "c.db"
    plugins = hermetic()
    plugins.register(Stamp(), name="stamp")
    ingest(plugins, src, out, db)
    relabel = Config(plugins={"stamp": {"label": "second"}})
    report = ingest(plugins, src, out, db, config=relabel)
    assert report.pipeline["reprocessed"] == 2
    assert json.loads((out / "seed.json").read_text("utf-8"))["annotations"]["stamp"] == "second"
    report = ingest(plugins, src, out, db, config=relabel, formats=("json", "nitf"))
    assert report.pipeline["reprocessed"] == 2
    assert (out / "seed.xml").is_file()


def test_the_fingerprint_covers_plugins_versions_settings_and_formats():
    base = hermetic()
    fp = pipeline_fingerprint(base, Config(), ["json"])
    assert fp == pipeline_fingerprint(hermetic(), Config(), ["json"])
    assert fp != pipeline_fingerprint(base, Config(), ["json", "nitf"])
    assert fp != pipeline_fingerprint(base, Config(plugins={"validators": {"x": 1}}), ["json"])
    with_stamp = hermetic()
    with_stamp.register(Stamp(), name="stamp", version="1.0")
    fp_1 = pipeline_fingerprint(with_stamp, Config(), ["json"])
    upgraded = hermetic()
    upgraded.register(Stamp(), name="stamp", version="1.1")
    assert len({fp, fp_1, pipeline_fingerprint(upgraded, Config(), ["json"])}) == 3
    disabled = Plugins(PluginSpec(entry_points=False, disabled=("validators",)))
    assert pipeline_fingerprint(disabled, Config(), ["json"]) != fp
    names = [p["name"] for p in pipeline_description(base, Config(), [])["plugins"]]
    assert "validators" in names and names == sorted(names)


def test_a_module_plugin_without_a_version_is_fingerprinted_by_its_source(tmp_path, monkeypatch):
    module = tmp_path / "my_enricher.py"
    module.write_text(
        "from corpus import hookimpl\n\n@hookimpl\ndef enrich(document):\n    return document\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = PluginSpec(modules=("my_enricher",), entry_points=False)
    first = pipeline_fingerprint(Plugins(spec), Config(), [])
    module.write_text(module.read_text() + "# upgraded\n")
    assert pipeline_fingerprint(Plugins(spec), Config(), []) != first


def test_runs_record_their_pipeline(tmp_path, fixtures_dir):
    src, out, db = seed(tmp_path, fixtures_dir), tmp_path / "out", tmp_path / "c.db"
    report = ingest(hermetic(), src, out, db)
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        (stored,) = conn.execute("SELECT pipeline FROM runs").fetchone()
    finally:
        conn.close()
    assert stored == report.pipeline["fingerprint"]


class Reject:
    """A validator that rejects every document."""

    @hookimpl
    def validate(self, document):
        from corpus.model import Finding, Severity

        return [Finding("REJECT_ALL", Severity.ERROR, "rejected on purpose")]


def test_a_file_the_new_pipeline_rejects_is_not_skipped_later(tmp_path, fixtures_dir):
    src, out, db = seed(tmp_path, fixtures_dir), tmp_path / "out", tmp_path / "c.db"
    assert ingest(hermetic(), src, out, db).totals_dict()["ok"] == 2

    def strict():
        plugins = hermetic()
        plugins.register(Reject(), name="reject")
        return plugins

    for _ in range(2):  # the second run has the same pipeline, and must not trust run 1
        report = ingest(strict(), src, out, db)
        assert report.totals_dict()["rejected"] == 2, report.totals_dict()
        assert report.store_counts["unchanged"] == 0
    assert ingest(hermetic(), src, out, db).totals_dict()["ok"] == 2


def test_a_skipped_file_reports_the_findings_of_the_pipeline_that_last_ran(tmp_path, fixtures_dir):
    """After a changed setting reprocessed an unchanged file, the next run (same setting)
    skips it with the new findings, not those of the pipeline that made the version."""
    src, out, db = seed(tmp_path, fixtures_dir), tmp_path / "out", tmp_path / "c.db"

    def codes(report):
        return {f["path"]: [x["code"] for x in f["findings"]] for f in report.files}

    first = ingest(hermetic(), src, out, db)
    assert "SHORT_BODY" not in codes(first)["seed.txt"]
    strict = Config(plugins={"validators": {"min_body_words": 100000}})
    again = ingest(hermetic(), src, out, db, config=strict)
    assert again.pipeline["reprocessed"] == 2
    assert "SHORT_BODY" in codes(again)["seed.txt"]
    skipped = ingest(hermetic(), src, out, db, config=strict)
    assert skipped.store_counts["unchanged"] == 2 and skipped.pipeline["reprocessed"] == 0
    assert codes(skipped) == codes(again)

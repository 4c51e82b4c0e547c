"""The plugin manager: built-ins as plugins, inline plugins, failures reported by name."""

from __future__ import annotations

import attrs
import pytest

from corpus import hookimpl
from corpus.config import Config
from corpus.errors import ConfigError, InputRejected, PluginError
from corpus.formats import Exporter, Reader, ReadResult
from corpus.model import Block, Document, Finding, Severity
from corpus.pipeline import STATUS_REJECTED, STATUS_WARNING, process_data, read_bytes
from corpus.plugins import DEFAULT_PLUGINS, Plugins, PluginSpec


class LinesReader(Reader):
    """Test reader: one paragraph per line of a .lines file; first line is the title."""

    name = "lines"
    extensions = (".lines",)
    media_type = "text/x-lines"

    def read(self, data: bytes, *, path: str, key: str) -> ReadResult:
        lines = data.decode("utf-8").splitlines()
        if not lines:
            raise InputRejected("empty", code="EMPTY_FILE", path=path, line=1)
        blocks = tuple(Block(t, line_start=i, line_end=i) for i, t in enumerate(lines[1:], 2))
        return ReadResult(Document(key=key, title=lines[0], blocks=blocks))


class LinesPlugin:
    @hookimpl
    def register_readers(self, register):
        register(LinesReader())


class UpperExporter(Exporter):
    name = "upper"
    extension = ".up"

    def export(self, document: Document) -> bytes:
        return document.title.upper().encode()


DATA = b"Title\nfirst paragraph\nsecond paragraph\n"
CONFIG = Config(plugins={"validators": {"min_body_words": 1}})


@pytest.fixture
def pm(plugins: Plugins) -> Plugins:
    plugins.register(LinesPlugin(), name="lines-plugin")
    return plugins


def test_builtins_are_registered_as_ordinary_plugins(plugins: Plugins):
    rows = {row.name: row for row in plugins.describe()}
    for name, module in DEFAULT_PLUGINS.items():
        assert rows[name].origin == "built-in"
        assert rows[name].module == module
    assert "validate" in rows["validators"].hooks


def test_inline_reader_plugin_is_used_by_extension(pm: Plugins):
    result = read_bytes(DATA, "x/y.lines", plugins=pm)
    assert result.document.key == "x/y"
    assert [b.text for b in result.document.blocks] == ["first paragraph", "second paragraph"]
    assert pm.readers.owner("lines") == "lines-plugin"


def test_duplicate_format_name_names_both_plugins(pm: Plugins):
    class Again:
        @hookimpl
        def register_readers(self, register):
            register(LinesReader())

    pm.register(Again(), name="again")
    with pytest.raises(PluginError, match="by lines-plugin and by again"):
        _ = pm.readers


def test_enricher_dict_becomes_annotation_and_document_result_replaces(pm: Plugins):
    class Counter:
        @hookimpl
        def enrich(self, document):
            return {"blocks": len(document.blocks)}

    class Shout:
        @hookimpl(trylast=True)
        def enrich(self, document):
            return attrs.evolve(document, title=document.title.upper())

    pm.register(Counter(), name="counter")
    pm.register(Shout(), name="shout")
    result = process_data(DATA, "a.lines", plugins=pm, config=CONFIG)
    assert result.document.annotations["counter"] == {"blocks": 2}
    assert result.document.title == "TITLE"


@pytest.mark.parametrize(
    ("impl", "message"),
    [
        (lambda document: 1 / 0, "ZeroDivisionError"),
        (lambda document: 42, "must return a Document, a dict or None"),
        (lambda document: {"bad": object()}, "not JSON-safe"),
        (lambda document: setattr(document, "title", "x"), "frozen document"),
    ],
)
def test_failing_enricher_is_reported_by_name_and_run_goes_on(pm: Plugins, impl, message):
    class Broken:
        pass

    Broken.enrich = hookimpl(staticmethod(impl))
    pm.register(Broken(), name="broken")
    result = process_data(DATA, "a.lines", plugins=pm, config=CONFIG)
    assert result.status == STATUS_REJECTED
    (finding,) = [f for f in result.findings if f.code == "PLUGIN_FAILED"]
    assert finding.plugin == "broken"
    assert finding.path == "a.lines"
    assert message in finding.message
    # the next document is processed normally once the plugin is gone
    pm.unregister("broken")
    assert process_data(DATA, "b.lines", plugins=pm, config=CONFIG).status == "ok"


def test_fail_fast_raises_plugin_errors(pm: Plugins):
    class Broken:
        @hookimpl
        def enrich(self, document):
            raise RuntimeError("boom")

    pm.register(Broken(), name="broken")
    with pytest.raises(RuntimeError, match="boom"):
        process_data(DATA, "a.lines", plugins=pm, config=CONFIG, fail_fast=True)


def test_validator_must_return_findings(pm: Plugins):
    class Wrong:
        @hookimpl
        def validate(self, document):
            return ["not a finding"]

    pm.register(Wrong(), name="wrong")
    result = process_data(DATA, "a.lines", plugins=pm, config=CONFIG)
    (finding,) = [f for f in result.findings if f.code == "PLUGIN_FAILED"]
    assert "must return Finding objects" in finding.message


def test_validator_findings_get_plugin_and_path(pm: Plugins):
    class Picky:
        @hookimpl
        def validate(self, document, config):
            return [Finding("picky.NO", Severity.WARNING, "no", line=2)]

    pm.register(Picky(), name="picky")
    result = process_data(DATA, "a.lines", plugins=pm, config=CONFIG)
    assert result.status == STATUS_WARNING
    (finding,) = result.findings
    assert (finding.plugin, finding.path, finding.line) == ("picky", "a.lines", 2)


def test_document_key_hook_overrides_identity(pm: Plugins):
    class Keyed:
        @hookimpl
        def document_key(self, document, path):
            return "stable/" + document.title.lower()

    pm.register(Keyed(), name="keyed")
    assert read_bytes(DATA, "x.lines", plugins=pm).document.key == "stable/title"


@pytest.mark.parametrize("bad", ["../escape", "/abs", "a/../../b", "a\\b", "."])
def test_unsafe_keys_are_rejected(pm: Plugins, bad):
    class Keyed:
        @hookimpl
        def document_key(self, document, path):
            return bad

    pm.register(Keyed(), name="keyed")
    with pytest.raises(InputRejected) as err:
        read_bytes(DATA, "x.lines", plugins=pm)
    assert err.value.code == "UNSAFE_KEY"


def test_document_key_must_return_a_string(pm: Plugins):
    class Keyed:
        @hookimpl
        def document_key(self):
            return 5

    pm.register(Keyed(), name="keyed")
    with pytest.raises(PluginError, match="keyed"):
        read_bytes(DATA, "x.lines", plugins=pm)


def test_exporter_plugin(pm: Plugins):
    class Up:
        @hookimpl
        def register_exporters(self, register):
            register(UpperExporter())

    pm.register(Up(), name="up")
    result = process_data(DATA, "a.lines", plugins=pm, config=CONFIG, formats=("upper",))
    assert result.outputs == {"upper": b"TITLE"}


def test_unknown_hook_name_is_caught():
    import types

    typo = types.ModuleType("typo_plugin")
    typo.enrichh = hookimpl(lambda document: None)
    import sys

    sys.modules["typo_plugin"] = typo
    try:
        with pytest.raises(PluginError, match="enrichh"):
            Plugins(PluginSpec(modules=("typo_plugin",), entry_points=False))
    finally:
        del sys.modules["typo_plugin"]


def test_missing_plugin_module_is_a_config_error():
    with pytest.raises(ConfigError, match="no_such_module_xyz"):
        Plugins(PluginSpec(modules=("no_such_module_xyz",), entry_points=False))


def test_disabled_builtin_is_listed_but_not_loaded():
    pm = Plugins(PluginSpec(disabled=("validators",), entry_points=False))
    rows = {row.name: row for row in pm.describe()}
    assert rows["validators"].enabled is False
    assert "validators" not in pm.names()


def test_env_var_adds_and_disables_plugins(monkeypatch):
    monkeypatch.setenv("CORPUS_PLUGINS", "corpus.validators")
    monkeypatch.setenv("CORPUS_DISABLE_PLUGINS", "validators")
    spec = PluginSpec.from_env(entry_points=False)
    assert spec.modules == ("corpus.validators",)
    assert spec.disabled == ("validators",)


def test_every_hookspec_checked_for_pending(plugins: Plugins):
    plugins.pm.check_pending()  # raises if a registered impl matches no spec


def test_misspelt_hook_argument_is_a_plugin_error_not_a_traceback(plugins: Plugins):
    class Typo:
        @hookimpl
        def enrich(self, documnt):
            return None

    with pytest.raises(PluginError, match="documnt"):
        plugins.register(Typo(), name="typo")

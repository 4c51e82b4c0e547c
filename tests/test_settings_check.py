"""Settings are checked before any file is read: CONFIG_ERROR with file, line and type."""

from __future__ import annotations

import pytest

from corpus.config import Config, load_config
from corpus.errors import ConfigError
from corpus.hookspecs import hookimpl
from corpus.ingest import IngestOptions, run_ingest
from corpus.plugins import Plugins, PluginSpec
from corpus.settings import Setting, SettingsRegistry, check_settings, locate


def write(tmp_path, text, name="corpus.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("toml", "line", "message"),
    [
        (
            "# settings\n[plugins.validators]\nmin_body_words = '40'\n",
            3,
            "min_body_words must be an integer (at least 0), not '40'",
        ),
        (
            "[plugins.validators]\nfuture_days = 1\nmin_body_word = 40\n",
            3,
            "has no setting 'min_body_word'; did you mean 'min_body_words'?",
        ),
        ("\n[plugins.validatrs]\nx = 1\n", 2, "[plugins.validatrs]: no plugin of that name"),
        ("[plugins.validators]\nfuture_days = -1\n", 2, "at least 0"),
        ("[plugin.validators]\nx = 1\n", 1, "did you mean [plugins]?"),
    ],
)
def test_cli_stops_before_reading_with_file_line_and_type(
    run_cli, tmp_path, fixtures_dir, toml, line, message
):
    config = write(tmp_path, toml)
    out = tmp_path / "out"
    article = fixtures_dir / "articles" / "seed.txt"
    for command in (["ingest", article, "-o", out, "--no-store"], ["validate", article]):
        result = run_cli("--config", config, *command)
        assert result.exit_code == 2, result.output
        assert f"{config}:{line}: CONFIG_ERROR: " in result.output
        assert message in result.output
        assert "PLUGIN_FAILED" not in result.output and "Traceback" not in result.output
    assert not out.exists()  # nothing was read, nothing written
    result = run_cli("--config", config, "convert", article)
    assert result.exit_code == 2 and "CONFIG_ERROR" in result.output


def test_good_settings_pass_and_are_used(run_cli, tmp_path, fixtures_dir):
    config = write(tmp_path, "[plugins.validators]\nmin_body_words = 100000\n")
    result = run_cli("--config", config, "validate", fixtures_dir / "articles" / "seed.txt")
    assert result.exit_code == 0, result.output
    assert "SHORT_BODY" in result.output


def test_pyproject_tables_are_located_too(tmp_path):
    path = write(
        tmp_path,
        '[project]\nname = "x"\n\n[tool.corpus.plugins.validators]\nfuture_dayz = 3\n',
        "pyproject.toml",
    )
    config = load_config(start=tmp_path)
    with pytest.raises(ConfigError) as info:
        Plugins(PluginSpec(entry_points=False)).check_settings(config)
    error = info.value
    assert (error.code, error.path, error.line) == ("CONFIG_ERROR", str(path), 5)
    assert "[tool.corpus.plugins.validators] has no setting 'future_dayz'" in error.message


def test_the_library_ingest_checks_settings_first(tmp_path, fixtures_dir):
    options = IngestOptions(sources=(str(fixtures_dir / "articles" / "seed.txt"),))
    bad = Config(plugins={"validators": {"min_body_words": "many"}})
    with pytest.raises(ConfigError, match="must be an integer"):
        run_ingest(options, plugins=Plugins(PluginSpec(entry_points=False)), config=bad)


def test_a_disabled_plugin_keeps_its_table_and_an_undeclaring_plugin_is_not_checked():
    plugins = Plugins(PluginSpec(entry_points=False, disabled=("validators",)))
    plugins.check_settings(Config(plugins={"validators": {"anything": "goes"}}))

    class Quiet:
        @hookimpl
        def enrich(self, document):
            return None

    plugins.register(Quiet(), name="quiet")
    plugins.check_settings(Config(plugins={"quiet": {"whatever": [1, 2]}}))


def test_setting_checks():
    assert Setting(int).accepts(3) and not Setting(int).accepts(True)
    assert not Setting(int).accepts(3.5) and Setting(float).accepts(3)
    assert Setting((str, list)).accepts(["a"]) and not Setting(bool).accepts(0)
    assert not Setting(str, choices=("a", "b")).accepts("c")
    assert Setting(str, choices=("a",)).expected() == "a string (one of 'a')"


def test_locate_finds_tables_and_keys():
    text = '[plugins."my-plugin"]\n  limit = 3\n[plugins.other]\nlimit = 4\n'
    assert locate(text, ["plugins", "my-plugin"], "limit") == 2
    assert locate(text, ["plugins", "other"], "limit") == 4
    assert locate(text, ["plugins", "other"], "missing") == 3
    assert locate(text, ["plugins", "none"]) is None


class Headline:
    @hookimpl
    def register_settings(self, register):
        register("headline", {"max_words": Setting(int, minimum=1)})


def test_hook_register_settings():
    plugins = Plugins(PluginSpec(entry_points=False))
    plugins.register(Headline(), name="headline")
    plugins.check_settings(Config(plugins={"headline": {"max_words": 20}}))
    with pytest.raises(ConfigError, match=r"max_words must be an integer \(at least 1\), not 0"):
        plugins.check_settings(Config(plugins={"headline": {"max_words": 0}}))
    with pytest.raises(ConfigError, match="did you mean 'max_words'"):
        plugins.check_settings(Config(plugins={"headline": {"max_word": 20}}))
    # Two plugins declaring one table is an error naming both.
    registry = SettingsRegistry()
    registry.register_from("a")("t", {"x": int})
    with pytest.raises(ConfigError, match="declared twice: by a and by b"):
        registry.register_from("b")("t", {"x": int})
    check_settings(Config(plugins={"t": {"x": 1}}), registry, [])


@pytest.mark.parametrize(
    ("toml", "line", "message"),
    [
        ("[plugins.html-reader]\nmax_html_byte = 10\n", 2, "did you mean 'max_html_bytes'?"),
        ("[plugins.html-reader]\nmin_main_share = 'low'\n", 2, "min_main_share must be a number"),
        (
            '[plugins.html-reader.sites."news.example"]\nmian = "article"\n',
            2,
            "has no setting 'mian'; did you mean 'main'?",
        ),
        ('[plugins.html-reader.sites."news.example"]\nmain = 5\n', 2, "main must be a string"),
        ('\n[plugins.html-reader.sites."news.example"]\nmain = "##"\n', 3, "bad CSS selector"),
    ],
)
def test_html_reader_settings_are_checked_before_any_page_is_read(
    run_cli, tmp_path, fixtures_dir, toml, line, message
):
    config = write(tmp_path, toml)
    page = fixtures_dir / "html" / "harbour-bridge.html"
    result = run_cli("--config", config, "validate", page)
    assert result.exit_code == 2, result.output
    assert f"{config}:{line}: CONFIG_ERROR: " in result.output
    assert message in result.output

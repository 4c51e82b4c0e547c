"""Start-up stays cheap: loading every plugin and its commands imports no heavy library.

Each ``corpus`` command builds the whole plugin set and registers every command before it runs,
so a heavy import at the top of any built-in plugin module (or of a package it lives in) costs
every command, ``corpus --version`` included. The check runs in a fresh interpreter, because
this test process has long since imported everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from corpus.plugins import may_have_entry_points

#: Modules only the commands that need them may import (parsers, the diff engine, the store).
HEAVY = (
    "lxml",
    "rapidfuzz",
    "sqlite3",
    "jsonschema",
    "charset_normalizer",
    "corpus.diff.engine",
    "corpus.diff.text",
    "corpus.store.store",
    "corpus.pipeline",
    "importlib.metadata",
    "tomllib",
)

#: Builds the state and registers the commands exactly as ``corpus.cli.main`` does, then
#: reports which of the named modules were imported.
PROBE = """
import json, sys
import corpus.cli
args = sys.argv[2:]
state = corpus.cli.build_state(args)
state.plugins.register_commands(corpus.cli.cli)
names = sorted(corpus.cli.cli.commands)
heavy = json.loads(sys.argv[1])
loaded = sorted(m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in heavy))
print(json.dumps({"commands": names, "loaded": loaded}))
"""


def probe(*args: str, env: dict[str, str] | None = None) -> dict[str, list[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(HEAVY), *args],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return json.loads(proc.stdout)


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No plugin or settings variables from the caller; run where no corpus.toml is."""
    monkeypatch.delenv("CORPUS_PLUGINS", raising=False)
    monkeypatch.delenv("CORPUS_DISABLE_PLUGINS", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(
    "argv",
    [
        ("--version",),
        ("show", "some/key", "--store", "corpus.db"),
        ("log", "some/key"),
        ("search", "duma"),
        ("plugins",),
    ],
    ids=lambda argv: argv[0],
)
def test_loading_plugins_and_commands_imports_nothing_heavy(clean_env, argv):
    result = probe(*argv)
    # the commands of every built-in plugin are there, so every plugin module was loaded
    assert {"ingest", "diff", "show", "log", "search", "export", "plugins"} <= set(
        result["commands"]
    )
    loaded = set(result["loaded"])
    if may_have_entry_points():  # a corpus plugin is installed here: its look-up is due
        loaded -= {m for m in loaded if m.startswith("importlib.metadata")}
    assert sorted(loaded) == []


def test_the_probe_sees_heavy_imports(clean_env, tmp_path):
    # guard against a probe that could never fail: a plugin that imports lxml is reported
    (tmp_path / "heavy_plugin.py").write_text("import lxml.etree\n", encoding="utf-8")
    path = os.pathsep.join(p for p in (str(tmp_path), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path}
    result = probe("--plugin", "heavy_plugin", "plugins", env=env)
    assert "lxml" in result["loaded"]


# -- the entry-point pre-check ---------------------------------------------------------------


def make_dist(root, name: str, entry_points: str, *, info: str = "dist-info") -> None:
    """A minimal installed distribution in ``root`` with the given ``entry_points.txt``."""
    folder = root / f"{name}-1.0.{info}"
    folder.mkdir(parents=True)
    (folder / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n", encoding="utf-8"
    )
    (folder / "entry_points.txt").write_text(entry_points, encoding="utf-8")


def test_no_corpus_group_means_no_lookup(monkeypatch, tmp_path):
    # Only the standard path finder: importing some libraries (Dask's dependencies install the
    # importlib_metadata backport) adds a finder of distributions that rightly answers True.
    from importlib.machinery import PathFinder

    standard = [f for f in sys.meta_path if f is PathFinder or not hasattr(f, "find_distributions")]
    monkeypatch.setattr(sys, "meta_path", standard)
    monkeypatch.setattr(sys, "path", [str(tmp_path), str(tmp_path / "missing")])
    assert not may_have_entry_points()
    make_dist(tmp_path, "tool", "[console_scripts]\ntool = tool:main\n")
    assert not may_have_entry_points()


@pytest.mark.parametrize("header", ["[corpus]", "  [corpus]  ", "[[corpus]]"])
def test_a_corpus_group_is_seen(monkeypatch, tmp_path, header):
    monkeypatch.setattr(sys, "path", [str(tmp_path)])
    make_dist(tmp_path, "corpus-x", f"[console_scripts]\nx = x:main\n\n{header}\nx = x_plugin\n")
    assert may_have_entry_points()


def test_egg_info_and_zip_files_count(monkeypatch, tmp_path):
    egg = tmp_path / "old.egg"
    (egg / "EGG-INFO").mkdir(parents=True)
    (egg / "EGG-INFO" / "entry_points.txt").write_text("[corpus]\nold = old\n", encoding="utf-8")
    monkeypatch.setattr(sys, "path", [str(egg)])
    assert may_have_entry_points()
    archive = tmp_path / "plugins.zip"
    archive.write_bytes(b"PK\x05\x06" + b"\0" * 18)  # an empty zip: cannot be scanned cheaply
    monkeypatch.setattr(sys, "path", [str(archive)])
    assert may_have_entry_points()


def test_an_installed_entry_point_still_loads(monkeypatch, tmp_path):
    from corpus.plugins import Plugins, PluginSpec

    (tmp_path / "corpus_probe_plugin.py").write_text(
        "from corpus import hookimpl\n\n@hookimpl\ndef validate(document):\n    return []\n",
        encoding="utf-8",
    )
    make_dist(tmp_path, "corpus-probe", "[corpus]\nprobe = corpus_probe_plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    rows = {row.name: row for row in Plugins(PluginSpec()).describe()}
    assert rows["probe"].origin == "entry point"
    assert rows["probe"].version == "1.0"
    assert rows["probe"].hooks == ("validate",)
    assert rows["article"].origin == "built-in" and rows["article"].version

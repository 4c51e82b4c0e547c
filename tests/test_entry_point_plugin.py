"""A real package installed with pip, found through the ``corpus`` entry-point group."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, pip_install_private

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed_stamp(tmp_path_factory) -> Path:
    """corpus-stamp pip-installed into a private folder (not into the test environment)."""
    target = pip_install_private(
        FIXTURES / "plugins" / "corpus-stamp", tmp_path_factory.mktemp("site")
    )
    assert any(
        p.name.startswith("corpus_stamp") and p.name.endswith(".dist-info")
        for p in target.iterdir()
    )
    return target


def _env(site: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")])
    env.pop("CORPUS_PLUGINS", None)
    env.pop("CORPUS_DISABLE_PLUGINS", None)
    return env


def _corpus(site: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "corpus", *args],
        env=_env(site),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _ingest_seed_annotations(site: Path, tmp_path: Path, *options: str) -> dict:
    """Ingest the seed article in a subprocess (``options`` go before ``ingest``)."""
    out = tmp_path / "out"
    seed = str(FIXTURES / "articles" / "seed.txt")
    proc = _corpus(site, *options, "ingest", seed, "-o", str(out), "--no-store", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return json.loads((out / "seed.json").read_text(encoding="utf-8"))["annotations"]


def test_entry_point_plugin_annotation_reaches_json_output(installed_stamp, tmp_path):
    annotations = _ingest_seed_annotations(installed_stamp, tmp_path)
    assert annotations["stamp"] == {"paragraphs": 13, "stamped_by": "corpus-stamp"}


def test_entry_point_plugin_is_listed_with_its_version(installed_stamp, tmp_path):
    proc = _corpus(installed_stamp, "plugins", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = {row["name"]: row for row in json.loads(proc.stdout)}
    assert rows["stamp"]["origin"] == "entry point"
    assert rows["stamp"]["version"] == "0.3.0"
    assert rows["stamp"]["hooks"] == ["enrich"]
    assert rows["stamp"]["distribution"] == "corpus-stamp"


def test_disabled_entry_point_plugin_does_not_run(installed_stamp, tmp_path):
    annotations = _ingest_seed_annotations(installed_stamp, tmp_path, "--disable-plugin", "stamp")
    assert "stamp" not in annotations


def test_plugin_option_for_an_installed_module_loads_it_once(installed_stamp, tmp_path):
    """``--plugin MOD`` (or CORPUS_PLUGINS) for a module an entry point loads: one plugin."""
    proc = _corpus(installed_stamp, "--plugin", "corpus_stamp", "plugins", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    names = [row["name"] for row in json.loads(proc.stdout)]
    assert names.count("stamp") == 1 and "corpus_stamp" not in names
    annotations = _ingest_seed_annotations(
        installed_stamp, tmp_path, "--plugin", "corpus_stamp", "--plugin", "corpus_stamp"
    )
    assert annotations["stamp"]["stamped_by"] == "corpus-stamp"


def test_building_a_plugin_leaves_its_folder_clean(installed_stamp):
    project = FIXTURES / "plugins" / "corpus-stamp"
    assert not [p.name for p in project.iterdir() if p.name.endswith(".egg-info")]
    assert not (project / "build").exists()

"""Shared fixtures: the bundled fixtures folder, the official standards, a CLI runner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import settings

# CI draws the same examples on every run (.ci/run sets HYPOTHESIS_PROFILE=ci), so a landing
# cannot fail on a new random draw; development runs keep drawing new ones and find new cases.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def standards_dir() -> Path:
    """Where the official schemas are: $CORPUS_STANDARDS, default ../shared/standards."""
    env = os.environ.get("CORPUS_STANDARDS")
    return Path(env) if env else ROOT.parent / "shared" / "standards"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def standards() -> Path:
    """The standards folder; tests that need it skip with a clear reason when it is absent."""
    path = standards_dir()
    if not (path / "nitf" / "nitf-3-6.xsd").is_file():
        if os.environ.get("CORPUS_REQUIRE_STANDARDS"):
            pytest.fail(f"CORPUS_REQUIRE_STANDARDS is set but no schemas are at {path}")
        pytest.skip(
            f"official schemas not found at {path}: set CORPUS_STANDARDS to the folder holding "
            "nitf/, ninjs/ and newsml-g2/"
        )
    return path


@pytest.fixture(scope="session")
def nitf_schema(standards: Path):
    """The NITF 3.6 XSD, loaded offline (imports resolve relative to the file)."""
    from lxml import etree

    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.parse(str(standards / "nitf" / "nitf-3-6.xsd"), parser))


@pytest.fixture
def plugins():
    """A hermetic plugin set: built-ins only, no entry points from the environment."""
    from corpus.plugins import Plugins, PluginSpec

    return Plugins(PluginSpec(entry_points=False))


@pytest.fixture
def run_cli():
    """Run the corpus CLI in-process, the way the console script does: run_cli(args...)."""
    from corpus.cli import build_state, cli
    from corpus.errors import CorpusError

    def run(*args: str, input: str | bytes | None = None, env: dict | None = None):
        argv = [str(a) for a in args]
        saved = dict(os.environ)
        os.environ.update(env or {})  # plugins load from the environment before parsing
        try:
            state = build_state(argv)
            state.plugins.register_commands(cli)
        except CorpusError:
            state = None  # the group callback reports it as the console script does
        finally:
            os.environ.clear()
            os.environ.update(saved)
        runner = CliRunner()
        return runner.invoke(cli, argv, obj=state, input=input, env=env, catch_exceptions=False)

    return run


def assert_golden(data: bytes, golden: Path, what: str) -> bytes:
    """``data`` must equal the golden file byte for byte; CORPUS_UPDATE_GOLDEN=1 rewrites it."""
    if os.environ.get("CORPUS_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(data)
    assert golden.is_file(), f"no golden file {golden.name}: create it with CORPUS_UPDATE_GOLDEN=1"
    expected = golden.read_bytes()
    # Compared as text first, so pytest shows a readable diff.
    assert data.decode("utf-8") == expected.decode("utf-8"), (
        f"{what} output changed; if intended, regenerate with CORPUS_UPDATE_GOLDEN=1 and review "
        "the diff"
    )
    assert data == expected
    return expected


def pip_install_private(project: Path, site: Path) -> Path:
    """pip-install ``project`` (offline, no deps) into ``site``, not into the test environment.

    pip builds a local folder in place, leaving ``*.egg-info`` and ``build/`` beside the
    sources; a copy is built instead, so the project's folders stay as they are in git.
    """
    import shutil
    import subprocess
    import sys
    import tempfile

    copy = Path(tempfile.mkdtemp(prefix="corpus-build-", dir=site.parent)) / project.name
    shutil.copytree(
        project, copy, ignore=shutil.ignore_patterns("*.egg-info", "build", "__pycache__")
    )
    project = copy

    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(site), str(project)],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return site

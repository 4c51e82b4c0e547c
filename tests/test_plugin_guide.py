"""The plugin guide's example, built from the guide's own text, installed and run.

docs/plugins.md marks each complete file with a first line ``# file: PATH``. These tests copy
those blocks into a temporary folder, pip-install the package (no network, into a private
folder), and check that what the guide says happens does happen: the plugin is listed, its
annotation and warning appear on ingest, the setting removes the warning, and the guide's own
tests pass.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import pip_install_private

from corpus.testing import finding_codes, run_pipeline

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "plugins.md"
FENCE_RE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
MARKER = "# file: "
LONG_TITLE = (
    "Council approves the long-awaited plan to rebuild the old harbour wall before winter "
    "storms arrive"
)


def guide_files() -> dict[str, str]:
    """``path -> text`` of every block of the guide that starts with ``# file: PATH``."""
    files: dict[str, str] = {}
    for match in FENCE_RE.finditer(GUIDE.read_text(encoding="utf-8")):
        first = match.group(2).partition("\n")[0]
        if first.startswith(MARKER):
            path = first[len(MARKER) :].strip()
            assert path not in files, f"the guide gives {path} twice"
            files[path] = match.group(2)  # the marker is a comment in Python and TOML alike
    return files


def _pytest_plugin_args() -> list[str]:
    """``-p corpus.testing`` unless newscorpus's pytest11 entry point already loads it."""
    eps = importlib.metadata.entry_points(group="pytest11")
    return [] if any(ep.value == "corpus.testing" for ep in eps) else ["-p", "corpus.testing"]


@pytest.fixture(scope="module")
def guide_project(tmp_path_factory) -> Path:
    """The guide's files written out, as a reader following it would have them."""
    base = tmp_path_factory.mktemp("guide")
    for rel, text in guide_files().items():
        target = base / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return base


@pytest.fixture(scope="module")
def installed_guide_plugin(guide_project: Path, tmp_path_factory) -> Path:
    """The guide's package pip-installed (offline) into a private site folder."""
    return pip_install_private(guide_project / "corpus-headline", tmp_path_factory.mktemp("site"))


def _env(site: Path, standards: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORPUS_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), env.get("PYTHONPATH")) if p)
    if standards is not None:
        env["CORPUS_STANDARDS"] = str(standards)
    return env


def _corpus(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "corpus", *args],
        cwd=cwd,
        env=_env(site),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_guide_has_the_files_it_promises() -> None:
    files = guide_files()
    assert set(files) == {
        "corpus-headline/pyproject.toml",
        "corpus-headline/corpus_headline.py",
        "corpus-headline/tests/test_headline.py",
        "corpus.toml",
    }
    assert 'headline = "corpus_headline"' in files["corpus-headline/pyproject.toml"]


def test_every_python_block_of_the_guide_compiles() -> None:
    for number, match in enumerate(FENCE_RE.finditer(GUIDE.read_text(encoding="utf-8"))):
        if match.group(1) == "python":
            compile(match.group(2), f"docs/plugins.md block {number}", "exec")


def test_guide_plugin_in_process(guide_project: Path, monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(guide_project / "corpus-headline"))
    monkeypatch.delitem(sys.modules, "corpus_headline", raising=False)
    import corpus_headline

    article = f" date 2024-05-01 {LONG_TITLE}\n\nThe vote was unanimous.\n"
    result = run_pipeline(article, ("headline", corpus_headline), formats=["json"])
    assert finding_codes(result.findings, plugin="headline") == ["HEADLINE_TOO_LONG"]
    (mine,) = [f for f in result.findings if f.plugin == "headline"]
    assert "headline has 15 words (limit 12)" in mine.message
    assert mine.line == 1
    assert json.loads(result.outputs["json"])["annotations"]["headline"]["words"] == 15
    sys.modules.pop("corpus_headline", None)


@pytest.mark.slow
def test_installed_guide_plugin_is_listed(installed_guide_plugin: Path, tmp_path: Path) -> None:
    proc = _corpus(installed_guide_plugin, tmp_path, "plugins", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = {row["name"]: row for row in json.loads(proc.stdout)}
    assert rows["headline"]["origin"] == "entry point"
    assert rows["headline"]["version"] == "0.1.0"
    assert rows["headline"]["hooks"] == ["enrich", "register_settings", "validate"]
    assert rows["headline"]["enabled"] is True


@pytest.mark.slow
def test_guide_plugin_settings_are_checked(installed_guide_plugin: Path, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(" date 2024-05-01 Short\n\nBody.\n", encoding="utf-8")
    (tmp_path / "corpus.toml").write_text("[plugins.headline]\nmax_word = 20\n")
    proc = _corpus(installed_guide_plugin, tmp_path, "validate", "a.txt")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert (
        "corpus.toml:2: CONFIG_ERROR" in proc.stderr and "did you mean 'max_words'" in proc.stderr
    )


@pytest.mark.slow
def test_installed_guide_plugin_runs_on_ingest_and_reads_its_setting(
    installed_guide_plugin: Path, guide_project: Path, tmp_path: Path
) -> None:
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "harbour.txt").write_text(
        f" date 2024-05-01 {LONG_TITLE}\n\nThe vote was unanimous.\n", encoding="utf-8"
    )
    proc = _corpus(
        installed_guide_plugin, tmp_path, "ingest", "articles", "-o", "out", "--no-store"
    )
    assert proc.returncode == 0, proc.stderr
    assert "HEADLINE_TOO_LONG [headline]: headline has 15 words (limit 12)" in proc.stderr
    data = json.loads((tmp_path / "out" / "harbour.json").read_text(encoding="utf-8"))
    assert data["annotations"]["headline"] == {"words": 15, "characters": len(LONG_TITLE)}

    (tmp_path / "corpus.toml").write_text(
        (guide_project / "corpus.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    proc = _corpus(
        installed_guide_plugin, tmp_path, "ingest", "articles", "-o", "out2", "--no-store"
    )
    assert proc.returncode == 0, proc.stderr
    assert "HEADLINE_TOO_LONG" not in proc.stderr

    proc = _corpus(
        installed_guide_plugin,
        tmp_path,
        "--disable-plugin",
        "headline",
        "ingest",
        "articles",
        "-o",
        "out3",
        "--no-store",
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "out3" / "harbour.json").read_text(encoding="utf-8"))
    assert "headline" not in data["annotations"]


@pytest.mark.slow
def test_the_guides_own_tests_pass(
    installed_guide_plugin: Path, guide_project: Path, standards: Path
) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *_pytest_plugin_args()],
        cwd=guide_project / "corpus-headline",
        env=_env(installed_guide_plugin, standards),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"\b6 passed\b", proc.stdout), proc.stdout

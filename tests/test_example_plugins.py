"""The example plugins in plugins/: their own test suites, the hook contracts exercised through
them, and a real installation into a fresh virtual environment used through ``corpus ingest``.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from corpus import Block, Document, hookimpl
from corpus.testing import CorpusCLI, assert_valid_nitf, finding_codes, run_pipeline

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = ROOT / "plugins"
EXAMPLES = {
    "quotes": ("corpus-quotes", "corpus_quotes", ["enrich"]),
    "readability": (
        "corpus-readability",
        "corpus_readability",
        ["enrich", "register_settings", "validate"],
    ),
    "markdown": ("corpus-markdown", "corpus_markdown", ["register_commands", "register_exporters"]),
}
NITF_NS = "{http://iptc.org/std/NITF/2006-10-18/}"


@pytest.fixture
def example_modules(monkeypatch) -> dict[str, object]:
    """The example plugin modules, imported from their folders (not installed)."""
    import importlib

    modules = {}
    for name, (folder, module, _) in EXAMPLES.items():
        monkeypatch.syspath_prepend(str(PLUGINS / folder))
        modules[name] = importlib.import_module(module)
    return modules


@pytest.fixture
def seed(fixtures_dir: Path) -> Path:
    return fixtures_dir / "articles" / "seed.txt"


def _clean_env(*, keep_pythonpath: bool = False, **extra: str) -> dict[str, str]:
    """This environment without corpus's variables (and PYTHONPATH, for the fresh venv)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORPUS_")}
    if not keep_pythonpath:
        env.pop("PYTHONPATH", None)
    env.update(extra)
    return env


def _pytest_plugin_args() -> list[str]:
    """``-p corpus.testing`` unless newscorpus's pytest11 entry point already loads it."""
    eps = importlib.metadata.entry_points(group="pytest11")
    return [] if any(ep.value == "corpus.testing" for ep in eps) else ["-p", "corpus.testing"]


# -- each plugin's own test suite -----------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_plugin_own_test_suite_passes(name: str, standards: Path) -> None:
    folder = PLUGINS / EXAMPLES[name][0]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *_pytest_plugin_args()],
        cwd=folder,
        env=_clean_env(keep_pythonpath=True, CORPUS_STANDARDS=str(standards)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "skipped" not in proc.stdout, proc.stdout[-2000:]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_plugin_package_is_complete(name: str) -> None:
    folder, module, _ = EXAMPLES[name]
    base = PLUGINS / folder
    pyproject = (base / "pyproject.toml").read_text(encoding="utf-8")
    assert f'[project.entry-points.corpus]\n{name} = "{module}"' in pyproject
    assert (base / f"{module}.py").is_file()
    assert (base / "README.md").read_text(encoding="utf-8").startswith(f"# {folder}\n")
    assert list((base / "tests").glob("test_*.py"))


# -- the integrator's plugin machinery, driven through the examples -------------------------


def test_plugins_listing_shows_module_origin(example_modules, tmp_path: Path) -> None:
    runner = CorpusCLI(cwd=tmp_path)
    rows = {
        r["name"]: r
        for r in runner.run(
            "--plugin", "corpus_quotes", "--plugin", "corpus_markdown", "plugins", "--json"
        ).json()
    }
    assert rows["corpus_quotes"]["origin"] == "module"
    assert rows["corpus_quotes"]["hooks"] == ["enrich"]
    assert rows["corpus_markdown"]["hooks"] == ["register_commands", "register_exporters"]


def test_plugin_module_from_environment(example_modules, run_cli, tmp_path: Path, seed) -> None:
    out = tmp_path / "out"
    result = run_cli(
        "ingest", str(seed), "-o", str(out), "-f", "json", "--no-store", "-q",
        env={"CORPUS_PLUGINS": "corpus_quotes"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads((out / "seed.json").read_text(encoding="utf-8"))
    assert len(data["annotations"]["quotes"]["quotes"]) == 6


def test_disabling_an_example_plugin(example_modules, tmp_path: Path, seed) -> None:
    runner = CorpusCLI(("quotes", example_modules["quotes"]), cwd=tmp_path)
    on = runner.run("convert", str(seed), "--to", "json").json()
    off = runner.run("--disable-plugin", "quotes", "convert", str(seed), "--to", "json").json()
    assert "quotes" in on["annotations"] and "quotes" not in off["annotations"]
    assert any(s["kind"] == "quote" for b in on["blocks"] for s in b.get("spans", []))
    assert not any(s["kind"] == "quote" for b in off["blocks"] for s in b.get("spans", []))


def test_quotes_markup_reaches_nitf_and_stays_valid(
    example_modules, tmp_path: Path, seed, standards: Path
) -> None:
    from lxml import etree

    runner = CorpusCLI(("quotes", example_modules["quotes"]), cwd=tmp_path)
    result = runner.run("convert", str(seed), "--to", "nitf")
    assert result.exit_code == 0, result.stderr
    nitf = result.stdout.encode("utf-8")
    assert_valid_nitf(nitf, standards=standards)
    root = etree.fromstring(nitf, etree.XMLParser(no_network=True, resolve_entities=False))
    people = {"".join(p.itertext()) for p in root.iter(f"{NITF_NS}person")}
    quotes = ["".join(q.itertext()) for q in root.iter(f"{NITF_NS}q")]
    assert {"Mikhail Matveyev", "Oleg Smolin", "Andrey Kortunov"} <= people
    assert len(quotes) == 6 and "shocked" in quotes


class WrongType:
    """Returns a list from enrich: breaks the hook's contract."""

    @hookimpl
    def enrich(self, document):
        return ["not", "annotations"]


class Mutates:
    """Changes the frozen document in place: breaks the hook's contract."""

    @hookimpl
    def enrich(self, document):
        document.blocks[0].spans = ()


class BadFindings:
    @hookimpl
    def validate(self, document):
        return "warning: bad"


@pytest.mark.parametrize(
    ("plugin", "message"),
    [
        (WrongType(), "enrich must return a Document, a dict or None, not list"),
        (Mutates(), "tried to modify a frozen document"),
        (BadFindings(), "validate must return Finding objects, not str"),
    ],
)
def test_contract_breach_is_named_and_others_still_run(
    example_modules, seed, plugin, message
) -> None:
    result = run_pipeline(
        seed.read_bytes(),
        ("quotes", example_modules["quotes"]),
        ("broken", plugin),
        ("readability", example_modules["readability"]),
        path="seed.txt",
    )
    failed = [f for f in result.findings if f.code == "PLUGIN_FAILED"]
    assert [f.plugin for f in failed] == ["broken"]
    assert message in failed[0].message and "--disable-plugin broken" in failed[0].message
    assert result.status == "rejected"
    if result.document is not None:  # the other plugins' work is still there
        assert {"quotes", "readability"} <= set(result.document.annotations)


def test_readability_bad_setting_is_reported_through_the_cli(
    example_modules, tmp_path: Path, seed
) -> None:
    (tmp_path / "corpus.toml").write_text("[plugins.readability]\nmax_sentence_words = 0\n")
    runner = CorpusCLI(("readability", example_modules["readability"]), cwd=tmp_path)
    result = runner.run("validate", str(seed))
    # Checked before any file is read: one CONFIG_ERROR with file and line, exit 2, not a
    # PLUGIN_FAILED on every document.
    assert result.exit_code == 2, result.stderr
    assert "corpus.toml:2: CONFIG_ERROR: " in result.stderr
    assert "max_sentence_words must be an integer (at least 1), not 0" in result.stderr
    assert "PLUGIN_FAILED" not in result.stdout + result.stderr


def test_examples_together_on_the_seed(example_modules, seed) -> None:
    result = run_pipeline(
        seed.read_bytes(),
        *((name, module) for name, module in example_modules.items()),
        settings={"readability": {"max_sentence_words": 30}},
        formats=["markdown", "json"],
        path="seed.txt",
    )
    assert finding_codes(result.findings, plugin="readability") == ["READABILITY_LONG_SENTENCE"] * 3
    figures = result.document.annotations["readability"]
    assert figures["longest_sentence_words"] == 39 and figures["words"] > 300
    markdown = result.outputs["markdown"].decode("utf-8")
    assert markdown.startswith("# The Russian flag flies on the State Duma building in Moscow\n")
    assert "“unprofessionalism”" in markdown  # quote marks are text, kept as written


# -- a real installation in a fresh virtual environment -------------------------------------


def _pip_supports_python_option() -> bool:
    try:
        import pip
    except ImportError:  # pragma: no cover - no pip in this environment
        return False
    major, minor = (int(p) for p in pip.__version__.split(".")[:2])
    return (major, minor) >= (22, 3)


@pytest.fixture(scope="session")
def plugin_venv(tmp_path_factory) -> Path:
    """A new virtual environment with newscorpus and the three example plugins installed
    from their folders with pip, the way a user installs them. Returns its bin folder."""
    base = tmp_path_factory.mktemp("venv")
    env_dir = base / "env"
    sources = []
    for folder, _, _ in EXAMPLES.values():  # copies: builds leave nothing in the work tree
        sources.append(
            shutil.copytree(
                PLUGINS / folder,
                base / folder,
                ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"),
            )
        )
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    if _pip_supports_python_option():  # fast: no pip inside the new environment
        venv.create(env_dir, with_pip=False)
        pip = [sys.executable, "-m", "pip", "--python", str(python)]
    else:  # pragma: no cover - old pip
        venv.create(env_dir, with_pip=True)
        pip = [str(python), "-m", "pip"]
    # Build requirements once, then build without isolation: one set of setuptools instead
    # of one per package (about 20 s instead of 35 s).
    requires = sorted({r for src in (ROOT, *sources) for r in _build_requires(src)})
    for args in (requires, ["--no-build-isolation", str(ROOT), *map(str, sources)]):
        proc = subprocess.run(
            [*pip, "install", "--quiet", "--disable-pip-version-check", *args],
            env=_clean_env(),
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert proc.returncode == 0, f"pip install {args} failed:\n{proc.stdout}\n{proc.stderr}"
    return bindir


def _build_requires(project: Path) -> list[str]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    data = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    return list(data.get("build-system", {}).get("requires", ["setuptools", "wheel"]))


def _corpus(bindir: Path, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    exe = bindir / ("corpus.exe" if os.name == "nt" else "corpus")
    return subprocess.run(
        [str(exe), *args],
        cwd=cwd,
        env=_clean_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_installed_plugins_are_listed(plugin_venv: Path, tmp_path: Path) -> None:
    proc = _corpus(plugin_venv, tmp_path, "plugins", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = {row["name"]: row for row in json.loads(proc.stdout)}
    for name, (folder, _, hooks) in EXAMPLES.items():
        assert rows[name]["origin"] == "entry point"
        assert rows[name]["version"] == "0.1.0"
        assert rows[name]["distribution"] == folder
        assert rows[name]["hooks"] == hooks
        assert rows[name]["enabled"] is True
    assert rows["nitf"]["origin"] == "built-in"


@pytest.mark.slow
def test_installed_plugins_run_on_ingest(
    plugin_venv: Path, tmp_path: Path, seed: Path, standards: Path
) -> None:
    (tmp_path / "in").mkdir()
    shutil.copy(seed, tmp_path / "in" / "seed.txt")
    (tmp_path / "corpus.toml").write_text("[plugins.readability]\nmax_sentence_words = 30\n")
    proc = _corpus(
        plugin_venv,
        tmp_path,
        "ingest", "in", "-o", "out", "-f", "nitf", "-f", "json", "-f", "markdown", "--no-store",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("READABILITY_LONG_SENTENCE [readability]") == 3

    data = json.loads((tmp_path / "out" / "seed.json").read_text(encoding="utf-8"))
    speakers = [q["speaker"] for q in data["annotations"]["quotes"]["quotes"]]
    assert speakers.count("Andrey Kortunov") == 2 and "Mikhail Matveyev" in speakers
    assert data["annotations"]["readability"]["longest_sentence_words"] == 39

    nitf = (tmp_path / "out" / "seed.xml").read_bytes()  # the nitf exporter's extension
    assert_valid_nitf(nitf, standards=standards)
    assert b"shocked</q>" in nitf and b"Oleg Smolin</person>" in nitf
    assert (tmp_path / "out" / "seed.md").read_text(encoding="utf-8").startswith("# The Russian")

    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["totals"]["codes"] == {"READABILITY_LONG_SENTENCE": 3}


@pytest.mark.slow
def test_installed_plugin_command_and_disabling(plugin_venv: Path, tmp_path: Path, seed) -> None:
    proc = _corpus(plugin_venv, tmp_path, "md-preview", str(seed))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("# The Russian flag flies on the State Duma building")

    proc = _corpus(plugin_venv, tmp_path, "--disable-plugin", "quotes", "convert", str(seed))
    assert proc.returncode == 0, proc.stderr
    assert "quotes" not in json.loads(proc.stdout)["annotations"]

    proc = _corpus(
        plugin_venv, tmp_path, "convert", str(seed), CORPUS_DISABLE_PLUGINS="readability,quotes"
    )
    annotations = json.loads(proc.stdout)["annotations"]
    assert "readability" not in annotations and "quotes" not in annotations

    proc = _corpus(plugin_venv, tmp_path, "--disable-plugin", "markdown", "md-preview", str(seed))
    assert proc.returncode == 2  # the command is gone with its plugin


_TEXT = st.lists(
    st.sampled_from(
        ["The", "cat", "U.S.", "don't", "co-op", "3.5", "“Yes.”", "(no)", "—", "Él", "[A"]
        + ["3,000", "and/or", "_", "—x—", "’90s"]
    )
    | st.sampled_from([" ", "  ", ". ", "! ", "? ", ".” ", "\n", ", ", "?! ", ".) ", ".’ ", "] "]),
    max_size=40,
).map("".join)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(texts=st.lists(_TEXT, min_size=1, max_size=3))
@example(texts=["The cat. [A", "Yes? Él ", "cat.\nThe"])  # sentence ends just before the end
def test_readability_fast_analysis_equals_splitting_then_counting(example_modules, texts):
    """The fast scan (sentence ends, then a per-token cache) agrees with the plain definition."""
    readability = example_modules["readability"]
    found, n_syllables = readability._analysis.__wrapped__(tuple(texts))
    expected = [
        (n, len(readability.words(s))) for n, text in enumerate(texts)
        for s in readability.sentences(text)
    ]  # fmt: skip
    assert found == expected
    every = [w for text in texts for w in readability.words(text)]
    assert n_syllables == sum(readability.syllables(w) for w in every)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(texts=st.lists(_TEXT, min_size=1, max_size=3))
def test_readability_syllable_cache_equals_counting_each_word(example_modules, texts):
    """measure() sums syllables through a per-word cache: same total, and the cache is bounded."""
    readability = example_modules["readability"]
    document = Document(key="t", title="T", blocks=[Block(text) for text in texts])
    plain = sum(readability.syllables(w) for text in texts for w in readability.words(text))
    assert readability.measure(document)["syllables"] == plain
    cache = readability._SyllableCache()
    cache.limit = 3
    for word in ("one", "seven", "eleven", "seventeen"):
        assert cache[word] == readability.syllables(word)
        assert len(cache) <= 3
    assert cache["“seven,”"] == 2 and cache["—"] == 0  # a token's word; 0: no word at all


def _people_reference(quotes, text, known):
    """corpus-quotes' find_people as first written: every capitalised run, in order."""
    for run in quotes._RUN_RE.finditer(text):
        words = list(quotes._WORD_RE.finditer(run.group()))
        titles = [i for i, w in enumerate(words) if w.group() in quotes._TITLES]
        titled = bool(titles)
        if titles:
            words = words[titles[-1] + 1 :]
        while words and words[0].group() in quotes._LEADING:
            words.pop(0)
        if not words or len(words) > 3:
            continue
        names = [w.group() for w in words]
        if any(n in quotes._NON_PERSON for n in names):
            continue
        start = run.start() + words[0].start()
        end = run.start() + words[-1].end()
        if len(names) == 1:
            full = known.get(names[0])
            if full is None and not titled:
                continue
            yield start, end, full or names[0]
            continue
        if titled or quotes._APPOSITION_RE.match(text[end:]) or " ".join(names) in known.values():
            full = " ".join(names)
            known.setdefault(names[-1], full)
            yield start, end, full


_NAMES_TEXT = st.lists(
    st.sampled_from(
        ["Vladimir", "Putin", "Mr", "The", "Kremlin", "Anna", "Smith", "McDonald", "Jean-Luc",
         "said", "he", "met", ", a", "Friday", "Former", "Olaf", "Scholz", "Émile", "×Ab"]
    )
    | st.sampled_from([" ", " ", ". ", ", ", "\u00a0", "-"]),
    max_size=30,
).map("".join)  # fmt: skip


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(texts=st.lists(_NAMES_TEXT, min_size=1, max_size=3))
@example(texts=["Vladimir Putin, a former spy. Then Putin said", "Putin met Mr Smith. Smith"])
@example(texts=["he met Émile Zola, a writer", "Zola said"])
def test_quotes_fast_people_scan_equals_the_plain_one(example_modules, texts):
    quotes = example_modules["quotes"]
    fast_known: dict[str, str] = {}
    plain_known: dict[str, str] = {}
    for text in texts:  # one document: names known from earlier paragraphs carry over
        fast = list(quotes.find_people(text, fast_known))
        assert fast == list(_people_reference(quotes, text, plain_known)), text
        assert fast_known == plain_known

"""The ingest flow is one-way: plan -> execute -> commit, composed by corpus.ingest.

Each stage's modules import only their own stage, the stage just before, and shared leaf
modules; never a later stage (docs/architecture.md, *The ingest stages*). Imports are read
from the source with ``ast``, including those inside functions and under TYPE_CHECKING, so a
lazy import cannot hide a climb back up.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "corpus"

PLAN, EXECUTE, COMMIT, COMPOSE = 1, 2, 3, 4
STAGES = {
    "corpus.listing": PLAN,
    "corpus.selection": PLAN,
    "corpus.archives": PLAN,
    "corpus.plan": PLAN,
    "corpus.staging": EXECUTE,
    "corpus.workers": EXECUTE,
    "corpus.ordered": EXECUTE,
    "corpus.executors": EXECUTE,
    "corpus.shards": EXECUTE,
    "corpus.dask_executor": EXECUTE,
    "corpus.execute": EXECUTE,
    "corpus.outputs": COMMIT,
    "corpus.report": COMMIT,
    "corpus.commit": COMMIT,
    "corpus.ingest": COMPOSE,
}
#: What every stage may use: the vocabulary passed between stages and the plugin machinery.
LEAVES = {
    "corpus",
    "corpus.items",
    "corpus.layout",
    # One input through reader, plugins and exporters: a library the stages use (and
    # validate, diff...), which knows nothing of ingest.
    "corpus.pipeline",
    "corpus.model",
    "corpus.errors",
    "corpus.config",
    "corpus.settings",
    "corpus.formats",
    "corpus.hookspecs",
    "corpus.plugins",
}

#: Libraries only the composer opens and hands to the stages as objects (the plan stage asks
#: the store what it has, the commit stage records in it).
COMPOSED = {"corpus.store", "corpus.fingerprint"}


def corpus_imports(module: str, source: str) -> set[str]:
    """The corpus modules ``module`` imports anywhere in ``source`` (relative ones resolved)."""
    package = module.rsplit(".", 1)[0] if module != "corpus" else "corpus"
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "corpus")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            if name.split(".")[0] != "corpus":
                continue
            if node.module is None or name == "corpus":  # from . import x: x may be a module
                for alias in node.names:
                    candidate = f"{name}.{alias.name}"
                    known = candidate in STAGES or candidate in LEAVES
                    found.add(candidate if known else name)
            else:
                found.add(name)
    return found


def violations(module: str, source: str) -> list[str]:
    """Why ``module``'s imports break the one-way flow (empty when they do not)."""
    stage = STAGES.get(module)
    problems = []
    for imported in sorted(corpus_imports(module, source)):
        if imported == module:
            continue
        if module in LEAVES:
            if imported in STAGES:
                problems.append(f"leaf {module} imports the stage module {imported}")
            continue
        if imported in LEAVES:
            continue
        if imported in COMPOSED and stage == COMPOSE:
            continue
        if imported not in STAGES:
            problems.append(f"{module} imports {imported}, which is neither a stage nor a leaf")
            continue
        other = STAGES[imported]
        if stage is not None and other > stage:
            problems.append(f"{module} (stage {stage}) imports the later {imported} ({other})")
        elif stage is not None and stage != COMPOSE and other < stage - 1:
            problems.append(f"{module} (stage {stage}) reaches past the stage before: {imported}")
    return problems


def module_source(module: str) -> str:
    parts = module.split(".")[1:]
    path = PACKAGE.joinpath(*parts).with_suffix(".py") if parts else PACKAGE / "__init__.py"
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("module", sorted(STAGES) + sorted(LEAVES - {"corpus"}))
def test_ingest_stages_import_only_backwards(module):
    assert violations(module, module_source(module)) == []


def test_every_module_the_stages_import_is_classified():
    """A new module the stages use must be placed, or it could hide a climb."""
    for module in STAGES:
        for imported in corpus_imports(module, module_source(module)):
            assert imported in STAGES or imported in LEAVES or imported in COMPOSED, (
                module,
                imported,
            )


@pytest.mark.parametrize(
    ("module", "source", "why"),
    [
        ("corpus.plan", "from .commit import commit_results", "imports the later"),
        ("corpus.execute", "def f():\n    from .outputs import OutputWriter", "imports the later"),
        (
            "corpus.report",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from .ingest import IngestOptions",
            "imports the later",
        ),  # fmt: skip
        ("corpus.commit", "from .listing import InputFile", "reaches past the stage before"),
        ("corpus.items", "from . import shards", "leaf corpus.items imports the stage"),
        ("corpus.plan", "from .newthing import x", "neither a stage nor a leaf"),
    ],
)
def test_the_check_catches_a_climb(module, source, why):
    (problem,) = violations(module, source)
    assert why in problem


def test_ingest_runs_the_stages_in_order():
    """run_ingest composes the three stages; the stage modules never call the composer."""
    source = module_source("corpus.ingest")
    for stage_function in ("plan_inputs", "execute_items", "commit_results"):
        assert stage_function in source
    for module in STAGES:
        if module != "corpus.ingest":
            assert "corpus.ingest" not in corpus_imports(module, module_source(module))

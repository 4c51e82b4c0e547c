"""Golden tests: each hand-made version pair in fixtures/diff/ and its expected operations.

Set CORPUS_UPDATE_GOLDEN=1 to rewrite expected.json after a deliberate change, then review the
git diff of the golden files before committing them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from corpus.diff import apply_diff, diff_documents, reverse_diff
from corpus.pipeline import read_path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "diff"
PAIRS = sorted(p.name for p in FIXTURES.iterdir() if (p / "old.txt").is_file())


def expected_operations(diff) -> dict:
    """The part of a diff a person checks by eye: operations, changed words, classes."""
    paragraphs = []
    for op in diff.paragraphs:
        entry = {"op": op.op, "old": list(op.old), "new": list(op.new)}
        if op.cls:
            entry["class"] = op.cls
        if op.changes:
            entry["changes"] = [
                [c.op, c.old, c.new, c.cls] + (["moved"] if c.moved else []) for c in op.changes
            ]
        paragraphs.append(entry)
    return {
        "summary_line": diff.summary_line(),
        "header": [
            {"field": h.field, "old": h.old, "new": h.new, "class": h.cls} for h in diff.header
        ],
        "paragraphs": paragraphs,
        "summary": diff.summary.to_dict(),
    }


def _dump(data: dict) -> str:
    """Pretty JSON with one paragraph operation per line, easy to review in a diff."""
    ops = ",\n    ".join(json.dumps(op, ensure_ascii=False) for op in data["paragraphs"])
    rest = {k: v for k, v in data.items() if k != "paragraphs"}
    text = json.dumps(rest, ensure_ascii=False, indent=2)
    return text[:-2] + f',\n  "paragraphs": [\n    {ops}\n  ]\n}}\n'


def read_pair(name: str, plugins):
    folder = FIXTURES / name
    old = read_path(folder / "old.txt", root=folder, plugins=plugins).document
    new = read_path(folder / "new.txt", root=folder, plugins=plugins).document
    return old, new


def test_enough_pairs():
    assert len(PAIRS) >= 15


@pytest.mark.parametrize("name", PAIRS)
def test_pair_matches_golden(name, plugins):
    old, new = read_pair(name, plugins)
    got = expected_operations(diff_documents(old, new))
    golden = FIXTURES / name / "expected.json"
    if os.environ.get("CORPUS_UPDATE_GOLDEN"):
        golden.write_text(_dump(got), encoding="utf-8")
    assert got == json.loads(golden.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", PAIRS)
def test_pair_round_trips(name, plugins):
    old, new = read_pair(name, plugins)
    d = diff_documents(old, new)
    assert apply_diff(old, d).content_dict() == new.content_dict()
    assert apply_diff(new, reverse_diff(d)).content_dict() == old.content_dict()


def _ops(name, plugins):
    return [op.op for op in diff_documents(*read_pair(name, plugins)).paragraphs]


def test_named_cases_have_their_operation(plugins):
    """Independent of the goldens: the headline operation of each named case."""
    assert _ops("03_paragraph_moved_up", plugins).count("move") == 1
    assert "delete" not in _ops("03_paragraph_moved_up", plugins)
    assert _ops("04_paragraph_split", plugins).count("split") == 1
    assert _ops("05_paragraphs_merged", plugins).count("merge") == 1
    assert _ops("14_moved_and_edited", plugins).count("move") == 1
    assert set(_ops("13_identical", plugins)) == {"equal"}
    stub = _ops("10_truncated_stub", plugins)
    assert stub.count("delete") == 12 and stub.count("equal") == 1
    live = _ops("08_liveblog_update_top", plugins)
    assert live[:2] == ["insert", "insert"] and set(live[2:]) == {"equal"}
    d = diff_documents(*read_pair("09_cosmetic_only", plugins))
    assert d.is_cosmetic and d.summary.substantive_changes == 0
    d = diff_documents(*read_pair("17_numbers_changed", plugins))
    assert {c.old for op in d.paragraphs for c in op.changes} == {"3.5", "12"}
    assert all(c.cls == "substantive" for op in d.paragraphs for c in op.changes)

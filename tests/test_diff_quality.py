"""The diff-quality benchmark's scorer (bench/diff_quality.py), and corpus.diff against it.

The scorer is tested on a small synthetic gold file; the accuracy check on the real human-made
gold runs only where the development data is (``CORPUS_DIFFGOLD``, default
``../shared/diffgold`` beside the repository), and skips with the reason otherwise.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "fixtures" / "diffgold-mini.json"


def _load_bench():
    spec = importlib.util.spec_from_file_location(
        "diff_quality", ROOT / "bench" / "diff_quality.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["diff_quality"] = module
    spec.loader.exec_module(module)
    return module


q = _load_bench()


def test_load_gold_reads_tokens_spans_and_levels():
    pairs = q.load_gold(MINI)
    assert [p.id for p in pairs] == ["0", "1", "2"]
    assert pairs[0].old[3] == "low-energy" and pairs[0].new[3:5] == ["low", "energy"]
    assert pairs[0].edits == [((3, 4), (3, 5)), ((7, 8), (8, 9))]
    assert pairs[1].edits == [(None, (0, 3)), ((2, 7), None), (None, (5, 6))]
    assert [p.level for p in pairs] == ["easy", "hard", "easy"]
    assert pairs[2].edits == []


def test_score_pair_counts_tokens_and_exact_spans():
    gold = [((0, 2), (0, 1)), (None, (4, 5))]
    system = [((1, 2), (0, 1)), (None, (4, 5)), ((6, 7), None)]
    c = q.score_pair(gold, system)
    assert (c.tp, c.fp, c.fn) == ([1, 2], [1, 0], [1, 0])
    assert (c.span_tp, c.span_sys, c.span_gold) == (1, 3, 2)
    s = c.scores()
    assert s["span_precision"] == round(1 / 3, 4) and s["span_recall"] == 0.5
    assert s["token_f1"] == round(2 * 0.75 * 0.75 / 1.5, 4)


def test_character_changes_map_to_whole_tokens():
    pair = q.load_gold(MINI)[0]
    # "low-energy" -> "low energy": the dash became a space; both new tokens changed.
    # "Fig." -> "Figure": a change inside a token counts the token whole.
    old = pair.old_text
    dash = old.index("-energy")
    fig = old.index("Fig.")
    changes = [
        (dash, dash + 1, dash, dash + 1),
        (fig + 3, fig + 4, fig + 3, fig + 6),
    ]
    assert q.char_changes_to_edits(pair, changes) == pair.edits


def test_glued_insertion_changes_the_word_it_touches():
    pair = q.Pair("x", ["et", "al", "say"], ["et", "al.", "say"], [])
    pos = len("et al")
    assert q.char_changes_to_edits(pair, [(pos, pos, pos, pos + 1)]) == [((1, 2), (1, 2))]


def test_moved_changes_are_no_edits_and_keep_their_tokens():
    pair = q.Pair(
        "x",
        ["in", "this", "paper", "we", "show", "it"],
        ["we", "show", "it", "in", "this", "paper"],
        [],
    )
    old, new = pair.old_text, pair.new_text
    changes = [(0, len("in this paper "), 0, 0), (len(old), len(old), len("we show it"), len(new))]
    assert len(q.char_changes_to_edits(pair, changes)) == 2
    assert q.char_changes_to_edits(pair, changes, [True, True]) == []


def test_a_capital_forced_by_a_new_sentence_start_is_no_edit():
    pair = q.Pair("x", ["We", "use", "it", "."], ["Here", ",", "we", "use", "It", "."], [])
    recased = ((0, 1), (2, 3))
    inserted = (None, (0, 2))
    mid = ((2, 3), (4, 5))  # "it" -> "It" in mid-sentence: a real edit
    assert q.without_forced_case(pair, [inserted, recased, mid]) == [inserted, mid]
    # The rule looks at tokens only, whichever system made the edits.
    moved = q.Pair("y", ["In", "short", ",", "all", "is", "well"], ["All", "is", "well"], [])
    assert q.without_forced_case(moved, [((0, 3), None), ((3, 4), (0, 1))]) == [((0, 3), None)]


def test_difflib_and_corpus_agree_with_the_simple_pair():
    pair = q.load_gold(MINI)[0]
    assert q.difflib_system(pair) == pair.edits
    assert q.corpus_system(pair) == pair.edits
    assert q.corpus_system(q.load_gold(MINI)[2]) == []


def test_parse_porcelain():
    output = (
        "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n"
        " We use a\n-low-energy\n+low energy\n  beam , see\n-Fig.\n+Figure\n  [REF] .\n~\n"
    )
    assert q.parse_porcelain(output) == [((3, 4), (3, 5)), ((7, 8), (8, 9))]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_system_on_the_simple_pair():
    git = q.GitSystem(shutil.which("git"))
    try:
        assert git(q.load_gold(MINI)[0]) == q.load_gold(MINI)[0].edits
    finally:
        git.close()


def test_main_prints_json_for_every_system(capsys):
    assert q.main(["--gold", str(MINI), "--json", "--no-git", "--worst", "2"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["systems"]) == {"corpus", "word_changes", "difflib"}
    assert result["systems"]["difflib"]["easy"]["token_f1"] == 1.0
    assert result["systems"]["corpus"]["all"]["pairs"] == 3
    assert len(result["worst"]) == 2 and result["worst"][0]["id"] == "1"


def _gold_dir() -> Path:
    return (ROOT / os.environ.get("CORPUS_DIFFGOLD", "../shared/diffgold")).resolve()


def test_corpus_diff_beats_the_token_baselines_on_dev():
    gold = _gold_dir() / "arxivedits-dev.json"
    if not gold.is_file():
        pytest.skip(f"no diff gold data at {gold} (set CORPUS_DIFFGOLD)")
    pairs = q.load_gold(gold)
    systems = {"corpus": q.corpus_system, "difflib": q.difflib_system}
    plain = q.evaluate(pairs, systems, worst=0)
    ours, base = plain["systems"]["corpus"], plain["systems"]["difflib"]
    for subset in ("all", "hard"):
        assert ours[subset]["token_f1"] > base[subset]["token_f1"]
        assert ours[subset]["span_f1"] > base[subset]["span_f1"]
    # Plain scoring (the gold README's): the targets, 0.96 and 0.70 (measured 0.9612
    # and 0.7056; docs/diff.md).
    assert ours["all"]["token_f1"] >= 0.96
    assert ours["all"]["span_f1"] >= 0.70
    # With --forced-case (docs/diff.md): 0.968 and 0.719 when measured.
    forced = q.evaluate(pairs, systems, worst=0, forced_case=True)["systems"]["corpus"]
    assert forced["all"]["token_f1"] >= 0.965
    assert forced["all"]["span_f1"] >= 0.715

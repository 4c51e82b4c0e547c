"""Benchmark: the diff's sentence splitter against pysbd and syntok, for accuracy and speed.

Accuracy is measured on ``tests/fixtures/sentences.json``: cases written for the traps of news
and scientific text (titles, initials, "U.S.", "No. 10", "e.g.", "Fig. 3", "et al.", decimals,
ellipses, quotes closing after the full stop). A case counts when every sentence comes out
exactly; boundary precision and recall are given too. Speed is measured on the same text
repeated, as one paragraph per case, in characters per second and as a ratio to corpus's
splitter in the same run (best of ``--repeat`` runs).

Run: ``python bench/sentences.py`` (needs ``pysbd`` and ``syntok``: ``pip install -e '.[bench]'``;
a missing one is skipped with a note).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from corpus.diff.sentences import sentence_bounds  # noqa: E402

CASES = ROOT / "tests" / "fixtures" / "sentences.json"

Splitter = Callable[[str], list[str]]


def corpus_split(text: str) -> list[str]:
    return [text[s:e].strip() for s, e in sentence_bounds(text)]


def _pysbd() -> Splitter | None:
    try:
        import pysbd
    except ImportError:
        return None
    segmenter = pysbd.Segmenter(language="en", clean=False)
    return lambda text: [s.strip() for s in segmenter.segment(text) if s.strip()]


def _syntok() -> Splitter | None:
    try:
        from syntok import segmenter
    except ImportError:
        return None

    def split(text: str) -> list[str]:
        out = []
        for paragraph in segmenter.analyze(text):
            for sentence in paragraph:
                start = sentence[0].offset
                end = sentence[-1].offset + len(sentence[-1].value)
                out.append(text[start:end].strip())
        return out

    return split


def _cuts(sentences: list[str]) -> set[int]:
    """Boundary positions (in characters of the joined text) between sentences."""
    out, pos = set(), 0
    for s in sentences[:-1]:
        pos += len(s) + 1
        out.add(pos)
    return out


def accuracy(split: Splitter, cases: list[list[str]]) -> dict:
    exact = tp = fp = fn = 0
    wrong = []
    for case in cases:
        text = " ".join(case)
        got = split(text)
        if got == case:
            exact += 1
        else:
            wrong.append({"expected": case, "got": got})
        want_cuts, got_cuts = _cuts(case), _cuts(got) if " ".join(got) == text else set()
        if " ".join(got) != text:  # the splitter changed the text: count by sentence sets
            got_set, want_set = set(got), set(case)
            tp += len(got_set & want_set)
            fp += len(got_set - want_set)
            fn += len(want_set - got_set)
            continue
        tp += len(want_cuts & got_cuts)
        fp += len(got_cuts - want_cuts)
        fn += len(want_cuts - got_cuts)
    return {
        "cases": len(cases),
        "exact": exact,
        "boundary_precision": round(tp / (tp + fp), 3) if tp + fp else 1.0,
        "boundary_recall": round(tp / (tp + fn), 3) if tp + fn else 1.0,
        "wrong": wrong,
    }


def speed(split: Splitter, paragraphs: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for p in paragraphs:
            split(p)
        best = min(best, time.perf_counter() - started)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--copies", type=int, default=25, help="copies of the cases timed")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--show-wrong", action="store_true", help="list the cases missed")
    args = parser.parse_args(argv)
    cases = json.loads(CASES.read_text(encoding="utf-8"))
    paragraphs = [" ".join(c) for c in cases] * args.copies
    chars = sum(len(p) for p in paragraphs)
    systems: dict[str, Splitter | None] = {
        "corpus": corpus_split,
        "pysbd": _pysbd(),
        "syntok": _syntok(),
    }
    result: dict = {"chars_timed": chars, "systems": {}, "notes": []}
    base = None
    for name, split in systems.items():
        if split is None:
            result["notes"].append(f"{name} is not installed: skipped")
            continue
        acc = accuracy(split, cases)
        seconds = speed(split, paragraphs, args.repeat)
        base = base or seconds
        result["systems"][name] = {
            **{k: v for k, v in acc.items() if args.show_wrong or k != "wrong"},
            "seconds": round(seconds, 4),
            "chars_per_second": round(chars / seconds),
            "time_ratio": round(seconds / base, 1),
        }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{len(cases)} cases; speed on {chars} characters, best of {args.repeat}")
    print(f"{'splitter':<9}{'exact':>8}{'bP':>7}{'bR':>7}{'chars/s':>12}{'x corpus':>10}")
    for name, r in result["systems"].items():
        print(
            f"{name:<9}{r['exact']:>5}/{r['cases']:<2}{r['boundary_precision']:>7.3f}"
            f"{r['boundary_recall']:>7.3f}{r['chars_per_second']:>12,}{r['time_ratio']:>10.1f}"
        )
        for w in r.get("wrong", []):
            print(f"    expected {w['expected']}\n    got      {w['got']}")
    for note in result["notes"]:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

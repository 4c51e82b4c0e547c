"""Benchmark: corpus.diff against difflib and diff-match-patch on synthetic version pairs.

Builds article pairs of about 5 KB, 100 KB and 1 MB (paragraphs of one to four sentences;
about 10% of paragraphs edited, 1% moved, 1% inserted, 1% deleted), then times, each on the
same pair:

- ``corpus``: ``corpus.diff.diff_documents`` (paragraphs, sentences, words, classes, summary);
- ``difflib``: ``SequenceMatcher(None, old_words, new_words, autojunk=False).get_opcodes()``;
- ``dmp``: diff-match-patch ``diff_main`` (line speed-up on, ``Diff_Timeout = 0``) then
  ``diff_cleanupSemantic``.

Run: ``python bench/diff.py`` (``--sizes 5000,100000`` to choose, ``--no-difflib`` to skip the
slow one, ``--scaling`` for corpus.diff alone on doubling sizes). Needs ``diff-match-patch``.
Timings are the best of ``--repeat`` runs (default 3), in milliseconds.
"""

from __future__ import annotations

import argparse
import difflib
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from corpus.diff import diff_documents  # noqa: E402
from corpus.model import Block, Document  # noqa: E402

_SYLLABLES = (
    *("ka", "to", "ri", "sen", "mo", "la", "de", "vi", "an", "os"),
    *("tre", "pul", "gor", "in", "na", "be", "che", "ul", "sta", "mi"),
)


def _vocabulary(rng: random.Random, n: int = 4000) -> list[str]:
    words = {"".join(rng.choices(_SYLLABLES, k=rng.randint(1, 4))) for _ in range(n * 2)}
    return sorted(words)[:n]


def _sentence(rng: random.Random, vocab: list[str]) -> str:
    n = rng.randint(8, 25)
    # Zipf-like: common words are common, as in news text.
    words = [vocab[min(int(rng.paretovariate(1.1)) - 1, len(vocab) - 1)] for _ in range(n)]
    words[0] = words[0].capitalize()
    if rng.random() < 0.3:
        words.insert(rng.randint(1, n - 1), ",")
    return " ".join(words).replace(" ,", ",") + rng.choice([".", ".", ".", "?", "!"])


def _paragraph(rng: random.Random, vocab: list[str]) -> str:
    return " ".join(_sentence(rng, vocab) for _ in range(rng.randint(1, 4)))


def _edit(rng: random.Random, vocab: list[str], text: str) -> str:
    words = text.split(" ")
    for _ in range(rng.randint(1, 3)):
        k = rng.randrange(len(words))
        action = rng.random()
        if action < 0.4:
            words[k] = rng.choice(vocab)
        elif action < 0.7:
            words.insert(k, rng.choice(vocab))
        elif len(words) > 3:
            del words[k]
    if rng.random() < 0.2:
        words.append(_sentence(rng, vocab))
    return " ".join(words)


def make_pair(size: int, seed: int = 1) -> tuple[Document, Document]:
    """An old/new article pair whose old body is about ``size`` characters."""
    rng = random.Random(seed)
    vocab = _vocabulary(rng)
    paragraphs: list[str] = []
    total = 0
    while total < size:
        p = _paragraph(rng, vocab)
        paragraphs.append(p)
        total += len(p) + 2
    new = list(paragraphs)
    n = len(new)
    for k in rng.sample(range(n), max(1, n // 10)):
        new[k] = _edit(rng, vocab, new[k])
    for _ in range(max(1, n // 100)):
        src = rng.randrange(len(new))
        new.insert(rng.randrange(len(new)), new.pop(src))
    for _ in range(max(1, n // 100)):
        del new[rng.randrange(len(new))]
    for _ in range(max(1, n // 100)):
        new.insert(rng.randrange(len(new) + 1), _paragraph(rng, vocab))
    title = _sentence(rng, vocab)
    old_doc = Document("bench", title=title, blocks=[Block(p) for p in paragraphs])
    new_doc = Document("bench", title=title, blocks=[Block(p) for p in new])
    return old_doc, new_doc


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def run(
    sizes: list[int],
    repeat: int,
    with_difflib: bool,
    with_dmp: bool,
    difflib_max: int = 100_000,
) -> list[dict]:
    rows = []
    dmp = None
    if with_dmp:
        try:
            import diff_match_patch
        except ImportError:
            print(
                "diff-match-patch is not installed: pip install diff-match-patch", file=sys.stderr
            )
            with_dmp = False
        else:
            dmp = diff_match_patch.diff_match_patch()
            dmp.Diff_Timeout = 0
    for size in sizes:
        old, new = make_pair(size)
        old_text, new_text = old.body_text, new.body_text
        row: dict = {"size": len(old_text.encode()), "paragraphs": len(old.blocks)}
        row["corpus_ms"] = _best(lambda o=old, n=new: diff_documents(o, n), repeat)
        summary = diff_documents(old, new).summary
        row["edited"] = summary.paragraphs_edited
        row["moved"] = summary.paragraphs_moved
        if with_difflib and size <= difflib_max:
            a, b = old_text.split(), new_text.split()
            row["difflib_ms"] = _best(
                lambda a=a, b=b: difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes(),
                1 if size > 200_000 else repeat,
            )
        if with_dmp and dmp is not None:

            def run_dmp(x=old_text, y=new_text):
                diffs = dmp.diff_main(x, y)  # checklines (line speed-up) is on by default
                dmp.diff_cleanupSemantic(diffs)

            row["dmp_ms"] = _best(run_dmp, repeat)
        rows.append(row)
        print(_format(row), flush=True)
    return rows


def _format(row: dict) -> str:
    parts = [f"{row['size'] / 1000:>8.1f} KB", f"{row['paragraphs']:>6} paras"]
    for name in ("corpus_ms", "difflib_ms", "dmp_ms"):
        if name in row:
            parts.append(f"{name.split('_')[0]} {row[name]:>9.1f} ms")
    return "  ".join(parts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-difflib", action="store_true")
    parser.add_argument("--no-dmp", action="store_true")
    parser.add_argument(
        "--difflib-max",
        type=int,
        default=100_000,
        help="skip difflib above this size (it is quadratic: 30 s at 100 KB here)",
    )
    parser.add_argument(
        "--scaling", action="store_true", help="corpus.diff alone, sizes doubling 125 KB..2 MB"
    )
    args = parser.parse_args(argv)
    if args.scaling:
        sizes = [125_000 * 2**k for k in range(5)]
        rows = run(sizes, args.repeat, False, False)
        for a, b in zip(rows, rows[1:], strict=False):
            print(f"x2 input: {b['corpus_ms'] / a['corpus_ms']:.2f}x time")
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    run(sizes, args.repeat, not args.no_difflib, not args.no_dmp, args.difflib_max)


if __name__ == "__main__":
    main()

"""Benchmark: how well word diffs agree with edits people marked by hand.

Scores, in the same run and on the same gold file (arXivEdits format, see the README of the
development data in ``../shared/diffgold/``):

- ``corpus``: ``corpus.diff.diff_documents`` on two one-paragraph documents;
- ``word_changes``: ``corpus.diff.words.word_changes`` alone (the inner word diff);
- ``difflib``: ``SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)``;
- ``git``: ``git diff --no-index --word-diff=porcelain`` (skipped, with a note, without git).

Every system's changes are mapped to the gold's whitespace tokens the same way: a token
touched by a change counts whole, and changes that touch a common token are one edit, as the
gold's README describes.
``--forced-case`` also drops, for every system, an edit that only recases a word which moved
to or from the start of its sentence ("We use" -> "For [MATH] , we use"): the annotators of
the training data never marked one. It is off by default because only ``corpus`` reports such
an edit on its own, so the rule moves the ruler in its favour; both figures are published.
Metrics:
changed-token precision/recall/F1 on the old side, the new side and both (micro-averaged over
pairs), exact-span precision/recall/F1 (a system edit counts when both its token spans equal
those of a gold edit of ``edits-combination-0``), the same on the ``easy`` and ``hard``
subsets, and the pairs where ``corpus`` does worst.

Run: ``python bench/diff_quality.py --gold ../shared/diffgold/arxivedits-dev.json``
(``--json`` for machine-readable output, ``--worst N`` for the list length).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from corpus.diff import diff_documents  # noqa: E402
from corpus.diff.model import DELETE, INSERT  # noqa: E402
from corpus.diff.words import word_changes  # noqa: E402
from corpus.model import Block, Document  # noqa: E402

#: A token span ``(start, end)``, end exclusive, or None for the side an edit lacks.
TokenSpan = tuple[int, int] | None
Edit = tuple[TokenSpan, TokenSpan]


@dataclass
class Pair:
    """One gold sentence pair: whitespace tokens of both sides and the human edits."""

    id: str
    old: list[str]
    new: list[str]
    edits: list[Edit]
    level: str = ""

    @property
    def old_text(self) -> str:
        return " ".join(self.old)

    @property
    def new_text(self) -> str:
        return " ".join(self.new)


def _span(value: Sequence[int] | None) -> TokenSpan:
    if not value or value[0] >= value[1]:
        return None
    return (int(value[0]), int(value[1]))


def load_gold(path: str | os.PathLike[str]) -> list[Pair]:
    """The pairs of an arXivEdits-format file (a JSON object of entries, or a list)."""
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    items = data.items() if isinstance(data, dict) else enumerate(data)
    pairs = []
    for key, entry in items:
        edits = []
        for edit in (entry.get("edits-combination-0") or {}).values():
            old = _span(edit.get("sentence-1-token-indices"))
            new = _span(edit.get("sentence-2-token-indices"))
            if old is not None or new is not None:
                edits.append((old, new))
        pairs.append(
            Pair(
                id=str(key),
                old=entry["sentence-1"].split(),
                new=entry["sentence-2"].split(),
                edits=edits,
                level=entry.get("easy-or-hard", ""),
            )
        )
    return pairs


# -- mapping character changes to whitespace tokens ----------------------------------------


def token_starts(tokens: Sequence[str]) -> list[tuple[int, int]]:
    """Character ranges of ``tokens`` in ``" ".join(tokens)``."""
    out = []
    pos = 0
    for tok in tokens:
        out.append((pos, pos + len(tok)))
        pos += len(tok) + 1
    return out


def kept_tokens(
    ranges: Sequence[tuple[int, int]],
    other_ranges: Sequence[tuple[int, int]],
    mapping: dict[int, int],
) -> list[bool]:
    """Which tokens come through unchanged: every character kept, onto one whole token.

    ``mapping`` sends each unchanged character position to its position on the other side.
    A token whose characters survive but which is glued to a neighbour or cut in two on the
    other side ("low-energy" -> "low energy") is not kept: as a whitespace token it changed.
    """
    whole = {s: e for s, e in other_ranges}
    out = []
    for s, e in ranges:
        first = mapping.get(s)
        ok = first is not None and whole.get(first) == first + (e - s)
        if ok:
            ok = all(mapping.get(s + k) == first + k for k in range(1, e - s))
        out.append(ok)
    return out


def _unchanged_map(
    changes: Sequence[tuple[int, int, int, int]], old_len: int, new_len: int
) -> tuple[dict[int, int], dict[int, int]]:
    """Old->new and new->old positions of the characters outside every change."""
    fwd: dict[int, int] = {}
    po = pn = 0
    for o1, o2, n1, n2 in [*sorted(changes), (old_len, old_len, new_len, new_len)]:
        if o1 > po or n1 > pn:  # an unchanged run (two changes may share a position)
            if o1 - po != n1 - pn:
                raise ValueError("changes do not leave equal runs of equal length")
            for k in range(o1 - po):
                fwd[po + k] = pn + k
        po, pn = max(po, o2), max(pn, n2)
    return fwd, {v: k for k, v in fwd.items()}


def _overlapped(ranges: Sequence[tuple[int, int]], start: int, end: int) -> list[int]:
    return [k for k, (s, e) in enumerate(ranges) if s < end and e > start]


def _touched(
    ranges: Sequence[tuple[int, int]], loose: Sequence[bool], start: int, end: int
) -> TokenSpan:
    """Tokens a change ``[start, end)`` alters: those it overlaps, and the loose tokens it abuts.

    A loose token changed although no change overlaps it: an insertion glued to it
    ("al" -> "al.") or white space cut into it ("low-energy" -> "low energy") altered it.
    """
    hit = [
        k
        for k, (s, e) in enumerate(ranges)
        if (s < end and e > start) or (loose[k] and (e == start or s == end))
    ]
    return (hit[0], hit[-1] + 1) if hit else None


def _loose(
    ranges: Sequence[tuple[int, int]], kept: Sequence[bool], spans: Iterable[tuple[int, int]]
) -> list[bool]:
    covered: set[int] = set()
    for start, end in spans:
        covered.update(_overlapped(ranges, start, end))
    return [not kept[k] and k not in covered for k in range(len(ranges))]


def merge_touching(edits: Iterable[Edit]) -> list[Edit]:
    """Edits that share a token on either side are one edit (a token counts whole)."""
    out: list[Edit] = []
    for old, new in edits:
        if old is None and new is None:
            continue
        merged = False
        for k, (po, pn) in enumerate(out):
            if _overlap(po, old) or _overlap(pn, new):
                out[k] = (_union(po, old), _union(pn, new))
                merged = True
                break
        if not merged:
            out.append((old, new))
    # A merge can make an earlier edit touch a later one: repeat until stable.
    if len(out) > 1 and any(
        _overlap(a[0], b[0]) or _overlap(a[1], b[1])
        for i, a in enumerate(out)
        for b in out[i + 1 :]
    ):
        return merge_touching(out)
    return out


def _overlap(a: TokenSpan, b: TokenSpan) -> bool:
    return a is not None and b is not None and a[0] < b[1] and b[0] < a[1]


def _union(a: TokenSpan, b: TokenSpan) -> TokenSpan:
    if a is None:
        return b
    if b is None:
        return a
    return (min(a[0], b[0]), max(a[1], b[1]))


def char_changes_to_edits(
    pair: Pair,
    changes: Sequence[tuple[int, int, int, int]],
    moved: Sequence[bool] = (),
) -> list[Edit]:
    """Character changes ``(old_start, old_end, new_start, new_end)`` as token edits.

    Each change covers the tokens it overlaps on each side, plus the changed tokens it abuts;
    changes sharing a token merge. This is the only place character offsets meet the gold's
    tokens, and every system reporting characters goes through it. A change flagged in
    ``moved`` (half of a phrase the system reports as moved) is no edit, and the tokens it
    covers count as kept: the annotators left moved phrases unmarked.
    """
    flags = list(moved) or [False] * len(changes)
    old_ranges, new_ranges = token_starts(pair.old), token_starts(pair.new)
    fwd, back = _unchanged_map(changes, len(pair.old_text), len(pair.new_text))
    old_kept = kept_tokens(old_ranges, new_ranges, fwd)
    new_kept = kept_tokens(new_ranges, old_ranges, back)
    for (o1, o2, n1, n2), is_moved in zip(changes, flags, strict=True):
        if is_moved:
            _keep_inside(old_ranges, old_kept, o1, o2)
            _keep_inside(new_ranges, new_kept, n1, n2)
    old_loose = _loose(old_ranges, old_kept, ((c[0], c[1]) for c in changes))
    new_loose = _loose(new_ranges, new_kept, ((c[2], c[3]) for c in changes))
    return merge_touching(
        (_touched(old_ranges, old_loose, o1, o2), _touched(new_ranges, new_loose, n1, n2))
        for (o1, o2, n1, n2), is_moved in zip(changes, flags, strict=True)
        if not is_moved
    )


def _keep_inside(ranges: Sequence[tuple[int, int]], kept: list[bool], start: int, end: int) -> None:
    """Mark the tokens lying wholly inside ``[start, end)`` as kept."""
    for k, (s, e) in enumerate(ranges):
        if start <= s and e <= end:
            kept[k] = True


# -- systems ---------------------------------------------------------------------------------


def corpus_system(pair: Pair) -> list[Edit]:
    """``corpus.diff`` on two documents of one paragraph each."""
    old_text, new_text = pair.old_text, pair.new_text
    old = Document("old", title="t", blocks=[Block(old_text)])
    new = Document("new", title="t", blocks=[Block(new_text)])
    changes, moved = [], []
    for op in diff_documents(old, new).paragraphs:
        if op.op == DELETE:
            changes.append((0, len(old_text), 0, 0))
            moved.append(False)
        elif op.op == INSERT:
            changes.append((0, 0, 0, len(new_text)))
            moved.append(False)
        else:
            changes += [(c.old_start, c.old_end, c.new_start, c.new_end) for c in op.changes]
            moved += [c.moved for c in op.changes]
    return char_changes_to_edits(pair, changes, moved)


def word_changes_system(pair: Pair) -> list[Edit]:
    """``corpus.diff.words.word_changes`` on the two texts, no paragraph or sentence layer."""
    changes = word_changes(pair.old_text, pair.new_text)
    return char_changes_to_edits(
        pair,
        [(c.old_start, c.old_end, c.new_start, c.new_end) for c in changes],
        [c.moved for c in changes],
    )


def _opcode_edit(i1: int, i2: int, j1: int, j2: int) -> Edit:
    return ((i1, i2) if i2 > i1 else None, (j1, j2) if j2 > j1 else None)


def difflib_system(pair: Pair) -> list[Edit]:
    matcher = difflib.SequenceMatcher(None, pair.old, pair.new, autojunk=False)
    return [
        _opcode_edit(i1, i2, j1, j2)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


class GitSystem:
    """``git diff --no-index --word-diff=porcelain`` (default word regex: non-space runs)."""

    def __init__(self, git: str) -> None:
        self.git = git
        self.dir = tempfile.TemporaryDirectory(prefix="diffquality-")
        self.env = {
            **os.environ,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "HOME": self.dir.name,
        }

    def close(self) -> None:
        self.dir.cleanup()

    def __call__(self, pair: Pair) -> list[Edit]:
        a = Path(self.dir.name, "a.txt")
        b = Path(self.dir.name, "b.txt")
        a.write_text(pair.old_text + "\n", encoding="utf-8")
        b.write_text(pair.new_text + "\n", encoding="utf-8")
        proc = subprocess.run(
            [self.git, "diff", "--no-index", "--no-color", "--word-diff=porcelain", "-U100000"]
            + [str(a), str(b)],
            capture_output=True,
            env=self.env,
            cwd=self.dir.name,
        )
        if proc.returncode not in (0, 1):
            raise RuntimeError(proc.stderr.decode("utf-8", "replace"))
        return parse_porcelain(proc.stdout.decode("utf-8"))


def parse_porcelain(output: str) -> list[Edit]:
    """Token edits from ``--word-diff=porcelain`` output of two one-line files."""
    edits: list[Edit] = []
    i = j = 0
    pending: list[int] | None = None  # [i1, i2, j1, j2]

    def flush() -> None:
        nonlocal pending
        if pending is not None:
            edits.append(_opcode_edit(*pending))
            pending = None

    in_hunk = False
    for line in output.split("\n"):
        if line.startswith("@@"):
            in_hunk = True
            continue
        if not in_hunk or not line:
            continue
        mark, body = line[0], line[1:]
        n = len(body.split())
        if mark == " " or mark == "~":
            flush()
            i += n
            j += n
        elif mark == "-":
            pending = pending or [i, i, j, j]
            i += n
            pending[1] = i
        elif mark == "+":
            pending = pending or [i, i, j, j]
            j += n
            pending[3] = j
    flush()
    return edits


# -- scoring ---------------------------------------------------------------------------------


@dataclass
class Counts:
    """Sums over pairs: changed tokens per side, and exact-span edits."""

    tp: list[int] = field(default_factory=lambda: [0, 0])
    fp: list[int] = field(default_factory=lambda: [0, 0])
    fn: list[int] = field(default_factory=lambda: [0, 0])
    span_tp: int = 0
    span_sys: int = 0
    span_gold: int = 0
    pairs: int = 0

    def add(self, other: Counts) -> None:
        for side in (0, 1):
            self.tp[side] += other.tp[side]
            self.fp[side] += other.fp[side]
            self.fn[side] += other.fn[side]
        self.span_tp += other.span_tp
        self.span_sys += other.span_sys
        self.span_gold += other.span_gold
        self.pairs += other.pairs

    def scores(self) -> dict[str, float]:
        old = _prf(self.tp[0], self.fp[0], self.fn[0])
        new = _prf(self.tp[1], self.fp[1], self.fn[1])
        both = _prf(sum(self.tp), sum(self.fp), sum(self.fn))
        span = _prf(self.span_tp, self.span_sys - self.span_tp, self.span_gold - self.span_tp)
        return {
            "pairs": self.pairs,
            "token_f1_old": old[2],
            "token_f1_new": new[2],
            "token_precision": both[0],
            "token_recall": both[1],
            "token_f1": both[2],
            "span_precision": span[0],
            "span_recall": span[1],
            "span_f1": span[2],
        }


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return round(p, 4), round(r, 4), round(f, 4)


#: Sentence-final marks, as whitespace tokens.
_SENTENCE_END = frozenset(".!?")


def _starts_sentence(tokens: Sequence[str], k: int) -> bool:
    return k == 0 or tokens[k - 1] in _SENTENCE_END


def without_forced_case(pair: Pair, edits: Iterable[Edit]) -> list[Edit]:
    """``edits`` less those that only recase a word which moved to or from a sentence start.

    "We use" -> "For [MATH] , we use": the annotators mark the insertion, never "We" -> "we",
    a capital forced by the new position. Applied to every system alike: an edit is dropped
    when it is one token on each side, the two differ in the case of their first letter only,
    and exactly one of them starts its sentence.
    """
    out = []
    for old, new in edits:
        if old is not None and new is not None and old[1] - old[0] == 1 and new[1] - new[0] == 1:
            a, b = pair.old[old[0]], pair.new[new[0]]
            if (
                a[1:] == b[1:]
                and a[:1] != b[:1]
                and a[:1].casefold() == b[:1].casefold()
                and _starts_sentence(pair.old, old[0]) != _starts_sentence(pair.new, new[0])
            ):
                continue
        out.append((old, new))
    return out


def changed_tokens(edits: Iterable[Edit], side: int) -> set[int]:
    out: set[int] = set()
    for edit in edits:
        span = edit[side]
        if span is not None:
            out.update(range(*span))
    return out


def score_pair(gold: Sequence[Edit], system: Sequence[Edit]) -> Counts:
    counts = Counts(pairs=1)
    for side in (0, 1):
        g, s = changed_tokens(gold, side), changed_tokens(system, side)
        counts.tp[side] = len(g & s)
        counts.fp[side] = len(s - g)
        counts.fn[side] = len(g - s)
    gold_set, sys_set = set(gold), set(system)
    counts.span_tp = len(gold_set & sys_set)
    counts.span_sys = len(sys_set)
    counts.span_gold = len(gold_set)
    return counts


def evaluate(
    pairs: Sequence[Pair],
    systems: dict[str, Callable[[Pair], list[Edit]]],
    worst: int = 10,
    *,
    forced_case: bool = False,
) -> dict:
    """Scores of every system overall and per subset, timings, and corpus's worst pairs."""
    result: dict = {"pairs": len(pairs), "forced_case": forced_case, "systems": {}, "worst": []}
    levels = sorted({p.level for p in pairs if p.level})
    per_pair: dict[str, list[tuple[float, Pair, list[Edit]]]] = {}
    for name, system in systems.items():
        total = Counts()
        by_level = {level: Counts() for level in levels}
        rows = []
        started = time.perf_counter()
        for pair in pairs:
            edits = system(pair)
            if forced_case:
                edits = without_forced_case(pair, edits)
            counts = score_pair(pair.edits, edits)
            total.add(counts)
            if pair.level:
                by_level[pair.level].add(counts)
            rows.append((counts.scores()["token_f1"], pair, edits))
        elapsed = time.perf_counter() - started
        result["systems"][name] = {
            "all": total.scores(),
            **{level: c.scores() for level, c in by_level.items()},
            "ms_per_pair": round(1000 * elapsed / max(len(pairs), 1), 3),
        }
        per_pair[name] = rows
    first = next(iter(systems), None)
    if first is not None:
        rows = sorted(per_pair[first], key=lambda r: (r[0], r[1].id))[:worst]
        for f1, pair, edits in rows:
            result["worst"].append(
                {
                    "id": pair.id,
                    "level": pair.level,
                    "token_f1": f1,
                    "gold": [_edit_text(pair, e) for e in pair.edits],
                    "system": [_edit_text(pair, e) for e in edits],
                }
            )
    return result


def _edit_text(pair: Pair, edit: Edit) -> str:
    old = " ".join(pair.old[slice(*edit[0])]) if edit[0] else ""
    new = " ".join(pair.new[slice(*edit[1])]) if edit[1] else ""
    return f"[-{old}-]{{+{new}+}}"


def format_table(result: dict) -> str:
    lines = [f"{result['pairs']} pairs (exact spans against edits-combination-0)", ""]
    head = (
        f"{'system':<14}{'subset':<7}{'pairs':>6}{'tokF1':>8}{'old':>7}{'new':>7}"
        f"{'spanP':>8}{'spanR':>7}{'spanF1':>8}{'ms/pair':>9}"
    )
    lines.append(head)
    for name, data in result["systems"].items():
        for subset, s in data.items():
            if not isinstance(s, dict):
                continue
            lines.append(
                f"{name:<14}{subset:<7}{s['pairs']:>6}{s['token_f1']:>8.4f}"
                f"{s['token_f1_old']:>7.3f}{s['token_f1_new']:>7.3f}"
                f"{s['span_precision']:>8.4f}{s['span_recall']:>7.3f}{s['span_f1']:>8.4f}"
                f"{data['ms_per_pair'] if subset == 'all' else '':>9}"
            )
    for note in result.get("notes", []):
        lines.append(f"note: {note}")
    if result["worst"]:
        lines += ["", f"worst pairs for {next(iter(result['systems']))}:"]
        for w in result["worst"]:
            lines.append(f"  #{w['id']} ({w['level']}) token F1 {w['token_f1']:.3f}")
            lines.append("    gold:   " + "  ".join(w["gold"]))
            lines.append("    system: " + "  ".join(w["system"]))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gold", required=True, help="arXivEdits-format JSON file")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--worst", type=int, default=10, help="how many worst pairs to list")
    parser.add_argument("--no-git", action="store_true", help="skip the git baseline")
    parser.add_argument(
        "--forced-case",
        action="store_true",
        help="drop recasings forced by a new sentence start, for every system (see above)",
    )
    args = parser.parse_args(argv)
    pairs = load_gold(args.gold)
    systems: dict[str, Callable[[Pair], list[Edit]]] = {
        "corpus": corpus_system,
        "word_changes": word_changes_system,
        "difflib": difflib_system,
    }
    notes = []
    git_path = None if args.no_git else shutil.which("git")
    git = GitSystem(git_path) if git_path else None
    if git is not None:
        systems["git"] = git
    elif not args.no_git:
        notes.append("git not found: the git baseline is skipped")
    try:
        result = evaluate(pairs, systems, worst=args.worst, forced_case=args.forced_case)
    finally:
        if git is not None:
            git.close()
    result["notes"] = notes
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(format_table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

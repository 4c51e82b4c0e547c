"""Paragraph alignment: exact matches first, fuzzy matches only on what is left, LIS for moves.

1. Paragraphs with identical text are paired (hash lookup, linear).
2. The longest increasing subsequence of those pairs gives anchors; the gaps between anchors
   hold the leftovers, matched there by word similarity (edits), then grown into splits and
   merges by joining neighbours while the similarity improves.
3. Leftovers still unpaired are matched across the whole document (edited moves).
4. A final LIS over every group decides what moved: groups outside it are the minimal set of
   moves (O(k log k)).
The result is a list of :class:`Group` objects; :mod:`corpus.diff.engine` turns them into ops.
"""

from __future__ import annotations

import bisect
from collections import defaultdict, deque
from collections.abc import Sequence

import attrs

from . import similarity as _sim
from .similarity import WordEncoder, similarity, survives

#: Largest gap (old leftovers x new leftovers) searched for splits and merges.
_MAX_GAP_PRODUCT = 2500
#: Most paragraphs one split produces or one merge consumes when seeded from scratch.
_MAX_RUN = 12
#: Largest global residual searched pairwise for edited moves.
_MAX_RESIDUAL_PRODUCT = 250_000


@attrs.define
class Group:
    """Old block indices matched to new block indices (either side may be empty)."""

    old: list[int]
    new: list[int]
    exact: bool = False
    similarity: float | None = None
    in_order: bool = True


def lis_indices(seq: Sequence[int]) -> list[int]:
    """Positions of one longest strictly increasing subsequence of ``seq`` (patience sort)."""
    tails: list[int] = []  # seq values
    tail_pos: list[int] = []
    prev = [-1] * len(seq)
    for pos, value in enumerate(seq):
        k = bisect.bisect_left(tails, value)
        if k == len(tails):
            tails.append(value)
            tail_pos.append(pos)
        else:
            tails[k] = value
            tail_pos[k] = pos
        prev[pos] = tail_pos[k - 1] if k else -1
    out = []
    pos = tail_pos[-1] if tail_pos else -1
    while pos != -1:
        out.append(pos)
        pos = prev[pos]
    return out[::-1]


class _Aligner:
    def __init__(self, old: Sequence[str], new: Sequence[str], threshold: float) -> None:
        self.old = old
        self.new = new
        self.threshold = threshold
        self.encoder = WordEncoder()
        self._old_enc: dict[int, str] = {}
        self._new_enc: dict[int, str] = {}
        self.old_group: dict[int, Group] = {}
        self.new_group: dict[int, Group] = {}
        self.groups: list[Group] = []

    def enc_old(self, i: int) -> str:
        if i not in self._old_enc:
            self._old_enc[i] = self.encoder.encode(self.old[i])
        return self._old_enc[i]

    def enc_new(self, j: int) -> str:
        if j not in self._new_enc:
            self._new_enc[j] = self.encoder.encode(self.new[j])
        return self._new_enc[j]

    def add(self, group: Group) -> None:
        self.groups.append(group)
        for i in group.old:
            self.old_group[i] = group
        for j in group.new:
            self.new_group[j] = group

    # -- steps ---------------------------------------------------------------------------

    def exact(self) -> None:
        where: dict[str, deque[int]] = defaultdict(deque)
        for i, text in enumerate(self.old):
            where[text].append(i)
        for j, text in enumerate(self.new):
            queue = where.get(text)
            if queue:
                self.add(Group([queue.popleft()], [j], exact=True, similarity=1.0))

    def gaps(self) -> list[tuple[list[int], list[int]]]:
        pairs = sorted((g.new[0], g.old[0]) for g in self.groups)
        anchors = [pairs[p] for p in lis_indices([i for _, i in pairs])]
        free_old = [i for i in range(len(self.old)) if i not in self.old_group]
        free_new = [j for j in range(len(self.new)) if j not in self.new_group]
        bounds = [(-1, -1), *((i, j) for j, i in anchors), (len(self.old), len(self.new))]
        out = []
        po = pn = 0
        for ai, aj in bounds[1:]:
            olds: list[int] = []
            news: list[int] = []
            while po < len(free_old) and free_old[po] < ai:
                olds.append(free_old[po])
                po += 1
            while pn < len(free_new) and free_new[pn] < aj:
                news.append(free_new[pn])
                pn += 1
            if olds and news:
                out.append((olds, news))
        return out

    def match(self, olds: list[int], news: list[int], *, in_gap: bool = True) -> None:
        """Greedy best-first 1:1 matching of leftovers by word similarity.

        In a gap between anchors holding one old and one new paragraph, the two stand in the
        same place: they pair at a lower similarity (``PLACE_FLOOR``), or when enough of the
        shorter survives (:func:`survives`), however low their similarity.
        """
        cutoff = self.threshold
        lone = in_gap and len(olds) == 1 and len(news) == 1
        if len(olds) * len(news) > _MAX_RESIDUAL_PRODUCT:
            return
        scored = []
        for j in news:
            ej = self.enc_new(j)
            for i in olds:
                ei = self.enc_old(i)
                sim = similarity(ei, ej, cutoff)
                if sim >= cutoff:
                    scored.append((-sim, abs(i - j), i, j))
                elif lone:
                    sim = similarity(ei, ej)
                    if sim >= _sim.PLACE_FLOOR or survives(ei, ej):
                        scored.append((-sim, abs(i - j), i, j))
        scored.sort()
        for neg, _, i, j in scored:
            if i in self.old_group or j in self.new_group:
                continue
            self.add(Group([i], [j], similarity=-neg))

    def grow(self, olds: list[int], news: list[int]) -> None:
        """Turn 1:1 matches into splits/merges by joining free neighbours in this gap."""
        if len(olds) * len(news) > _MAX_GAP_PRODUCT:
            return
        gap_old, gap_new = set(olds), set(news)
        for i in olds:
            group = self.old_group.get(i)
            if group is None or len(group.old) != 1 or len(group.new) != 1:
                continue
            if group.new[0] in gap_new:
                self._grow(group, gap_old, gap_new)
        # Seeds: a free paragraph whose best partner is a run of neighbours, none good alone.
        for i in olds:
            if i not in self.old_group:
                self._seed(i, news, split=True)
        for j in news:
            if j not in self.new_group:
                self._seed(j, olds, split=False)

    def _grow(self, group: Group, gap_old: set[int], gap_new: set[int]) -> None:
        for split in (True, False):
            base_sim = group.similarity or 0.0
            side = group.new if split else group.old
            pool = gap_new if split else gap_old
            taken = self.new_group if split else self.old_group
            grown = list(side)
            best = base_sim
            changed = True
            while changed:
                changed = False
                for cand in (grown[-1] + 1, grown[0] - 1):
                    if cand not in pool or cand in taken:
                        continue
                    trial = sorted([*grown, cand])
                    sim = self._group_sim(
                        group.old if split else trial, trial if split else group.new
                    )
                    if sim > best + 1e-9:
                        best, grown, changed = sim, trial, True
                        break
            if len(grown) > len(side):
                for k in grown:
                    taken[k] = group
                if split:
                    group.new = grown
                else:
                    group.old = grown
                group.similarity = best
                return

    def _seed(self, k: int, pool: list[int], *, split: bool) -> None:
        taken = self.new_group if split else self.old_group
        best: tuple[float, list[int]] = (self.threshold, [])
        free = [p for p in pool if p not in taken]
        for start_pos, start in enumerate(free):
            run = [start]
            for nxt in free[start_pos + 1 : start_pos + _MAX_RUN]:
                if nxt != run[-1] + 1:
                    break
                run.append(nxt)
                sim = self._group_sim([k], run) if split else self._group_sim(run, [k])
                if sim >= best[0]:
                    best = (sim, list(run))
        sim, run = best
        if len(run) >= 2:
            self.add(Group([k], run, similarity=sim) if split else Group(run, [k], similarity=sim))

    def _group_sim(self, olds: list[int], news: list[int]) -> float:
        a = "".join(self.enc_old(i) for i in olds)
        b = "".join(self.enc_new(j) for j in news)
        return similarity(a, b)

    def finish(self) -> list[Group]:
        for i in range(len(self.old)):
            if i not in self.old_group:
                self.add(Group([i], []))
        for j in range(len(self.new)):
            if j not in self.new_group:
                self.add(Group([], [j]))
        matched = sorted((g for g in self.groups if g.old and g.new), key=lambda g: g.new[0])
        keep = set(lis_indices([g.old[0] for g in matched]))
        for pos, group in enumerate(matched):
            group.in_order = pos in keep
        return self.groups


def align_paragraphs(old: Sequence[str], new: Sequence[str], threshold: float = 0.5) -> list[Group]:
    """Match old paragraphs to new ones; see the module docstring for the method."""
    aligner = _Aligner(old, new, threshold)
    aligner.exact()
    for olds, news in aligner.gaps():
        aligner.match(olds, news)
        aligner.grow(olds, news)
    free_old = [i for i in range(len(old)) if i not in aligner.old_group]
    free_new = [j for j in range(len(new)) if j not in aligner.new_group]
    if free_old and free_new:
        aligner.match(free_old, free_new, in_gap=False)
    return aligner.finish()

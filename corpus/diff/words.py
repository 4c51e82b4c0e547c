"""Inside an edited unit: sentence alignment, then word changes with exact offsets.

Only units that differ reach this module, so its cost is proportional to what changed, not
to the length of the article.
"""

from __future__ import annotations

from rapidfuzz.distance import Indel

from .model import (
    COSMETIC,
    DELETE,
    EDIT,
    EQUAL,
    INSERT,
    REPLACE,
    SUBSTANTIVE,
    SentenceOp,
    WordChange,
)
from .similarity import word_similarity
from .text import is_cosmetic, sentence_bounds, tokens


def _classify(old: str, new: str) -> str:
    return COSMETIC if is_cosmetic(old, new) else SUBSTANTIVE


def word_changes(old: str, new: str, old_base: int = 0, new_base: int = 0) -> list[WordChange]:
    """Token-level changes turning ``old`` into ``new``; offsets shifted by the bases.

    Runs of substantive changes separated by a single white-space token are merged, so
    "Smith said" -> "Jones told" is one replacement, not two; cosmetic runs are never merged
    into substantive ones, so hiding cosmetic churn hides exactly that.
    """
    if old == new:
        return []
    a = tokens(old)
    b = tokens(new)
    regions: list[list[int]] = []  # [i1, i2, j1, j2]
    for tag, i1, i2, j1, j2 in Indel.opcodes(a, b).as_list():
        if tag == "equal":
            continue
        if regions and regions[-1][1] == i1 and regions[-1][3] == j1:
            regions[-1][1], regions[-1][3] = i2, j2
        else:
            regions.append([i1, i2, j1, j2])
    a_pos = _offsets(a)
    b_pos = _offsets(b)
    merged: list[tuple[list[int], str]] = []
    for region in regions:
        i1, i2, j1, j2 = _trim(a, b, *region)
        if i1 == i2 and j1 == j2:
            continue
        cls = _classify(old[a_pos[i1] : a_pos[i2]], new[b_pos[j1] : b_pos[j2]])
        if merged and cls == SUBSTANTIVE and merged[-1][1] == SUBSTANTIVE:
            pi1, pi2, pj1, pj2 = merged[-1][0]
            if i1 - pi2 == 1 and j1 - pj2 == 1 and a[pi2] == b[pj2] and a[pi2].isspace():
                merged[-1] = (_trim(a, b, pi1, i2, pj1, j2), SUBSTANTIVE)
                continue
        merged.append(([i1, i2, j1, j2], cls))
    changes = []
    for (i1, i2, j1, j2), cls in merged:
        o1, o2, n1, n2 = a_pos[i1], a_pos[i2], b_pos[j1], b_pos[j2]
        changes.append(_change(old, new, o1, o2, n1, n2, old_base, new_base, cls))
    return changes


def _trim(a: list[str], b: list[str], i1: int, i2: int, j1: int, j2: int) -> list[int]:
    """Drop tokens equal at both ends of a replaced region (LCS leaves some there)."""
    while i1 < i2 and j1 < j2 and a[i1] == b[j1]:
        i1, j1 = i1 + 1, j1 + 1
    while i1 < i2 and j1 < j2 and a[i2 - 1] == b[j2 - 1]:
        i2, j2 = i2 - 1, j2 - 1
    return [i1, i2, j1, j2]


def _offsets(toks: list[str]) -> list[int]:
    out = [0]
    total = 0
    for tok in toks:
        total += len(tok)
        out.append(total)
    return out


def _change(
    old: str, new: str, o1: int, o2: int, n1: int, n2: int, ob: int, nb: int, cls: str
) -> WordChange:
    op = REPLACE if o2 > o1 and n2 > n1 else (DELETE if o2 > o1 else INSERT)
    return WordChange(op, ob + o1, ob + o2, nb + n1, nb + n2, old[o1:o2], new[n1:n2], cls)


def whole_change(old: str, new: str, old_base: int, new_base: int) -> WordChange:
    """One change replacing all of ``old`` by all of ``new``."""
    return _change(old, new, 0, len(old), 0, len(new), old_base, new_base, _classify(old, new))


def align_sentences(
    old: str,
    new: str,
    *,
    sentence_threshold: float = 0.4,
    whole_below: float = 0.5,
) -> list[SentenceOp]:
    """Sentence operations (equal/insert/delete/edit) covering both texts, in order.

    Sentences are matched by their text without surrounding white space; unmatched runs are
    paired in order by word similarity (at least ``sentence_threshold``). An edited sentence
    whose similarity is below ``whole_below`` is shown as one whole replacement.
    """
    ob = sentence_bounds(old)
    nb = sentence_bounds(new)
    okeys = [old[s:e].strip() for s, e in ob]
    nkeys = [new[s:e].strip() for s, e in nb]
    out: list[SentenceOp] = []
    for tag, i1, i2, j1, j2 in _grouped(Indel.opcodes(okeys, nkeys).as_list()):
        if tag == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                out.append(_pair(old, new, ob[i], nb[j], 1.0, whole_below))
            continue
        pairs = _pair_in_order(
            [old[s:e] for s, e in ob[i1:i2]], [new[s:e] for s, e in nb[j1:j2]], sentence_threshold
        )
        i, j = i1, j1
        for pi, pj, sim in [*pairs, (i2 - i1, j2 - j1, None)]:
            pi += i1
            pj += j1
            while i < pi:
                out.append(_lone(old, new, ob[i], _new_pos(nb, j, len(new)), delete=True))
                i += 1
            while j < pj:
                out.append(_lone(old, new, nb[j], _new_pos(ob, i, len(old)), delete=False))
                j += 1
            if sim is not None:
                out.append(_pair(old, new, ob[i], nb[j], sim, whole_below))
                i += 1
                j += 1
    return out


def _grouped(opcodes: list) -> list[tuple[str, int, int, int, int]]:
    """Merge adjacent non-equal opcodes into one region."""
    out: list[list] = []
    for tag, i1, i2, j1, j2 in opcodes:
        if tag != "equal" and out and out[-1][0] != "equal":
            out[-1][2], out[-1][4] = i2, j2
        else:
            out.append(["equal" if tag == "equal" else "change", i1, i2, j1, j2])
    return [tuple(x) for x in out]


def _new_pos(bounds: list[tuple[int, int]], k: int, length: int) -> int:
    return bounds[k][0] if k < len(bounds) else length


def _lone(old: str, new: str, span: tuple[int, int], pos: int, *, delete: bool) -> SentenceOp:
    s, e = span
    if delete:
        text = old[s:e]
        change = WordChange(DELETE, s, e, pos, pos, text, "", _classify(text, ""))
        return SentenceOp(DELETE, s, e, pos, pos, change.cls, (change,))
    text = new[s:e]
    change = WordChange(INSERT, pos, pos, s, e, "", text, _classify("", text))
    return SentenceOp(INSERT, pos, pos, s, e, change.cls, (change,))


def _pair(
    old: str, new: str, o: tuple[int, int], n: tuple[int, int], sim: float, whole_below: float
) -> SentenceOp:
    a, b = old[o[0] : o[1]], new[n[0] : n[1]]
    if a == b:
        return SentenceOp(EQUAL, o[0], o[1], n[0], n[1])
    if sim < whole_below:
        changes = [whole_change(a, b, o[0], n[0])]
    else:
        changes = word_changes(a, b, o[0], n[0])
    cls = SUBSTANTIVE if any(c.cls == SUBSTANTIVE for c in changes) else COSMETIC
    return SentenceOp(EDIT, o[0], o[1], n[0], n[1], cls, tuple(changes), round(sim, 4))


#: Above this many candidate pairs a region is paired position by position instead.
_MAX_DP = 2500


def _pair_in_order(
    olds: list[str], news: list[str], threshold: float
) -> list[tuple[int, int, float]]:
    """The order-preserving pairing with the largest total similarity (pairs >= threshold)."""
    m, k = len(olds), len(news)
    if not m or not k:
        return []
    if m * k > _MAX_DP:
        pairs = []
        for t in range(min(m, k)):
            sim = word_similarity(olds[t], news[t])
            if sim >= threshold:
                pairs.append((t, t, sim))
        return pairs
    sims = [[word_similarity(o, n) for n in news] for o in olds]
    best = [[0.0] * (k + 1) for _ in range(m + 1)]
    for i in range(m - 1, -1, -1):
        row, below = best[i], best[i + 1]
        for j in range(k - 1, -1, -1):
            take = sims[i][j] + below[j + 1] if sims[i][j] >= threshold else -1.0
            row[j] = max(below[j], row[j + 1], take)
    pairs = []
    i = j = 0
    while i < m and j < k:
        sim = sims[i][j]
        if sim >= threshold and best[i][j] == sim + best[i + 1][j + 1]:
            pairs.append((i, j, sim))
            i += 1
            j += 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return pairs

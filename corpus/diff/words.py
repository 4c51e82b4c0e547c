"""Inside an edited unit: sentence alignment, then word changes with exact offsets.

Only units that differ reach this module, so its cost is proportional to what changed, not
to the length of the article.
"""

from __future__ import annotations

import attrs
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
from .similarity import PLACE_FLOOR, survives, word_similarity, words
from .text import WORD, fingerprint, is_cosmetic, sentence_bounds, tokens


def _classify(old: str, new: str) -> str:
    return COSMETIC if is_cosmetic(old, new) else SUBSTANTIVE


def word_changes(old: str, new: str, old_base: int = 0, new_base: int = 0) -> list[WordChange]:
    """Token-level changes turning ``old`` into ``new``; offsets shifted by the bases.

    Words and punctuation marks are matched; white space is not (two texts do not share a
    space), so a word both sides keep is never skipped to pair up the spaces around it. Changed
    white space between kept words is a cosmetic change of its own. Runs of substantive changes
    separated by a single space are merged ("Smith said" -> "Jones told" is one replacement),
    and a change of punctuation alone right next to a substantive change joins it
    ("Fig. (" -> "figure" is one change). Otherwise cosmetic runs stay apart, so hiding cosmetic
    churn hides exactly that.
    """
    if old == new:
        return []
    a = tokens(old)
    b = tokens(new)
    a_pos = _offsets(a)
    b_pos = _offsets(b)
    regions = _regions(a, b)
    merged: list[tuple[list[int], str]] = []
    for region in regions:
        i1, i2, j1, j2 = _trim(a, b, *region)
        if i1 == i2 and j1 == j2:
            continue
        old_piece, new_piece = old[a_pos[i1] : a_pos[i2]], new[b_pos[j1] : b_pos[j2]]
        cls = _classify(old_piece, new_piece)
        punct = _punctuation_only(old_piece, new_piece)
        if merged:
            (pi1, pi2, pj1, pj2), pcls = merged[-1]
            gap_a, gap_b = a[pi2:i1], b[pj2:j1]
            near = gap_a == gap_b and all(t.isspace() for t in gap_a) and len(gap_a) <= 1
            prev_punct = pcls == "punct"
            if (
                near
                and (
                    (cls == pcls and gap_a)
                    or (punct and pcls == SUBSTANTIVE)
                    or (prev_punct and cls == SUBSTANTIVE)
                    or (punct and prev_punct)
                )
            ) or (
                cls == pcls == SUBSTANTIVE
                and _short_word_between(gap_a, gap_b)
                and i1 < i2
                and j1 < j2
                and pi1 < pi2
                and pj1 < pj2
            ):
                cls = SUBSTANTIVE if SUBSTANTIVE in (cls, pcls) else pcls
                merged[-1] = (_trim(a, b, pi1, i2, pj1, j2), cls)
                continue
        merged.append(([i1, i2, j1, j2], "punct" if punct and cls == COSMETIC else cls))
    changes = []
    items = _split_moves(a, b, _slide_right(a, b, [r for r, _ in merged]))
    items = [piece for r, m in items for piece in _split_clause_marks(a, b, r, m)]
    items = [piece for r, m in items for piece in _split_replace(a, b, r, m)]
    for (i1, i2, j1, j2), moved in items:
        o1, o2, n1, n2 = a_pos[i1], a_pos[i2], b_pos[j1], b_pos[j2]
        cls = _classify(old[o1:o2], new[n1:n2])
        change = _change(old, new, o1, o2, n1, n2, old_base, new_base, cls)
        changes.append(attrs.evolve(change, moved=True) if moved else change)
    return changes


#: Longest kept word that two replacements around it take in ("decomposition of unity" ->
#: "resolution of identity" is one replacement): people mark a rewritten phrase whole across
#: a short word it kept, not across a longer one (measured on human-marked edits,
#: bench/diff_quality.py, train split).
SHORT_WORD = 3


def _short_word_between(gap_a: list[str], gap_b: list[str]) -> bool:
    """The kept gap between two changes is one short lower-case word with spaces around it."""
    if gap_a != gap_b or len(gap_a) != 3 or not gap_a[0].isspace() or not gap_a[2].isspace():
        return False
    word = gap_a[1]
    return len(word) <= SHORT_WORD and word.isalpha() and word.islower()


def _boundary(toks: list[str], lo: int, hi: int) -> bool:
    """``toks[lo:hi]`` starts and ends at a word boundary (white space or the text's edge)."""
    start = toks[lo].isspace() or lo == 0 or toks[lo - 1].isspace()
    end = toks[hi - 1].isspace() or hi == len(toks) or toks[hi].isspace()
    return start and end


def _slide_right(a: list[str], b: list[str], regions: list[list[int]]) -> list[list[int]]:
    """Slide each pure deletion or insertion as far right as the text repeats, to a boundary.

    Where the text repeats, an insertion or deletion can stand in several places ("in [1] and
    [2]" less "[1] and" or less "and [2]"); the matcher picks the leftmost, people mark the
    last ("[MATH] , [MATH]" gained ", [MATH]", not "[MATH] ,"; measured on human-marked edits,
    bench/diff_quality.py, train split). Only whole words slide; never into another change.
    """
    out = [list(r) for r in regions]
    for x, r in enumerate(out):
        i1, i2, j1, j2 = r
        nxt = out[x + 1] if x + 1 < len(out) else [len(a), len(a), len(b), len(b)]
        if i1 < i2 and j1 == j2:
            toks, lo, hi, room = a, i1, i2, min(nxt[0] - i2, nxt[2] - j1)
        elif j1 < j2 and i1 == i2:
            toks, lo, hi, room = b, j1, j2, min(nxt[2] - j2, nxt[0] - i1)
        else:
            continue
        best = 0
        k = 0
        while k < room and toks[lo + k] == toks[hi + k]:
            k += 1
            if _boundary(toks, lo + k, hi + k):
                best = k
        if best:
            out[x] = [i1 + best, i2 + best, j1 + best, j2 + best]
    return out


#: Least number of words (not marks) of a phrase found deleted in one place and inserted in
#: another for it to count as moved, or the least length of a single moved word ("the" and
#: "is" recur by chance) -- unless that word alone was deleted and alone inserted; tuned on
#: human-marked edits (bench/diff_quality.py, train split).
MOVE_WORDS = 2
MOVE_ONE_LEN = 5
#: ... and a phrase of short words only ("to the", "all of") recurs by chance too: one of its
#: words needs this many letters.
MOVE_PHRASE_LEN = 4
#: Most token comparisons spent looking for moved phrases in one unit, and most moves found.
_MOVE_BUDGET = 20_000
_MAX_MOVES = 32


def _split_moves(
    a: list[str], b: list[str], regions: list[list[int]]
) -> list[tuple[list[int], bool]]:
    """Cut out of the changed regions the phrases deleted in one and inserted in another.

    Such a phrase moved ("in this paper we show" -> "we show in this paper"): it is still
    applied as a deletion and an insertion, but both halves are flagged, so a reader (and a
    scorer) can tell a move from a rewrite. Words are compared case-blind; longest first. The
    search is bounded (``_MOVE_BUDGET`` token comparisons, ``_MAX_MOVES`` moves per unit), so
    a unit with thousands of changes costs no more than a few milliseconds here.
    """
    items: list[tuple[list[int], bool]] = [(r, False) for r in regions]
    budget = [_MOVE_BUDGET]
    for _ in range(_MAX_MOVES):
        best = _best_move(a, b, items, budget)
        if best is None:
            break
        x, y, m1, m2, n1, n2 = best
        # The other side of a change the moved phrase is cut from stays with what is left of
        # it: with the words before the phrase, or after it when none are before ("depends in
        # first" -> "to first ... depends" leaves "in" -> "to").
        (i1, i2, j1, j2), _ = items[x]
        if _has_text(a, m2, i2) and not _has_text(a, i1, m1):
            old_pieces = [[i1, m1, j1, j1], [m1, m2, j1, j1], [m2, i2, j1, j2]]
        else:
            old_pieces = [[i1, m1, j1, j2], [m1, m2, j2, j2], [m2, i2, j2, j2]]
        cut_old = _absorb_space(a, old_pieces, side=0)
        (i1, i2, j1, j2), _ = items[y]
        if _has_text(b, n2, j2) and not _has_text(b, j1, n1):
            new_pieces = [[i1, i1, j1, n1], [i1, i1, n1, n2], [i1, i2, n2, j2]]
        else:
            new_pieces = [[i1, i2, j1, n1], [i2, i2, n1, n2], [i2, i2, n2, j2]]
        cut_new = _absorb_space(b, new_pieces, side=2)
        pieces = {x: cut_old, y: cut_new}
        out: list[tuple[list[int], bool]] = []
        for k, item in enumerate(items):
            if k in pieces:
                pre, mid, post = pieces[k]
                out += [(piece, piece is mid) for piece in (pre, mid, post) if piece]
            else:
                out.append(item)
        items = out
    return items


def _has_text(toks: list[str], lo: int, hi: int) -> bool:
    """``toks[lo:hi]`` holds more than white space."""
    return any(not toks[k].isspace() for k in range(lo, hi))


def _best_move(
    a: list[str], b: list[str], items: list[tuple[list[int], bool]], budget: list[int]
) -> tuple[int, int, int, int, int, int] | None:
    """The longest run deleted in one region and inserted in another, if long enough."""
    deleted: dict[str, list[tuple[int, list[int], int]]] = {}
    for x, (r, moved) in enumerate(items):
        if moved:
            continue
        toks = [k for k in range(r[0], r[1]) if not a[k].isspace()]
        # A word on both sides of one change was recased there ("Assumption" -> "the
        # assumption"), not moved: it does not start a moved phrase.
        here = {b[k].casefold() for k in range(r[2], r[3])} if r[2] < r[3] else set()
        for p, k in enumerate(toks):
            if a[k].casefold() not in here:
                deleted.setdefault(a[k].casefold(), []).append((x, toks, p))
    if not deleted:
        return None
    best = None
    best_count = 0
    for y, (q, moved) in enumerate(items):
        if moved:
            continue
        new_toks = [k for k in range(q[2], q[3]) if not b[k].isspace()]
        keys = [b[k].casefold() for k in new_toks]
        for t, key in enumerate(keys):
            for x, old_toks, p in deleted.get(key, ()):
                if x == y:
                    continue
                budget[0] -= 1
                if budget[0] < 0:
                    return None
                if p and t and a[old_toks[p - 1]].casefold() == keys[t - 1]:
                    continue  # not the start of a maximal run
                n = 1
                while (
                    p + n < len(old_toks)
                    and t + n < len(keys)
                    and a[old_toks[p + n]].casefold() == keys[t + n]
                ):
                    n += 1
                budget[0] -= n
                if n <= best_count:
                    continue  # cannot hold more words than the best so far
                run = [a[k] for k in old_toks[p : p + n] if _is_word(a[k])]
                count = len(run)
                long_enough = (count >= MOVE_WORDS and max(map(len, run)) >= MOVE_PHRASE_LEN) or (
                    count == 1 and len(run[0]) >= MOVE_ONE_LEN
                )
                if count == 1 and not long_enough:
                    # Any single word moved alone: a pure deletion and a pure insertion
                    # holding nothing else ("each holding" -> "holding ... each").
                    rx, ry = items[x][0], items[y][0]
                    long_enough = (
                        rx[2] == rx[3] and ry[0] == ry[1] and n == len(old_toks) == len(keys)
                    )
                if long_enough and count > best_count:
                    best_count = count
                    best = (
                        x,
                        y,
                        old_toks[p],
                        old_toks[p + n - 1] + 1,
                        new_toks[t],
                        new_toks[t + n - 1] + 1,
                    )
    return best


#: Marks that end or open a clause, split off a short replacement when they stand apart.
CLAUSE_MARKS = frozenset(",;:")
#: Most words on the side of a replacement whose trailing clause mark is split off.
CLAUSE_MARK_WORDS = 3


def _edge(toks: list[str], lo: int, hi: int, *, at_end: bool) -> int:
    """Index of the last (or first) token of ``[lo, hi)`` that is not white space, or -1."""
    ks = range(hi - 1, lo - 1, -1) if at_end else range(lo, hi)
    return next((k for k in ks if not toks[k].isspace()), -1)


def _apart_mark(toks: list[str], lo: int, hi: int, *, at_end: bool) -> int:
    """Index of a clause mark at that edge of ``[lo, hi)`` set apart by white space, or -1."""
    k = _edge(toks, lo, hi, at_end=at_end)
    inner = k - 1 if at_end else k + 1
    if k >= 0 and toks[k] in CLAUSE_MARKS and lo <= inner < hi and toks[inner].isspace():
        return k
    return -1


def _split_clause_marks(
    a: list[str], b: list[str], region: list[int], moved: bool
) -> list[tuple[list[int], bool]]:
    """Clause marks standing apart at the edges of a short replacement are changes of their own.

    People mark "While" -> "In contrast ," as a replacement and an inserted comma, and
    ", i.e." -> "; that is" as two replacements: a comma, semicolon or colon set apart by white
    space at the end of one side only (a side of at most ``CLAUSE_MARK_WORDS`` words), or at
    the start of both sides, is cut off (measured on human-marked edits, bench/diff_quality.py,
    train split). A mark glued to its word ("contrast,") stays with it.
    """
    i1, i2, j1, j2 = region
    if moved or i1 == i2 or j1 == j2:
        return [(region, moved)]
    if not any(t in CLAUSE_MARKS or t.isspace() for t in (a[i1], a[i2 - 1], b[j1], b[j2 - 1])):
        return [(region, moved)]  # the common case, cheaply: words at every edge
    ka = _apart_mark(a, i1, i2, at_end=True)
    kb = _apart_mark(b, j1, j2, at_end=True)
    lead = _apart_mark(a, i1, i2, at_end=False) >= 0 and _apart_mark(b, j1, j2, at_end=False) >= 0
    if (ka < 0 and kb < 0 and not lead) or not _has_word(a, i1, i2) or not _has_word(b, j1, j2):
        return [(region, moved)]
    pieces: list[tuple[list[int], bool]] = []
    ka_other = b[_edge(b, j1, j2, at_end=True)] in CLAUSE_MARKS
    kb_other = a[_edge(a, i1, i2, at_end=True)] in CLAUSE_MARKS
    tail: list[tuple[list[int], bool]] = []
    if ka >= 0 and not ka_other and _words(a, i1, i2) <= CLAUSE_MARK_WORDS:
        i2, tail = ka - 1, [([ka - 1, i2, j2, j2], False)]  # the mark and the space before it
    elif kb >= 0 and not kb_other and _words(b, j1, j2) <= CLAUSE_MARK_WORDS:
        j2, tail = kb - 1, [([i2, i2, kb - 1, j2], False)]
    ka = _apart_mark(a, i1, i2, at_end=False)
    kb = _apart_mark(b, j1, j2, at_end=False)
    if ka >= 0 and kb >= 0:
        if a[ka + 1] == b[kb + 1]:  # the white space after the marks is kept
            pieces.append(([i1, ka + 1, j1, kb + 1], False))
        else:
            pieces.append(([i1, ka + 2, j1, kb + 2], False))
        i1, j1 = ka + 2, kb + 2
    if not _has_word(a, i1, i2) or not _has_word(b, j1, j2):
        return [(region, moved)]
    return [*pieces, ([i1, i2, j1, j2], False), *tail]


def _words(toks: list[str], lo: int, hi: int) -> int:
    return sum(1 for k in range(lo, hi) if _is_word(toks[k]))


def _has_word(toks: list[str], lo: int, hi: int) -> bool:
    return any(_is_word(toks[k]) for k in range(lo, hi))


#: A replacement with this many words or more on one side is a deletion plus an insertion: a
#: long rewrite replaces nothing word for word (tuned on human-marked edits, train split).
SPLIT_REPLACE_WORDS = 6


def _is_word(token: str) -> bool:
    """A word or number, not a mark, a symbol or white space."""
    return WORD.match(token) is not None


def _split_replace(
    a: list[str], b: list[str], region: list[int], moved: bool
) -> list[tuple[list[int], bool]]:
    """A long replacement as a deletion and an insertion at the same place."""
    i1, i2, j1, j2 = region
    if moved or i1 == i2 or j1 == j2:
        return [(region, moved)]
    old_words = sum(1 for k in range(i1, i2) if _is_word(a[k]))
    new_words = sum(1 for k in range(j1, j2) if _is_word(b[k]))
    if max(old_words, new_words) >= SPLIT_REPLACE_WORDS:
        return [([i1, i2, j1, j1], False), ([i2, i2, j1, j2], False)]
    return [(region, moved)]


def _absorb_space(toks: list[str], pieces: list[list[int]], side: int) -> list[list[int] | None]:
    """Pre, moved and post pieces; a piece of white space alone joins the moved one."""
    pre, mid, post = pieces
    other = 2 - side

    def blank(piece: list[int]) -> bool:
        return piece[other] == piece[other + 1] and all(
            toks[k].isspace() for k in range(piece[side], piece[side + 1])
        )

    out: list[list[int] | None] = [pre, mid, post]
    if blank(pre):
        mid[side] = pre[side]
        out[0] = None
    if blank(post):
        mid[side + 1] = post[side + 1]
        out[2] = None
    return [p if p is None or p[0] < p[1] or p[2] < p[3] else None for p in out]


def _punctuation_only(old: str, new: str) -> bool:
    """Both sides hold punctuation, symbols or white space only (and not both nothing)."""
    return not fingerprint(old) and not fingerprint(new) and bool(old.strip() or new.strip())


def _regions(a: list[str], b: list[str]) -> list[list[int]]:
    """Changed token ranges ``[i1, i2, j1, j2]`` between the matched words of ``a`` and ``b``."""
    ai = [k for k, t in enumerate(a) if not t.isspace()]
    bi = [k for k, t in enumerate(b) if not t.isspace()]
    aw = [a[k] for k in ai]
    bw = [b[k] for k in bi]
    pairs: list[tuple[int, int]] = [(-1, -1)]
    for i, j, n in _shift_blocks(aw, bw, _matching_blocks(aw, bw)):
        pairs += [(ai[i + t], bi[j + t]) for t in range(n)]
    pairs.append((len(a), len(b)))
    out = []
    for (pa, pb), (qa, qb) in zip(pairs, pairs[1:], strict=False):
        if qa - pa > 1 or qb - pb > 1:
            out += _split_cosmetic(a, b, pa + 1, qa, pb + 1, qb)
    return out


def _split_cosmetic(a: list[str], b: list[str], i1: int, i2: int, j1: int, j2: int):
    """Cut a changed range at words equal but for case or marks ("Even" -> "even").

    Such a word is a cosmetic change of its own, so it is neither merged into a substantive
    change nor hidden with one.
    """
    ai = [k for k in range(i1, i2) if not a[k].isspace() and fingerprint(a[k])]
    bi = [k for k in range(j1, j2) if not b[k].isspace() and fingerprint(b[k])]
    if not ai or not bi:
        return [[i1, i2, j1, j2]]
    keys_a = [fingerprint(a[k]) for k in ai]
    keys_b = [fingerprint(b[k]) for k in bi]
    out = []
    pa, pb = i1, j1
    for i, j, n in _matching_blocks(keys_a, keys_b):
        for t in range(n):
            ka, kb = ai[i + t], bi[j + t]
            if ka > pa or kb > pb:
                out.append([pa, ka, pb, kb])
            out.append([ka, ka + 1, kb, kb + 1])
            pa, pb = ka + 1, kb + 1
    if i2 > pa or j2 > pb:
        out.append([pa, i2, pb, j2])
    return out


def _shift_blocks(
    a: list[str], b: list[str], blocks: list[tuple[int, int, int]]
) -> list[tuple[int, int, int]]:
    """Drop a kept run that an insertion or deletion beside it repeats, joining two edits.

    "said aid trucks reach" -> "said that with aid from the army , a convoy of aid trucks
    reaches": the LCS may keep the first "aid" and report two insertions, or keep the second
    and report one; both keep as much. Where an insertion (or deletion) ends with the kept run
    before it, and another change stands before that run, the run is kept at the end of the
    insertion instead and the two changes become one (diff-match-patch's ``cleanupMerge``
    shift); the same to the right. The common subsequence keeps its length. Measured on
    human-marked edits (bench/diff_quality.py, train split).
    """
    out = [list(m) for m in blocks if m[2]]
    k = 0
    steps = 4 * len(out) + 8  # each shift joins two runs or moves one to a text edge
    while k < len(out) and steps:
        steps -= 1
        if _shift_one(a, b, out, k):
            k = max(k - 1, 0)  # the run joined a neighbour: look again from the one before
        else:
            k += 1
    return [tuple(m) for m in out]  # type: ignore[misc]


def _shift_one(a: list[str], b: list[str], out: list[list[int]], k: int) -> bool:
    """Shift the kept run ``out[k]`` across the pure insertion or deletion beside it, if it can
    (see :func:`_shift_blocks`); True when ``out`` changed."""
    i, j, n = out[k]
    pi, pj, pn = out[k - 1] if k else (0, 0, 0)
    qi, qj, qn = out[k + 1] if k + 1 < len(out) else (len(a), len(b), 0)
    if not (i > pi + pn or j > pj + pn) or not (qi > i + n or qj > j + n):
        return False  # no change on one side of the run: nothing to join
    # A pure insertion (or deletion) after the run that ends with the run.
    if qi == i + n and qj - (j + n) >= n and b[qj - n : qj] == b[j : j + n]:
        out[k] = [i, qj - n, n]
    elif qj == j + n and qi - (i + n) >= n and a[qi - n : qi] == a[i : i + n]:
        out[k] = [qi - n, j, n]
    # A pure insertion (or deletion) before the run that starts with the run.
    elif i == pi + pn and j - (pj + pn) >= n and b[pj + pn : pj + pn + n] == b[j : j + n]:
        out[k] = [i, pj + pn, n]
    elif j == pj + pn and i - (pi + pn) >= n and a[pi + pn : pi + pn + n] == a[i : i + n]:
        out[k] = [pi + pn, j, n]
    else:
        return False
    i, j, n = out[k]
    if k + 1 < len(out) and i + n == qi and j + n == qj:
        out[k][2] += qn
        del out[k + 1]
    elif k and pi + pn == i and pj + pn == j:
        out[k - 1][2] += n
        del out[k]
    return True


def _matching_blocks(a: list[str], b: list[str]) -> list[tuple[int, int, int]]:
    """Runs ``(i, j, n)`` of equal tokens, in order (a longest common subsequence).

    Measured on human-marked edits (bench/diff_quality.py, train split), rapidfuzz's LCS
    agrees with people slightly better than difflib's longest-block matching on these tokens,
    and runs in C++.
    """
    return [
        (i1, j1, i2 - i1) for tag, i1, i2, j1, j2 in Indel.opcodes(a, b).as_list() if tag == "equal"
    ]


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
    whole_below: float = 0.3,
) -> list[SentenceOp]:
    """Sentence operations (equal/insert/delete/edit) covering both texts, in order.

    Sentences are matched by their text without surrounding white space; unmatched runs are
    paired in order by word similarity (at least ``sentence_threshold``). A run of changed
    sentences on both sides in which some are left unpaired (a rewrite, or sentences cut
    differently) is diffed as one unit when enough of it survives
    (:func:`corpus.diff.similarity.survives`). An edited unit
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
        # One old and one new sentence between unchanged ones stand in the same place: they
        # pair at a lower similarity, as paragraphs do.
        lone = i2 - i1 == 1 and j2 - j1 == 1
        threshold = min(sentence_threshold, PLACE_FLOOR) if lone else sentence_threshold
        pairs = _pair_in_order(
            [old[s:e] for s, e in ob[i1:i2]], [new[s:e] for s, e in nb[j1:j2]], threshold
        )
        if i2 > i1 and j2 > j1 and len(pairs) < max(i2 - i1, j2 - j1):
            # Sentences left unpaired beside others: a rewrite, or cuts that differ ("Fig. 3"
            # -> "FIG . 3"). Diff the run as one unit when enough of it survives.
            o, n = (ob[i1][0], ob[i2 - 1][1]), (nb[j1][0], nb[j2 - 1][1])
            a, b = old[o[0] : o[1]], new[n[0] : n[1]]
            if survives(words(a), words(b)):
                out.append(_pair(old, new, o, n, word_similarity(a, b), whole_below))
                continue
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
    return _moves_across(out) if len(out) > 1 else out


def _moves_across(ops: list[SentenceOp]) -> list[SentenceOp]:
    """Flag a phrase deleted in one sentence and inserted in another as moved.

    Inside one unit the word diff finds moves itself; a phrase that went from one sentence to
    another (or a whole sentence that moved) is a deletion in one operation and an insertion
    in another. Both must be whole changes holding the same words (case-blind), as with a
    single word deleted alone and inserted alone inside a unit.
    """
    deleted: dict[tuple[str, ...], list[tuple[int, int]]] = {}
    for x, op in enumerate(ops):
        for k, change in enumerate(op.changes):
            if change.op == DELETE and not change.moved:
                deleted.setdefault(tuple(words(change.old)), []).append((x, k))
    if not deleted:
        return ops
    flagged: dict[int, set[int]] = {}
    for y, op in enumerate(ops):
        for k, change in enumerate(op.changes):
            if change.op != INSERT or change.moved:
                continue
            key = tuple(words(change.new))
            if not key:
                continue
            for n, (x, kx) in enumerate(deleted.get(key, ())):
                if x != y:
                    flagged.setdefault(x, set()).add(kx)
                    flagged.setdefault(y, set()).add(k)
                    del deleted[key][n]
                    break
    if not flagged:
        return ops
    out = []
    for x, op in enumerate(ops):
        if x in flagged:
            changes = tuple(
                attrs.evolve(c, moved=True) if k in flagged[x] else c
                for k, c in enumerate(op.changes)
            )
            op = attrs.evolve(op, changes=changes)
        out.append(op)
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

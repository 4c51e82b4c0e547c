"""Reading order of paragraph operations: the new document's order, deletions in place.

A deletion is shown at the start of the gap it left: right after the last in-place operation
(equal, edit, split, merge) whose old paragraphs come before it. Moves and insertions stand at
their new position.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from .model import DELETE, INSERT, MOVE, ParagraphOp


def order_ops(ops: Iterable[ParagraphOp]) -> list[ParagraphOp]:
    ops = list(ops)
    placed = sorted((op for op in ops if op.new), key=lambda op: op.new[0])
    deleted = sorted((op for op in ops if not op.new), key=lambda op: op.old[0])
    anchor_pos: list[int] = []  # position in ``placed``
    anchor_old: list[int] = []  # largest old index of that anchor (increasing)
    for pos, op in enumerate(placed):
        if op.op not in (MOVE, INSERT) and op.old:
            anchor_pos.append(pos)
            anchor_old.append(max(op.old))
    before: dict[int, list[ParagraphOp]] = {}
    for op in deleted:
        k = bisect.bisect_left(anchor_old, op.old[0])
        slot = anchor_pos[k - 1] + 1 if k else 0
        before.setdefault(slot, []).append(op)
    out: list[ParagraphOp] = []
    for pos, op in enumerate(placed):
        out.extend(before.get(pos, ()))
        out.append(op)
    out.extend(before.get(len(placed), ()))
    return out


__all__ = ["DELETE", "order_ops"]

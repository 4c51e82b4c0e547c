"""Hiding cosmetic churn: a display-only view of a diff without cosmetic changes."""

from __future__ import annotations

import attrs

from .model import COSMETIC, EQUAL, SUBSTANTIVE, DocumentDiff, ParagraphOp, SentenceOp
from .summary import compute_summary


def _sentence(s: SentenceOp) -> SentenceOp:
    kept = tuple(c for c in s.changes if c.cls == SUBSTANTIVE)
    if len(kept) == len(s.changes):
        return s
    return attrs.evolve(
        s, op=EQUAL if not kept else s.op, changes=kept, cls=s.cls if kept else None
    )


def _paragraph(op: ParagraphOp) -> ParagraphOp:
    if op.op == EQUAL:
        return op
    if op.cls == COSMETIC and op.old and op.new:
        # Shown as unchanged: one text, the new one (a cosmetic split stays one unit).
        return ParagraphOp(EQUAL, op.old, op.new, new_text=op.new_text)
    if not op.sentences:
        return op
    return attrs.evolve(op, sentences=tuple(_sentence(s) for s in op.sentences))


def without_cosmetic(diff: DocumentDiff) -> DocumentDiff:
    """The diff with cosmetic changes hidden (``--ignore cosmetic``); for display, not apply."""
    header = tuple(h for h in diff.header if h.cls != COSMETIC)
    ops = [
        _paragraph(op)
        for op in diff.paragraphs
        if not (op.cls == COSMETIC and (not op.old or not op.new))
    ]
    return attrs.evolve(
        diff,
        header=header,
        paragraphs=tuple(ops),
        summary=compute_summary(header, ops),
        ignored=tuple(dict.fromkeys([*diff.ignored, COSMETIC])),
    )

"""Shared pieces of the diff renderers: options, paragraph labels, context selection."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

import attrs

from .model import DELETE, EQUAL, INSERT, MERGE, MOVE, SPLIT, ParagraphOp, WordChange


@attrs.frozen
class RenderOptions:
    """What ``corpus diff`` passes to a renderer's ``render(diff, options)``.

    ``color``: ANSI colours instead of ``[-old-]{+new+}`` markers (text format only).
    ``context``: unchanged paragraphs shown around each change (None: all of them).
    ``stat``: the summary figures only. ``old_label``/``new_label``: how to name the inputs.
    """

    color: bool = False
    context: int | None = 1
    stat: bool = False
    old_label: str = "old"
    new_label: str = "new"


def span_label(indices: Sequence[int]) -> str:
    """``¶3`` or ``¶3-4`` (1-based)."""
    if not indices:
        return "¶-"
    first, last = indices[0] + 1, indices[-1] + 1
    return f"¶{first}" if first == last else f"¶{first}-{last}"


def describe(op: ParagraphOp) -> str:
    """A short heading: ``¶2 edited``, ``¶1 moved from ¶3``, ``¶4-5 split from ¶4``."""
    new, old = span_label(op.new), span_label(op.old)
    if op.op == EQUAL:
        return new
    if op.op == INSERT:
        return f"{new} inserted"
    if op.op == DELETE:
        return f"{old} deleted (old numbering)"
    if op.op == MOVE:
        return f"{new} moved from {old}" + (" and edited" if op.edited else "")
    if op.op == SPLIT:
        return f"{new} split from {old}"
    if op.op == MERGE:
        return f"{new} merged from {old}"
    suffix = "" if op.edited else " (markup only)"
    return f"{new} edited" + ("" if old == new else f" (was {old})") + suffix


def visible(ops: Sequence[ParagraphOp], context: int | None) -> list[ParagraphOp | int]:
    """Ops to show, with runs of hidden unchanged paragraphs replaced by their count."""
    if context is None:
        return list(ops)
    changed = [k for k, op in enumerate(ops) if op.op != EQUAL]
    show = [False] * len(ops)
    for k in changed:
        for m in range(max(0, k - context), min(len(ops), k + context + 1)):
            show[m] = True
    out: list[ParagraphOp | int] = []
    hidden = 0
    for op, shown in zip(ops, show, strict=True):
        if shown:
            if hidden:
                out.append(hidden)
                hidden = 0
            out.append(op)
        else:
            hidden += 1
    if hidden:
        out.append(hidden)
    return out


def segments(
    text: str, changes: Sequence[WordChange], *, side: str
) -> list[tuple[str, WordChange | None]]:
    """Cut ``text`` (the ``old`` or ``new`` side) into plain runs and changed runs."""
    out: list[tuple[str, WordChange | None]] = []
    pos = 0
    key = (lambda c: c.old_start) if side == "old" else (lambda c: c.new_start)
    for change in sorted(changes, key=key):
        start, end = (
            (change.old_start, change.old_end)
            if side == "old"
            else (change.new_start, change.new_end)
        )
        if start > pos:
            out.append((text[pos:start], None))
        out.append((text[start:end], change))
        pos = end
    if pos < len(text):
        out.append((text[pos:], None))
    return out


def marked_html(
    text: str,
    changes: Sequence[WordChange],
    side: str,
    mark: Callable[[str, str, WordChange], str],
) -> str:
    """``text`` as escaped HTML, each changed piece drawn by ``mark(tag, piece, change)``
    (tag ``del`` on the old side, ``ins`` on the new); empty changed pieces are left out."""
    tag = "del" if side == "old" else "ins"
    out = []
    for piece, change in segments(text, changes, side=side):
        if change is None:
            out.append(escape(piece))
        elif piece:
            out.append(mark(tag, piece, change))
    return "".join(out)


def cosmetic_kind(old: str, new: str) -> str:
    """What a cosmetic change touches: ``white space``, ``case``, ``quote style`` or
    ``punctuation`` (the first that explains it)."""
    if "".join(old.split()) == "".join(new.split()):
        return "white space"
    if (
        old.casefold() == new.casefold()
        or " ".join(old.split()).casefold() == " ".join(new.split()).casefold()
    ):
        return "case"
    quotes = str.maketrans(dict.fromkeys("“”„‟«»", '"') | dict.fromkeys("‘’‚‛‹›`´", "'"))
    if old.translate(quotes) == new.translate(quotes):
        return "quote style"
    return "punctuation"


def stat_lines(diff) -> list[str]:
    """The ``--stat`` text: what changed, in figures."""
    s = diff.summary
    if diff.is_empty:
        return ["no changes"]
    lines = [diff.summary_line()]
    lines.append(
        f"words: +{s.words_added} -{s.words_removed}; {s.changed_ratio:.1%} of the text changed"
    )
    lines.append(
        f"paragraphs: {s.paragraphs_old} -> {s.paragraphs_new}; {s.paragraphs_unchanged} "
        f"unchanged, {s.paragraphs_edited} edited, {s.paragraphs_moved} moved, "
        f"{s.paragraphs_inserted} inserted, {s.paragraphs_deleted} deleted, "
        f"{s.paragraphs_split} split, {s.paragraphs_merged} merged"
    )
    lines.append(f"changes: {s.substantive_changes} substantive, {s.cosmetic_changes} cosmetic")
    return lines

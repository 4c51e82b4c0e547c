"""Summary figures of a diff and the one-line description ``corpus log`` prints."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .model import (
    DELETE,
    EDIT,
    EQUAL,
    INSERT,
    MERGE,
    MOVE,
    SPLIT,
    SUBSTANTIVE,
    FieldChange,
    ParagraphOp,
    Summary,
)
from .text import word_count

if TYPE_CHECKING:  # pragma: no cover
    from .model import DocumentDiff


def compute_summary(header: Sequence[FieldChange], ops: Sequence[ParagraphOp]) -> Summary:
    added = removed = 0
    changed_chars = 0
    old_chars = new_chars = 0
    n_old = n_new = 0
    counts = dict.fromkeys((EQUAL, INSERT, DELETE, EDIT, MOVE, SPLIT, MERGE), 0)
    substantive = cosmetic = 0
    for h in header:
        if h.cls == SUBSTANTIVE:
            substantive += 1
        else:
            cosmetic += 1
    for op in ops:
        n_old += len(op.old)
        n_new += len(op.new)
        if op.op == EQUAL:
            old_chars += len(op.new_text or "")
            new_chars += len(op.new_text or "")
            counts[EQUAL] += 1
            continue
        old_chars += len(op.old_text or "")
        new_chars += len(op.new_text or "")
        counts[op.op] += 1
        if op.op == MOVE:
            substantive += 1
        if op.op in (INSERT, DELETE):
            text = op.new_text if op.op == INSERT else op.old_text
            if op.cls == SUBSTANTIVE:
                substantive += 1
                changed_chars += len(text or "")
                if op.op == INSERT:
                    added += word_count(text or "")
                else:
                    removed += word_count(text or "")
            else:
                cosmetic += 1
            continue
        if not op.edited and op.op == EDIT:
            cosmetic += 1  # markup only
        for change in op.changes:
            if change.cls == SUBSTANTIVE:
                substantive += 1
                added += word_count(change.new)
                removed += word_count(change.old)
                changed_chars += len(change.old) + len(change.new)
            else:
                cosmetic += 1
    total = old_chars + new_chars
    return Summary(
        words_added=added,
        words_removed=removed,
        paragraphs_old=n_old,
        paragraphs_new=n_new,
        paragraphs_unchanged=counts[EQUAL],
        paragraphs_changed=sum(v for k, v in counts.items() if k != EQUAL),
        paragraphs_inserted=counts[INSERT],
        paragraphs_deleted=counts[DELETE],
        paragraphs_edited=counts[EDIT],
        paragraphs_moved=counts[MOVE],
        paragraphs_split=counts[SPLIT],
        paragraphs_merged=counts[MERGE],
        header_changed=tuple(h.field for h in header),
        substantive_changes=substantive,
        cosmetic_changes=cosmetic,
        changed_ratio=round(changed_chars / total, 4) if total else 0.0,
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def summary_line(diff: DocumentDiff) -> str:
    """``title changed; +12 -3 words; 2 paragraphs edited, 1 moved`` (or ``no changes``)."""
    if diff.is_empty:
        return "no changes"
    s = diff.summary
    parts = []
    if s.header_changed:
        names = list(s.header_changed)
        joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        parts.append(f"{joined} changed")
    if s.words_added or s.words_removed:
        parts.append(f"+{s.words_added} -{s.words_removed} words")
    items = [
        (s.paragraphs_edited, "edited"),
        (s.paragraphs_moved, "moved"),
        (s.paragraphs_inserted, "inserted"),
        (s.paragraphs_deleted, "deleted"),
        (s.paragraphs_split, "split"),
        (s.paragraphs_merged, "merged"),
    ]
    para = [(n, what) for n, what in items if n]
    if para:
        first_n, first_what = para[0]
        text = [f"{_plural(first_n, 'paragraph')} {first_what}"]
        text += [f"{n} {what}" for n, what in para[1:]]
        parts.append(", ".join(text))
    if s.substantive_changes == 0:
        parts.append("cosmetic only")
    return "; ".join(parts)

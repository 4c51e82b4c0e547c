"""Apply a diff to its old document (or its reverse to the new one).

Applying rebuilds each new paragraph from the old paragraphs and the word changes, checking
every old text it relies on, so a diff applied to the wrong base fails loudly instead of
producing a mix of two versions.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from ..errors import CorpusError
from ..model import Block, Document, Span
from .model import EQUAL, INSERT, MOVE, BlockMeta, DocumentDiff, ParagraphOp, WordChange
from .order import order_ops
from .summary import compute_summary

SEPARATOR = "\n\n"


class DiffConflict(CorpusError):
    """A diff does not fit the document it is applied to."""

    code = "DIFF_CONFLICT"


def reverse_diff(diff: DocumentDiff) -> DocumentDiff:
    """The diff that turns ``new`` back into ``old``."""
    header = tuple(h.reversed() for h in diff.header)
    ops = order_ops(op.reversed() for op in diff.paragraphs)
    return DocumentDiff(
        old_key=diff.new_key,
        new_key=diff.old_key,
        header=header,
        paragraphs=tuple(ops),
        summary=compute_summary(header, ops),
        old_hash=diff.new_hash,
        new_hash=diff.old_hash,
        ignored=diff.ignored,
    )


def patch_text(text: str, changes: tuple[WordChange, ...] | list[WordChange]) -> str:
    """Apply word changes (offsets into ``text``) and return the new text."""
    out = []
    pos = 0
    for change in sorted(changes, key=lambda c: (c.old_start, c.old_end)):
        if change.old_start < pos or text[change.old_start : change.old_end] != change.old:
            raise DiffConflict(
                f"expected {change.old!r} at offset {change.old_start}, found "
                f"{text[change.old_start : change.old_end]!r}"
            )
        out.append(text[pos : change.old_start])
        out.append(change.new)
        pos = change.old_end
    out.append(text[pos:])
    return "".join(out)


def _cut(text: str, lengths: tuple[int, ...]) -> list[str]:
    if not lengths:
        return [text]
    pieces, pos = [], 0
    for k, n in enumerate(lengths):
        pieces.append(text[pos : pos + n])
        pos += n
        if k < len(lengths) - 1:
            if text[pos : pos + len(SEPARATOR)] != SEPARATOR:
                raise DiffConflict("paragraph lengths do not fit the text")
            pos += len(SEPARATOR)
    if pos != len(text):
        raise DiffConflict("paragraph lengths do not fit the text")
    return pieces


def _block(text: str, meta: BlockMeta | None, like: Block | None) -> Block:
    if meta is not None:
        return Block(text=text, kind=meta.kind, spans=tuple(Span.from_dict(s) for s in meta.spans))
    if like is not None:
        return Block(text=text, kind=like.kind, spans=like.spans)
    return Block(text=text)


def _op_blocks(op: ParagraphOp, old: Document) -> list[Block]:
    try:
        olds = [old.blocks[i] for i in op.old]
    except IndexError:
        raise DiffConflict(
            f"the diff refers to paragraph {max(op.old) + 1}, past the end"
        ) from None
    old_text = SEPARATOR.join(b.text for b in olds)
    expected = op.new_text if op.op == EQUAL else op.old_text
    if olds and expected is not None and expected != old_text:
        raise DiffConflict(f"paragraph {op.old[0] + 1} is not the text this diff was made from")
    if op.op == INSERT:
        text = op.new_text or ""
    elif op.op == EQUAL:
        text = old_text
    else:
        text = patch_text(old_text, op.changes)
    pieces = _cut(text, op.new_lengths)
    copy_like = olds[0] if (op.op == EQUAL or (op.op == MOVE and not op.edited)) else None
    metas: list[BlockMeta | None] = list(op.new_markup) or [None] * len(pieces)
    if len(metas) != len(pieces):
        raise DiffConflict("markup does not fit the paragraphs")
    return [_block(t, m, copy_like) for t, m in zip(pieces, metas, strict=True)]


def _field(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name == "date":
        return dt.date.fromisoformat(value)
    if name == "issued":
        return dt.datetime.fromisoformat(value)
    if name == "keywords":
        return tuple(value)
    return value


def apply_diff(old: Document, diff: DocumentDiff) -> Document:
    """The new document rebuilt from ``old`` and ``diff`` (content only).

    The result's content (what :attr:`Document.content_hash` covers) equals the new document's;
    provenance is not part of a diff, so ``source``, ``annotations`` and source line numbers
    are left empty. Raises :class:`DiffConflict` when ``old`` is not the diff's base.
    """
    from .engine import field_value

    if diff.ignored:
        raise DiffConflict(
            f"this diff hides {', '.join(diff.ignored)} changes and cannot be applied"
        )
    changes: dict[str, Any] = {}
    for fc in diff.header:
        if field_value(old, fc.field) != fc.old:
            raise DiffConflict(f"{fc.field} is {field_value(old, fc.field)!r}, not {fc.old!r}")
        changes[fc.field] = _field(fc.field, fc.new)
    produced: dict[int, Block] = {}
    for op in diff.paragraphs:
        if not op.new:
            _op_blocks(op, old)  # checks the deleted text
            continue
        blocks = _op_blocks(op, old)
        if len(blocks) != len(op.new):
            raise DiffConflict("paragraph lengths do not fit the paragraphs")
        for j, block in zip(op.new, blocks, strict=True):
            produced[j] = block
    if sorted(produced) != list(range(len(produced))):
        raise DiffConflict("the diff's paragraphs do not form a complete document")
    return attrs.evolve(
        old,
        key=diff.new_key,
        blocks=tuple(produced[j] for j in range(len(produced))),
        source=None,
        annotations={},
        **changes,
    )

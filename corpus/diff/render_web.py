"""The diff as an HTML fragment for the web view (``corpus serve``): two layouts, moves linked.

:mod:`corpus.diff.render_html` writes a whole self-contained page for ``corpus diff --format
html``; a page of the web view needs a fragment instead, with no inline style or script (the
server sends a strict Content-Security-Policy), anchors both ways for moved paragraphs, runs of
unchanged paragraphs folded into ``<details>``, and every change marked ``class="change"`` so the
page script can step through them. Both renderers share :mod:`corpus.diff.render`: paragraph
labels (:func:`~corpus.diff.render.describe`) and the cutting of texts into changed runs
(:func:`~corpus.diff.render.segments`). Every piece of document text is escaped here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape

import attrs

from .model import (
    DELETE,
    EQUAL,
    INSERT,
    MERGE,
    MOVE,
    SPLIT,
    DocumentDiff,
    FieldChange,
    ParagraphOp,
    WordChange,
)
from .render import describe, marked_html, span_label

#: The two layouts: old and new ``side`` by side, or one ``inline`` column.
VIEWS = ("side", "inline")


@attrs.frozen
class MovedAway:
    """Where a moved paragraph used to stand: a row linking to where it went."""

    op: ParagraphOp
    anchor: int


@attrs.frozen
class WebDiffOptions:
    """``view``: ``side`` or ``inline``. ``context``: unchanged paragraphs kept around a change
    (None: all shown); the rest are folded. ``old_label``/``new_label`` head the columns."""

    view: str = "side"
    context: int | None = 1
    old_label: str = "old"
    new_label: str = "new"

    def __attrs_post_init__(self) -> None:
        if self.view not in VIEWS:
            raise ValueError(f"view must be one of {', '.join(VIEWS)}, not {self.view!r}")


Item = ParagraphOp | MovedAway


def with_move_sources(ops: Sequence[ParagraphOp]) -> list[Item]:
    """The ops in new reading order, plus a :class:`MovedAway` row where each move came from.

    A moved paragraph's old place is not an op of its own; it goes after the last op (moves
    aside) whose old paragraphs come before it, so the old column reads in old order.
    """
    items: list[Item] = list(ops)
    moves = [(k, op) for k, op in enumerate(ops) if op.op == MOVE and op.old]
    for anchor, (_, op) in sorted(enumerate(moves), key=lambda m: -m[1][1].old[0]):
        where = 0
        for pos, item in enumerate(items):
            if (
                isinstance(item, ParagraphOp)
                and item.op != MOVE
                and item.old
                and item.old[-1] < op.old[0]
            ):
                where = pos + 1
        items.insert(where, MovedAway(op, anchor))
    return items


def _fold(items: Sequence[Item], context: int | None) -> list[Item | list[Item]]:
    """Runs of unchanged paragraphs further than ``context`` from a change become a list."""
    if context is None:
        return list(items)
    changed = [k for k, it in enumerate(items) if not (_is_equal(it))]
    show = [False] * len(items)
    for k in changed:
        for m in range(max(0, k - context), min(len(items), k + context + 1)):
            show[m] = True
    out: list[Item | list[Item]] = []
    hidden: list[Item] = []
    for item, shown in zip(items, show, strict=True):
        if shown:
            if hidden:
                out.append(hidden)
                hidden = []
            out.append(item)
        else:
            hidden.append(item)
    if hidden:
        out.append(hidden)
    return out


def _is_equal(item: Item) -> bool:
    return isinstance(item, ParagraphOp) and item.op == EQUAL


def _marked(text: str, changes: Sequence[WordChange], side: str) -> str:
    return marked_html(text, changes, side, _mark)


def _mark(tag: str, piece: str, change: WordChange) -> str:
    return f'<{tag} class="{change.cls}">{escape(piece)}</{tag}>'


def _inline_marked(new_text: str, changes: Sequence[WordChange]) -> str:
    """The new text with each change as ``<del>old</del><ins>new</ins>`` in place."""
    out = []
    pos = 0
    for change in sorted(changes, key=lambda c: (c.new_start, c.old_start)):
        out.append(escape(new_text[pos : change.new_start]))
        if change.old:
            out.append(f'<del class="{change.cls}">{escape(change.old)}</del>')
        if change.new:
            out.append(f'<ins class="{change.cls}">{escape(change.new)}</ins>')
        pos = change.new_end
    out.append(escape(new_text[pos:]))
    return "".join(out)


def _whole(tag: str, text: str | None, cls: str | None) -> str:
    return f'<{tag} class="{cls or "substantive"}">{escape(text)}</{tag}>' if text else ""


def _sides(op: ParagraphOp) -> tuple[str, str]:
    """(old cell, new cell) of a side-by-side row."""
    if op.op == EQUAL:
        return escape(op.new_text or ""), escape(op.new_text or "")
    if op.op == INSERT:
        return "", _whole("ins", op.new_text, op.cls)
    if op.op == DELETE:
        return _whole("del", op.old_text, op.cls), ""
    return (
        _marked(op.old_text or "", op.changes, "old"),
        _marked(op.new_text or "", op.changes, "new"),
    )


def _inline(op: ParagraphOp) -> str:
    if op.op == EQUAL:
        return escape(op.new_text or "")
    if op.op == INSERT:
        return _whole("ins", op.new_text, op.cls)
    if op.op == DELETE:
        return _whole("del", op.old_text, op.cls)
    if op.op in (SPLIT, MERGE) and not op.sentences:
        return _whole("del", op.old_text, op.cls) + _whole("ins", op.new_text, op.cls)
    return _inline_marked(op.new_text or "", op.changes)


class _Renderer:
    def __init__(self, diff: DocumentDiff, options: WebDiffOptions) -> None:
        self.diff = diff
        self.options = options
        self.moves = {
            id(op): anchor
            for anchor, op in enumerate(op for op in diff.paragraphs if op.op == MOVE and op.old)
        }
        self.changes = 0

    def _change_id(self) -> str:
        self.changes += 1
        return f"change-{self.changes}"

    def label(self, op: ParagraphOp) -> str:
        text = escape(describe(op))
        if op.op == MOVE and id(op) in self.moves:
            anchor = self.moves[id(op)]
            return (
                f'{text} <a class="move-link" href="#moved-from-{anchor}" '
                f'title="where it was">↑ old place</a>'
            )
        return text

    def row(self, item: Item) -> str:
        if isinstance(item, MovedAway):
            op = item.op
            label = (
                f"{escape(span_label(op.old))} moved to {escape(span_label(op.new))} "
                f'<a class="move-link" href="#moved-to-{item.anchor}" title="where it went">'
                "↓ new place</a>"
            )
            cells = (
                f'<div class="old">{escape(op.old_text or "")}</div><div class="new"></div>'
                if self.options.view == "side"
                else '<div class="text"></div>'
            )
            return (
                f'<div class="row moved-away" id="moved-from-{item.anchor}">'
                f'<div class="label">{label}</div>{cells}</div>'
            )
        op = item
        classes = ["row", f"op-{op.op}"]
        attrs_ = ""
        if op.op != EQUAL:
            classes.append("change")
            if op.cls:
                classes.append(op.cls)
            attrs_ = f' id="{self._change_id()}"'
        if op.op == MOVE and id(op) in self.moves:
            # The anchor the old place links to; the row keeps its change id for n/p.
            attrs_ += f' data-anchor="moved-to-{self.moves[id(op)]}"'
            target = f'<span class="anchor" id="moved-to-{self.moves[id(op)]}"></span>'
        else:
            target = ""
        if self.options.view == "side":
            old, new = _sides(op)
            cells = f'<div class="old">{old}</div><div class="new">{new}</div>'
        else:
            cells = f'<div class="text">{_inline(op)}</div>'
        return (
            f'<div class="{" ".join(classes)}"{attrs_}>'
            f'<div class="label">{target}{self.label(op)}</div>{cells}</div>'
        )

    def header_row(self, fc: FieldChange) -> str:
        old = _value(fc.old)
        new = _value(fc.new)
        if fc.changes and isinstance(fc.old, str) and isinstance(fc.new, str):
            old_html = _marked(fc.old, fc.changes, "old")
            new_html = _marked(fc.new, fc.changes, "new")
        else:
            old_html = f'<del class="{fc.cls}">{escape(old)}</del>' if old else ""
            new_html = f'<ins class="{fc.cls}">{escape(new)}</ins>' if new else ""
        if self.options.view == "side":
            cells = f'<div class="old">{old_html}</div><div class="new">{new_html}</div>'
        else:
            cells = f'<div class="text">{old_html} → {new_html}</div>'
        return (
            f'<div class="row field change {fc.cls}" id="{self._change_id()}">'
            f'<div class="label">{escape(_field_label(fc.field))} changed</div>{cells}</div>'
        )

    def render(self) -> str:
        view = self.options.view
        parts = [f'<div class="diff view-{view}">']
        if view == "side":
            parts.append(
                '<div class="row head"><div class="label"></div>'
                f'<div class="old">{escape(self.options.old_label)}</div>'
                f'<div class="new">{escape(self.options.new_label)}</div></div>'
            )
        if self.diff.header:
            parts.append('<div class="fields">')
            parts += [self.header_row(fc) for fc in self.diff.header]
            parts.append("</div>")
        parts.append('<div class="paragraphs">')
        if self.diff.is_empty:
            parts.append('<p class="no-changes">No changes.</p>')
        for item in _fold(with_move_sources(self.diff.paragraphs), self.options.context):
            if isinstance(item, list):
                noun = "paragraph" if len(item) == 1 else "paragraphs"
                parts.append(
                    f'<details class="unchanged"><summary>{len(item)} unchanged {noun}</summary>'
                )
                parts += [self.row(it) for it in item]
                parts.append("</details>")
            else:
                parts.append(self.row(item))
        parts.append("</div></div>")
        return "\n".join(parts)


def _field_label(name: str) -> str:
    return "headline" if name == "title" else name


def _value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    return str(value)


def render_fragment(diff: DocumentDiff, options: WebDiffOptions | None = None) -> str:
    """``diff`` as an HTML fragment (a ``<div class="diff">``); all text escaped.

    Header changes come first, then the paragraphs in the new reading order. Each change is an
    element with ``class="change"`` and ``id="change-N"``; a moved paragraph links to
    ``#moved-from-K`` (a row where it stood) and that row back to ``#moved-to-K``.
    """
    return _Renderer(diff, options or WebDiffOptions()).render()


_HEADER_PART = re.compile(r"^(?P<names>[a-z, ]+?) changed(?=;|$)")


def headline_wording(line: str) -> str:
    """A summary line with the title named as readers know it: ``headline changed; ...``."""
    match = _HEADER_PART.match(line)
    if not match:
        return line
    names = re.sub(r"\btitle\b", "headline", match["names"])
    return f"{names} changed{line[match.end() :]}"


def timeline_line(diff: DocumentDiff) -> str:
    """One line for a version timeline: ``headline changed; +3 -1 words; 2 paragraphs edited``.

    :meth:`DocumentDiff.summary_line`, in :func:`headline_wording`.
    """
    return headline_wording(diff.summary_line())

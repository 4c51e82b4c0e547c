"""The ``text`` diff format: word-diff style, ``[-old-]{+new+}`` or ANSI colours."""

from __future__ import annotations

import click

from .model import DELETE, EQUAL, INSERT, DocumentDiff, FieldChange, ParagraphOp, WordChange
from .render import RenderOptions, describe, stat_lines, visible


class _Marks:
    def __init__(self, color: bool) -> None:
        self.color = color

    def deleted(self, text: str, moved: bool = False) -> str:
        if self.color:
            return click.style(text, fg="magenta" if moved else "red", strikethrough=True)
        return f"[-{text}-]"

    def inserted(self, text: str, moved: bool = False) -> str:
        if self.color:
            return click.style(text, fg="magenta" if moved else "green", underline=True)
        return f"{{+{text}+}}"

    def label(self, text: str) -> str:
        return click.style(text, fg="cyan", bold=True) if self.color else text

    def dim(self, text: str) -> str:
        return click.style(text, dim=True) if self.color else text


def _change(c: WordChange, marks: _Marks) -> str:
    blank_old, blank_new = not c.old.strip(), not c.new.strip()
    if blank_old and blank_new and ("\n\n" in c.old) != ("\n\n" in c.new):
        # A paragraph break made or removed: show a mark, keep the new layout.
        return (marks.inserted("¶") if "\n\n" in c.new else marks.deleted("¶")) + c.new
    out = ""
    if c.old:
        out += marks.deleted(c.old, c.moved)
    if c.new:
        out += marks.inserted(c.new, c.moved)
    return out


def inline(text: str, changes: tuple[WordChange, ...], marks: _Marks) -> str:
    """The new text with each change shown in place (offsets are into ``text``, the new side)."""
    out = []
    pos = 0
    for c in sorted(changes, key=lambda c: (c.new_start, c.old_start)):
        out.append(text[pos : c.new_start])
        out.append(_change(c, marks))
        pos = c.new_end
    out.append(text[pos:])
    return "".join(out)


def _value(value) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "(none)"
    return str(value)


def _header(fc: FieldChange, marks: _Marks) -> str:
    if fc.changes and isinstance(fc.new, str) and fc.new:
        body = inline(fc.new, fc.changes, marks)
    else:
        body = marks.deleted(_value(fc.old)) + marks.inserted(_value(fc.new))
    note = " (cosmetic)" if fc.cls == "cosmetic" else ""
    return f"{marks.label(fc.field + ':')} {body}{note}"


def _paragraph(op: ParagraphOp, marks: _Marks) -> list[str]:
    if op.op == EQUAL:
        return [marks.dim(describe(op)), op.new_text or ""]
    heading = describe(op)
    if op.cls == "cosmetic":
        heading += " (cosmetic)"
    if op.op == INSERT:
        body = marks.inserted(op.new_text or "")
    elif op.op == DELETE:
        body = marks.deleted(op.old_text or "")
    else:
        body = inline(op.new_text or "", op.changes, marks)
    return [marks.label(heading), body]


class TextFormat:
    """Word-diff text; coloured on a terminal, ``[-old-]{+new+}`` markers otherwise."""

    name = "text"
    description = "word diff for people: markers when piped, colours on a terminal"

    def render(self, diff: DocumentDiff, options: RenderOptions) -> str:
        marks = _Marks(options.color)
        if options.stat:
            return "\n".join(stat_lines(diff)) + "\n"
        if diff.is_empty:
            return ""
        lines = [
            marks.label(f"--- {options.old_label}"),
            marks.label(f"+++ {options.new_label}"),
        ]
        lines += [_header(fc, marks) for fc in diff.header]
        for item in visible(diff.paragraphs, options.context):
            lines.append("")
            if isinstance(item, int):
                noun = "paragraph" if item == 1 else "paragraphs"
                lines.append(marks.dim(f"… {item} unchanged {noun} …"))
            else:
                lines += _paragraph(item, marks)
        lines += ["", marks.dim(diff.summary_line())]
        return "\n".join(lines) + "\n"

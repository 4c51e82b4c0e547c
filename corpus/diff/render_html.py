"""The ``html`` diff format: one self-contained page, old and new side by side.

No external assets (styles inline, no scripts), every piece of text escaped. Rows are
paragraph operations; ``<del>``/``<ins>`` mark word changes with a class saying
``substantive`` or ``cosmetic`` (and ``moved`` for half of a moved phrase); moved rows say
where they came from. Cosmetic marks say what kind they are (white space, case, punctuation,
quote style) in their ``title``; changed white space is drawn with visible signs (``·`` for a
space, ``↵`` for a line break, ``→`` for a tab) by the style sheet, so the page's text stays
exactly the documents' text. Headers change word by word; a legend explains the marks.
"""

from __future__ import annotations

from html import escape

from .model import (
    COSMETIC,
    DELETE,
    EQUAL,
    INSERT,
    DocumentDiff,
    FieldChange,
    ParagraphOp,
    WordChange,
)
from .render import RenderOptions, cosmetic_kind, describe, marked_html, stat_lines, visible

_STYLE = """
body{font-family:Georgia,serif;margin:2em;color:#222}
h1{font-size:1.2em}
table{border-collapse:collapse;width:100%}
td,th{vertical-align:top;padding:.4em .6em;border-top:1px solid #ddd;white-space:pre-wrap}
th{text-align:left;font-family:sans-serif;font-size:.85em;color:#555}
td.label{font-family:sans-serif;font-size:.8em;color:#555;width:9em;white-space:normal}
del{background:#fdd;color:#900}
ins{background:#dfd;color:#060;text-decoration:none}
del.cosmetic,ins.cosmetic{background:#eee;color:#555;text-decoration:none;
  border-bottom:1px dashed #999}
del.cosmetic{text-decoration:line-through #bbb}
del.moved,ins.moved{background:#ece6ff;color:#42208a}
del.ws,ins.ws{text-decoration:none;border-bottom:1px dashed #999}
.ws::before{content:attr(data-ws);color:#888}
p.legend{font-family:sans-serif;font-size:.85em;color:#555}
p.legend del,p.legend ins{padding:0 .2em}
tr.move td{background:#f3f0ff}
tr.insert td.new,tr.delete td.old{background:#f7fff7}
tr.delete td.old{background:#fff7f7}
tr.equal td{color:#666}
tr.skip td{text-align:center;color:#999;font-style:italic}
p.summary{font-family:sans-serif}
""".strip()


_VISIBLE = {" ": "·", "\n": "↵", "\t": "→", "\u00a0": "⍽"}


def _mark(tag: str, piece: str, change: WordChange) -> str:
    """One changed run: its class, a title saying what kind of change, visible white space."""
    classes = [change.cls]
    title = "moved phrase" if change.moved else change.cls
    if change.moved:
        classes.append("moved")
    if change.cls == COSMETIC:
        title = f"cosmetic: {cosmetic_kind(change.old, change.new)}"
    if piece and not piece.strip():
        classes.append("ws")
        signs = "".join(_VISIBLE.get(ch, "␣") for ch in piece)
        return (
            f'<{tag} class="{" ".join(classes)}" title="{escape(title)}" '
            f'data-ws="{escape(signs)}">{escape(piece)}</{tag}>'
        )
    return f'<{tag} class="{" ".join(classes)}" title="{escape(title)}">{escape(piece)}</{tag}>'


def _marked(text: str, changes, side: str) -> str:
    return marked_html(text, changes, side, _mark)


def _side(op: ParagraphOp, side: str) -> str:
    text = (op.old_text if side == "old" else op.new_text) or ""
    if op.op == EQUAL:
        return escape(op.new_text or "")
    if op.op in (INSERT, DELETE):
        tag = "ins" if op.op == INSERT else "del"
        return f'<{tag} class="{op.cls}">{escape(text)}</{tag}>' if text else ""
    return _marked(text, op.changes, side)


def _row(op: ParagraphOp) -> str:
    old = _side(op, "old") if op.op != INSERT else ""
    new = _side(op, "new") if op.op != DELETE else ""
    return (
        f'<tr class="{op.op}" data-old="{escape(",".join(map(str, op.old)))}" '
        f'data-new="{escape(",".join(map(str, op.new)))}">'
        f'<td class="label">{escape(_label(op))}</td>'
        f'<td class="old">{old}</td><td class="new">{new}</td></tr>'
    )


def _label(op: ParagraphOp) -> str:
    """The row heading, with "(cosmetic)" as in the text format."""
    label = describe(op)
    if op.op != EQUAL and op.cls == COSMETIC:
        label += " (cosmetic)"
    return label


def _value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _header_row(fc: FieldChange) -> str:
    """A changed header field; text fields (the title above all) word by word."""
    label = fc.field + (" (cosmetic)" if fc.cls == COSMETIC else "")
    if fc.changes and isinstance(fc.old, str) and isinstance(fc.new, str):
        old, new = _marked(fc.old, fc.changes, "old"), _marked(fc.new, fc.changes, "new")
    else:
        old = f'<del class="{fc.cls}">{escape(_value(fc.old))}</del>' if fc.old else ""
        new = f'<ins class="{fc.cls}">{escape(_value(fc.new))}</ins>' if fc.new else ""
    return (
        f'<tr class="{fc.cls}"><td class="label">{escape(label)}</td>'
        f'<td class="old">{old}</td><td class="new">{new}</td></tr>'
    )


_LEGEND = (
    '<p class="legend">Marks: <del class="substantive">deleted</del> '
    '<ins class="substantive">inserted</ins> '
    '<del class="cosmetic">cosmetic</del><ins class="cosmetic">change</ins> '
    "(white space, punctuation, case or quote style only; hover for which) "
    '<del class="moved">moved</del><ins class="moved">phrase</ins>. '
    "Changed white space is shown as · (space), ↵ (line break), → (tab). "
    "Rows: edited, moved (shaded), inserted, deleted, split, merged; a paragraph number "
    "is in the new numbering unless it says old.</p>"
)


class HtmlFormat:
    """One self-contained HTML page: header changes on top, then old and new side by side."""

    name = "html"
    description = "self-contained side-by-side HTML page"

    def render(self, diff: DocumentDiff, options: RenderOptions) -> str:
        title = f"{options.old_label} → {options.new_label}"
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{escape(title)}</title>",
            f"<style>{_STYLE}</style></head><body>",
            f"<h1>{escape(title)}</h1>",
            f'<p class="summary">{escape(diff.summary_line())}</p>',
        ]
        if not diff.is_empty:
            parts.append(_LEGEND)
        if options.stat:
            parts.append('<ul class="stat">')
            parts += [f"<li>{escape(line)}</li>" for line in stat_lines(diff)]
            parts.append("</ul>")
        if diff.header:
            parts.append('<table class="header"><tr><th>field</th><th>old</th><th>new</th></tr>')
            parts += [_header_row(fc) for fc in diff.header]
            parts.append("</table>")
        if not options.stat:
            parts.append('<table class="body">')
            parts.append(
                f"<tr><th></th><th>{escape(options.old_label)}</th>"
                f"<th>{escape(options.new_label)}</th></tr>"
            )
            for item in visible(diff.paragraphs, options.context):
                if isinstance(item, int):
                    noun = "paragraph" if item == 1 else "paragraphs"
                    parts.append(
                        f'<tr class="skip"><td colspan="3">… {item} unchanged {noun} …</td></tr>'
                    )
                else:
                    parts.append(_row(item))
            parts.append("</table>")
        parts.append("</body></html>")
        return "\n".join(parts) + "\n"

"""The ``html`` diff format: one self-contained page, old and new side by side.

No external assets (styles inline, no scripts), every piece of text escaped. Rows are
paragraph operations; ``<del>``/``<ins>`` mark word changes with a class saying
``substantive`` or ``cosmetic``; moved rows say where they came from.
"""

from __future__ import annotations

from html import escape

from .model import DELETE, EQUAL, INSERT, DocumentDiff, ParagraphOp
from .render import RenderOptions, describe, segments, stat_lines, visible

_STYLE = """
body{font-family:Georgia,serif;margin:2em;color:#222}
h1{font-size:1.2em}
table{border-collapse:collapse;width:100%}
td,th{vertical-align:top;padding:.4em .6em;border-top:1px solid #ddd;white-space:pre-wrap}
th{text-align:left;font-family:sans-serif;font-size:.85em;color:#555}
td.label{font-family:sans-serif;font-size:.8em;color:#555;width:9em;white-space:normal}
del{background:#fdd;color:#900}
ins{background:#dfd;color:#060;text-decoration:none}
del.cosmetic,ins.cosmetic{background:#eee;color:#666}
tr.move td{background:#f3f0ff}
tr.insert td.new,tr.delete td.old{background:#f7fff7}
tr.delete td.old{background:#fff7f7}
tr.equal td{color:#666}
tr.skip td{text-align:center;color:#999;font-style:italic}
p.summary{font-family:sans-serif}
""".strip()


def _side(op: ParagraphOp, side: str) -> str:
    text = (op.old_text if side == "old" else op.new_text) or ""
    if op.op == EQUAL:
        return escape(op.new_text or "")
    if op.op in (INSERT, DELETE):
        tag = "ins" if op.op == INSERT else "del"
        return f'<{tag} class="{op.cls}">{escape(text)}</{tag}>' if text else ""
    tag = "del" if side == "old" else "ins"
    out = []
    for piece, change in segments(text, op.changes, side=side):
        if change is None:
            out.append(escape(piece))
        elif piece:
            out.append(f'<{tag} class="{change.cls}">{escape(piece)}</{tag}>')
    return "".join(out)


def _row(op: ParagraphOp) -> str:
    old = _side(op, "old") if op.op != INSERT else ""
    new = _side(op, "new") if op.op != DELETE else ""
    return (
        f'<tr class="{op.op}" data-old="{escape(",".join(map(str, op.old)))}" '
        f'data-new="{escape(",".join(map(str, op.new)))}">'
        f'<td class="label">{escape(describe(op))}</td>'
        f'<td class="old">{old}</td><td class="new">{new}</td></tr>'
    )


def _value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


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
        if options.stat:
            parts.append('<ul class="stat">')
            parts += [f"<li>{escape(line)}</li>" for line in stat_lines(diff)]
            parts.append("</ul>")
        if diff.header:
            parts.append('<table class="header"><tr><th>field</th><th>old</th><th>new</th></tr>')
            for fc in diff.header:
                parts.append(
                    f'<tr class="{fc.cls}"><td class="label">{escape(fc.field)}</td>'
                    f'<td class="old"><del class="{fc.cls}">{escape(_value(fc.old))}</del></td>'
                    f'<td class="new"><ins class="{fc.cls}">{escape(_value(fc.new))}</ins></td>'
                    "</tr>"
                )
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

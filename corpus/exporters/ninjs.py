"""ninjs exporters: IPTC "News in JSON" 3.1 (``ninjs``, the default) and 2.2 (``ninjs2``).

The two versions are different schemas (3.x camelCase, 2.x lowercase names) and both refuse
unknown properties, so one builder writes 3.1 names and :data:`NAMES_2_2` renames them for
2.2. Whatever the model has that ninjs has no property for goes where the schema allows it:
plugin annotations become ``descriptions`` with role ``corpus-annotation:<plugin>`` and media
type ``application/json``; the key and content hash become ``altIds``. The mapping is in
``docs/formats.md``. No schema library is needed at run time; the tests validate the output
against the official schemas with format checking.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from corpus.exporters.newsml import (
    content_created,
    document_uri,
    iso_datetime,
    valid_language,
    version_created,
)
from corpus.formats import Exporter
from corpus.hookspecs import hookimpl
from corpus.model import Block, Document, Span

#: The official schema ``$id`` of each version, written to ``standard.schema``.
SCHEMA_URIS = {
    "3.1": "http://www.iptc.org/std/ninjs/ninjs-schema_3.1.json#",
    "2.2": "http://www.iptc.org/std/ninjs/ninjs-schema_2.2.json#",
}
#: Role prefix of the descriptions that carry plugin annotations.
ANNOTATION_ROLE = "corpus-annotation:"
#: ninjs 3.1 property -> ninjs 2.2 property, for every name that differs.
NAMES_2_2 = {
    "representationType": "representationtype",
    "versionCreated": "versioncreated",
    "contentCreated": "contentcreated",
    "contentType": "contenttype",
    "charCount": "charcount",
    "wordCount": "wordcount",
    "altIds": "altids",
}
#: Span kind -> HTML element used in the ``text/html`` body.
HTML_ELEMENTS = {"emphasis": "em", "quote": "q", "link": "a"}
#: Span kinds listed as ninjs people / organisations / places, by property.
ENTITY_PROPERTIES = {"person": "people", "org": "organisations", "location": "places"}


def block_html(block: Block) -> str:
    """One block as an HTML element, its spans as properly nested inline elements.

    A table block becomes a ``table`` (``thead``/``tbody``/``tfoot``, ``th`` and ``td``
    cells, each with its own spans), so no cell is lost from the HTML body.
    """
    if block.rows:
        return _table_html(block)
    tag = "h2" if block.kind == "subheadline" else "p"
    return f"<{tag}>{inline_html(block.text, block.spans)}</{tag}>"


def _table_html(block: Block) -> str:
    out = ["<table>"]
    for section in ("head", "body", "foot"):
        rows = [row for row in block.rows if row.section == section]
        if not rows:
            continue
        out.append(f"<t{section}>")
        for row in rows:
            out.append("<tr>")
            for cell in row.cells:
                tag = "th" if cell.header else "td"
                out.append(f"<{tag}>{inline_html(cell.text, cell.spans)}</{tag}>")
            out.append("</tr>")
        out.append(f"</t{section}>")
    out.append("</table>")
    return "".join(out)


def inline_html(text: str, spans: tuple[Span, ...]) -> str:
    """``text`` as HTML with ``spans`` as nested inline elements.

    The text is cut at every span boundary; each piece is wrapped in the spans covering it,
    outer (earlier, longer) first, so crossing spans are closed and reopened, never crossed.
    """
    from html import escape  # here, not at the top: html loads its entity tables

    cuts = sorted({0, len(text), *(s.start for s in spans), *(s.end for s in spans)})
    order = sorted(range(len(spans)), key=lambda i: (spans[i].start, -spans[i].end, i))
    out: list[str] = []
    stack: list[int] = []
    for start, end in zip(cuts, cuts[1:], strict=False):
        wanted = [i for i in order if spans[i].start <= start and end <= spans[i].end]
        keep = 0
        while keep < min(len(stack), len(wanted)) and stack[keep] == wanted[keep]:
            keep += 1
        while len(stack) > keep:
            out.append(_close(spans[stack.pop()]))
        for index in [i for i in order if spans[i].start == spans[i].end == start]:
            out.append(_open(spans[index]) + _close(spans[index]))
        for index in wanted[keep:]:
            out.append(_open(spans[index]))
            stack.append(index)
        out.append(escape(text[start:end], quote=False))
    while stack:
        out.append(_close(spans[stack.pop()]))
    at_end = [i for i in order if spans[i].start == spans[i].end == len(text)]
    out.extend(_open(spans[i]) + _close(spans[i]) for i in at_end)
    return "".join(out)


def _element(span: Span) -> tuple[str, str]:
    from html import escape

    name = HTML_ELEMENTS.get(span.kind, "span")
    attrs = ""
    if name == "a" and span.attributes.get("href"):
        attrs = f' href="{escape(str(span.attributes["href"]))}"'
    elif name == "span":
        attrs = f' class="{escape(span.kind)}"'
    return name, attrs


def _open(span: Span) -> str:
    name, attrs = _element(span)
    return f"<{name}{attrs}>"


def _close(span: Span) -> str:
    return f"</{_element(span)[0]}>"


def _entities(document: Document) -> dict[str, list[dict[str, str]]]:
    found: dict[str, dict[str, None]] = {}
    pieces = [(b.text, b.spans) for b in document.blocks]
    pieces += [(c.text, c.spans) for b in document.blocks for r in b.rows for c in r.cells]
    for text, spans in pieces:
        for span in spans:
            prop = ENTITY_PROPERTIES.get(span.kind)
            name = text[span.start : span.end].strip()
            if prop and name:
                found.setdefault(prop, {})[name] = None
    return {prop: [{"name": n, "rel": "mentioned"} for n in names] for prop, names in found.items()}


def build_ninjs(document: Document, version: str = "3.1") -> dict[str, Any]:
    """The ninjs object (3.1 or 2.2) for a document, as plain JSON-safe data."""
    if version not in SCHEMA_URIS:
        raise ValueError(f"unsupported ninjs version {version!r}")
    body_text = document.body_text
    item: dict[str, Any] = {
        "uri": document_uri(document),
        "standard": {"name": "ninjs", "version": version, "schema": SCHEMA_URIS[version]},
        "type": "text",
        "representationType": "full",
        "versionCreated": iso_datetime(version_created(document)),
    }
    created = content_created(document)
    if created is not None:
        if document.issued is None:  # ninjs needs a full date-time: a day is its midnight UTC
            created = iso_datetime(version_created(document))
        item["contentCreated"] = created
    if document.urgency is not None and 1 <= document.urgency <= 9:
        item["urgency"] = document.urgency
    language = valid_language(document.language)
    if language:
        item["language"] = language
    if document.title:
        item["headlines"] = [{"role": "main", "value": document.title}]
    if document.byline:
        item["by"] = document.byline
    if document.dateline:
        item["located"] = document.dateline
    descriptions = []
    if document.abstract:
        descriptions.append({"role": "summary", "value": document.abstract})
    for plugin, data in sorted(document.annotations.items()):
        descriptions.append(
            {
                "role": ANNOTATION_ROLE + plugin,
                "contentType": "application/json",
                "value": json.dumps(data, ensure_ascii=False, sort_keys=True),
            }
        )
    if descriptions:
        item["descriptions"] = descriptions
    if document.blocks:
        item["bodies"] = [
            {
                "role": "text",
                "contentType": "text/plain",
                "charCount": len(body_text),
                "wordCount": len(body_text.split()),
                "value": body_text,
            },
            {
                "role": "html",
                "contentType": "text/html",
                "value": "".join(block_html(b) for b in document.blocks),
            },
        ]
    if document.keywords:
        item["subjects"] = [{"name": k, "rel": "keyword"} for k in document.keywords]
    item.update(_entities(document))
    item["altIds"] = [
        {"role": "corpus-key", "value": document.key},
        {"role": "corpus-content-hash", "value": "sha256:" + document.content_hash},
    ]
    return item if version == "3.1" else _rename(item, NAMES_2_2)


def _rename(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {names.get(k, k): _rename(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename(v, names) for v in value]
    return value


class NinjsExporter(Exporter):
    """IPTC ninjs JSON, valid against the official schema of its version."""

    def __init__(self, name: str, version: str) -> None:
        self.name = name
        self.version = version
        self.extension = f".ninjs{'' if version == '3.1' else '2'}.json"
        self.media_type = "application/ninjs+json"
        self.description = f"IPTC ninjs {version} (News in JSON)"

    def export(self, document: Document) -> bytes:
        text = json.dumps(build_ninjs(document, self.version), ensure_ascii=False, indent=2)
        return (text + "\n").encode("utf-8")


@hookimpl
def register_exporters(register: Callable[[Any], None]) -> None:
    register(NinjsExporter("ninjs", "3.1"))
    register(NinjsExporter("ninjs2", "2.2"))

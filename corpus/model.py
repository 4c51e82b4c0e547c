"""The canonical document model: immutable attrs value objects and their lossless JSON form.

Every reader produces a :class:`Document`; every stage that changes one returns a new one
(``attrs.evolve``). Inline markup is stand-off (:class:`Span` offsets into a block's text), so
plugins add markup without touching text and NITF inline elements survive a round trip.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Mapping
from typing import Any

import attrs

#: Version of the JSON form written by :func:`document_to_dict`; bump on incompatible change.
MODEL_VERSION = 1


class Severity(str, enum.Enum):
    """How bad a finding is. ``error`` means the file is rejected (nothing exported)."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    def __str__(self) -> str:
        return self.value


_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


@attrs.frozen
class Finding:
    """Something noticed about an input: what (code), how bad, where, and what to do."""

    code: str
    severity: Severity = attrs.field(converter=Severity)
    message: str
    path: str | None = None
    line: int | None = None
    plugin: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "plugin": self.plugin,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        return cls(
            code=data["code"],
            severity=data["severity"],
            message=data["message"],
            path=data.get("path"),
            line=data.get("line"),
            plugin=data.get("plugin"),
        )

    def __str__(self) -> str:
        where = self.path or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        by = f" [{self.plugin}]" if self.plugin else ""
        return f"{where}: {self.severity.value} {self.code}{by}: {self.message}"


def _freeze_mapping(value: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(value or {})


@attrs.frozen
class Span:
    """Stand-off inline markup: ``text[start:end]`` of its block is a ``kind`` (em, person...).

    Kinds used by the built-ins: ``emphasis``, ``quote``, ``person``, ``org``, ``location``,
    ``link`` (attribute ``href``). Plugins may use their own kinds; exporters that do not know a
    kind keep the text and drop only the markup.
    """

    start: int
    end: int
    kind: str
    attributes: dict[str, str] = attrs.field(factory=dict, converter=_freeze_mapping, hash=False)

    def __attrs_post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise ValueError(f"bad span offsets {self.start}..{self.end}")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"start": self.start, "end": self.end, "kind": self.kind}
        if self.attributes:
            out["attributes"] = dict(self.attributes)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Span:
        return cls(data["start"], data["end"], data["kind"], data.get("attributes") or {})


def _span_order(span: Span) -> tuple[int, int, str]:
    return (span.start, -span.end, span.kind)


def _spans(value: Any) -> tuple[Span, ...]:
    if not value:
        return ()
    return tuple(sorted(value, key=_span_order))


def _check_spans(spans: tuple[Span, ...], text: str, what: str) -> None:
    for span in spans:
        if span.end > len(text):
            raise ValueError(
                f"span {span.kind} {span.start}..{span.end} is past the end of its {what} "
                f"({len(text)} characters)"
            )


#: Table row sections, in the order a table holds them.
ROW_SECTIONS = ("head", "body", "foot")
#: Between the cells of a table row, and between its rows, in a table block's ``text``.
CELL_SEPARATOR = "\t"
ROW_SEPARATOR = "\n"


@attrs.frozen
class Cell:
    """One table cell: its text and inline spans; ``header`` for a heading cell (``th``).

    ``attributes`` keeps layout attributes such as ``colspan``, ``rowspan`` or ``align``.
    """

    text: str
    header: bool = False
    spans: tuple[Span, ...] = attrs.field(default=(), converter=_spans)
    attributes: dict[str, str] = attrs.field(factory=dict, converter=_freeze_mapping, hash=False)

    def __attrs_post_init__(self) -> None:
        if self.spans:
            _check_spans(self.spans, self.text, "cell")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text}
        if self.header:
            out["header"] = True
        if self.spans:
            out["spans"] = [s.to_dict() for s in self.spans]
        if self.attributes:
            out["attributes"] = dict(self.attributes)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cell:
        return cls(
            text=data["text"],
            header=bool(data.get("header", False)),
            spans=tuple(Span.from_dict(s) for s in data.get("spans", ())),
            attributes=data.get("attributes") or {},
        )


def _cells(value: Any) -> tuple[Cell, ...]:
    return tuple(value)


@attrs.frozen
class Row:
    """One table row: its cells, and the section it belongs to (head, body or foot)."""

    cells: tuple[Cell, ...] = attrs.field(default=(), converter=_cells)
    section: str = "body"

    def __attrs_post_init__(self) -> None:
        if self.section not in ROW_SECTIONS:
            raise ValueError(f"row section {self.section!r} is not one of {ROW_SECTIONS}")

    @property
    def text(self) -> str:
        return CELL_SEPARATOR.join(cell.text for cell in self.cells)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"cells": [c.to_dict() for c in self.cells]}
        if self.section != "body":
            out["section"] = self.section
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Row:
        return cls(
            cells=tuple(Cell.from_dict(c) for c in data.get("cells", ())),
            section=data.get("section", "body"),
        )


def table_text(rows: tuple[Row, ...] | list[Row]) -> str:
    """The plain text of a table: cells separated by a tab, rows by a line break."""
    return ROW_SEPARATOR.join(row.text for row in rows)


def _rows(value: Any) -> tuple[Row, ...]:
    return tuple(value)


@attrs.frozen
class Block:
    """One paragraph of body text, where it came from, and its inline spans.

    ``kind`` is ``paragraph`` for body text; readers also keep non-body text as blocks of
    kind ``timestamp``, ``caption``, ``credit`` or ``subheadline`` rather than drop it.
    ``line_start``/``line_end`` are 1-based line numbers in the source file (inclusive), or
    None when the block did not come from a line-oriented source.

    A table is a block of kind ``table`` with ``rows`` (make one with :meth:`table`): its
    ``text`` is :func:`table_text` of the rows, so plain-text consumers (diff, search, word
    counts) see the cells; the spans of a table live in its cells.
    """

    text: str
    kind: str = "paragraph"
    line_start: int | None = None
    line_end: int | None = None
    spans: tuple[Span, ...] = attrs.field(default=(), converter=_spans)
    rows: tuple[Row, ...] = attrs.field(default=(), converter=_rows)

    def __attrs_post_init__(self) -> None:
        if self.spans:
            _check_spans(self.spans, self.text, "block")
        if self.rows:
            if self.spans:
                raise ValueError("a table block keeps its spans in its cells, not on the block")
            if self.text != table_text(self.rows):
                raise ValueError("a table block's text must be table_text(rows); use Block.table")

    @classmethod
    def table(
        cls,
        rows: tuple[Row, ...] | list[Row],
        *,
        kind: str = "table",
        line_start: int | None = None,
        line_end: int | None = None,
    ) -> Block:
        """A table block: its text is derived from the rows."""
        rows = tuple(rows)
        return cls(table_text(rows), kind, line_start, line_end, (), rows)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text, "kind": self.kind}
        if self.line_start is not None:
            out["lines"] = [self.line_start, self.line_end]
        if self.spans:
            out["spans"] = [s.to_dict() for s in self.spans]
        if self.rows:
            out["rows"] = [r.to_dict() for r in self.rows]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Block:
        lines = data.get("lines") or [None, None]
        return cls(
            text=data["text"],
            kind=data.get("kind", "paragraph"),
            line_start=lines[0],
            line_end=lines[1],
            spans=tuple(Span.from_dict(s) for s in data.get("spans", ())),
            rows=tuple(Row.from_dict(r) for r in data.get("rows", ())),
        )


@attrs.frozen
class Source:
    """Where a document came from: the raw file's identity, not its content."""

    path: str
    sha256: str
    encoding: str
    size: int
    format: str = "article"
    #: When the source was captured, if the input says (a WARC record's ``WARC-Date``, ISO
    #: 8601); the store dates the version it makes by it. Written only when set.
    captured: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {
            "path": self.path,
            "sha256": self.sha256,
            "encoding": self.encoding,
            "size": self.size,
            "format": self.format,
        }
        if self.captured is not None:
            out["captured"] = self.captured
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Source:
        return cls(**{f.name: data[f.name] for f in attrs.fields(cls) if f.name in data})


def _tuple(value: Any) -> tuple:
    return tuple(value)


@attrs.frozen
class Document:
    """A news article in canonical form.

    ``key`` is its stable identity across versions (by default the source path relative to
    the ingest root, without extension). ``annotations`` maps a plugin name to the JSON-safe
    data that plugin added. The content hash (:attr:`content_hash`) defines a version.
    """

    key: str
    title: str = ""
    date: dt.date | None = None
    byline: str | None = None
    blocks: tuple[Block, ...] = attrs.field(default=(), converter=_tuple)
    source: Source | None = None
    annotations: dict[str, Any] = attrs.field(factory=dict, converter=_freeze_mapping, hash=False)
    dateline: str | None = None
    abstract: str | None = None
    keywords: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    urgency: int | None = None
    language: str | None = None
    issued: dt.datetime | None = None
    # Memo of content_hash: documents are immutable, so it is computed at most once.
    _content_hash: str | None = attrs.field(
        default=None, init=False, eq=False, hash=False, repr=False
    )

    @property
    def body_text(self) -> str:
        """The body as plain text, paragraphs separated by a blank line."""
        return "\n\n".join(b.text for b in self.blocks)

    def content_dict(self) -> dict[str, Any]:
        """The fields that make up a version: content, not provenance or enrichment.

        Source (path, encoding, raw hash) and annotations are left out on purpose: the same
        text re-saved as Latin-1, or re-enriched by a newer plugin, is not a new version.
        """
        data = document_to_dict(self)
        for name in ("source", "annotations", "model_version", "key"):
            data.pop(name, None)
        for block in data["blocks"]:
            block.pop("lines", None)
        return data

    def _content_key(self) -> list[Any]:
        # The fields of content_dict() in a fixed order, as lists: one C-encoded json.dumps
        # call, several times cheaper than sorting the keys of the dict form.
        return [
            self.title,
            self.date.isoformat() if self.date else None,
            self.issued.isoformat() if self.issued else None,
            self.byline,
            self.dateline,
            self.abstract,
            list(self.keywords),
            self.urgency,
            self.language,
            [
                [
                    b.text,
                    b.kind,
                    [[s.start, s.end, s.kind, sorted(s.attributes.items())] for s in b.spans],
                ]
                # Rows only when there are some: hashes of table-less documents stay as
                # they were before tables were part of the model.
                + ([_rows_key(b.rows)] if b.rows else [])
                for b in self.blocks
            ],
        ]

    @property
    def content_hash(self) -> str:
        """sha256 of a canonical JSON encoding of the fields in :meth:`content_dict`."""
        if self._content_hash is None:
            import hashlib  # here: OpenSSL set-up costs every command ~2 ms at start-up

            text = json.dumps(self._content_key(), ensure_ascii=False, separators=(",", ":"))
            digest = hashlib.sha256(text.encode("utf-8", "surrogatepass"))
            object.__setattr__(self, "_content_hash", digest.hexdigest())
        return self._content_hash


def _rows_key(rows: tuple[Row, ...]) -> list[Any]:
    return [
        [
            row.section,
            [
                [
                    c.text,
                    c.header,
                    [[s.start, s.end, s.kind, sorted(s.attributes.items())] for s in c.spans],
                    sorted(c.attributes.items()),
                ]
                for c in row.cells
            ],
        ]
        for row in rows
    ]


def canonical_json(data: Any) -> str:
    """Deterministic JSON text: sorted keys, no insignificant white space, UTF-8 kept."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def document_to_dict(doc: Document) -> dict[str, Any]:
    """The lossless JSON-safe form of a document (see ``corpus/schemas/document.schema.json``)."""
    return {
        "model_version": MODEL_VERSION,
        "key": doc.key,
        "title": doc.title,
        "date": doc.date.isoformat() if doc.date else None,
        "issued": doc.issued.isoformat() if doc.issued else None,
        "byline": doc.byline,
        "dateline": doc.dateline,
        "abstract": doc.abstract,
        "keywords": list(doc.keywords),
        "urgency": doc.urgency,
        "language": doc.language,
        "blocks": [b.to_dict() for b in doc.blocks],
        "source": doc.source.to_dict() if doc.source else None,
        "annotations": json.loads(json.dumps(doc.annotations)) if doc.annotations else {},
    }


def document_from_dict(data: Mapping[str, Any]) -> Document:
    """Inverse of :func:`document_to_dict`. Raises KeyError/ValueError/TypeError on bad data."""
    version = data.get("model_version", MODEL_VERSION)
    if version != MODEL_VERSION:
        raise ValueError(
            f"unsupported model_version {version!r} (this corpus reads {MODEL_VERSION})"
        )
    date = data.get("date")
    issued = data.get("issued")
    source = data.get("source")
    return Document(
        key=data["key"],
        title=data.get("title", ""),
        date=dt.date.fromisoformat(date) if date else None,
        issued=dt.datetime.fromisoformat(issued) if issued else None,
        byline=data.get("byline"),
        dateline=data.get("dateline"),
        abstract=data.get("abstract"),
        keywords=tuple(data.get("keywords", ())),
        urgency=data.get("urgency"),
        language=data.get("language"),
        blocks=tuple(Block.from_dict(b) for b in data.get("blocks", ())),
        source=Source.from_dict(source) if source else None,
        annotations=data.get("annotations") or {},
    )


def document_to_json(doc: Document, *, indent: int | None = 2) -> str:
    """Pretty (default) or compact JSON text of a document, keys in a stable order."""
    return json.dumps(document_to_dict(doc), ensure_ascii=False, indent=indent, sort_keys=False)


def document_from_json(text: str | bytes) -> Document:
    return document_from_dict(json.loads(text))

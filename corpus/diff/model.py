"""The diff value objects: what changed between two documents, JSON-safe and self-describing.

A :class:`DocumentDiff` is a list of paragraph operations in the new document's reading order
(deletions sit where the deleted paragraph stood). Each operation carries the texts it speaks
about, so a renderer or a JSON consumer needs nothing else; word changes carry exact character
offsets into those texts, so :func:`corpus.diff.apply_diff` can rebuild the new document from the
old one and check, on the way, that it is patching the right base.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

#: Header fields compared, in display order.
HEADER_FIELDS = (
    "title",
    "date",
    "issued",
    "byline",
    "dateline",
    "abstract",
    "keywords",
    "urgency",
    "language",
)

#: Version of the JSON form written by :meth:`DocumentDiff.to_dict`; bump on incompatible change.
DIFF_VERSION = 1

SUBSTANTIVE = "substantive"
COSMETIC = "cosmetic"

#: Paragraph operations.
EQUAL = "equal"
INSERT = "insert"
DELETE = "delete"
EDIT = "edit"
MOVE = "move"
SPLIT = "split"
MERGE = "merge"
PARAGRAPH_OPS = (EQUAL, INSERT, DELETE, EDIT, MOVE, SPLIT, MERGE)
#: Word-level operations.
REPLACE = "replace"
WORD_OPS = (INSERT, DELETE, REPLACE)
SENTENCE_OPS = (EQUAL, INSERT, DELETE, EDIT)


def _ints(value: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in value)


#: The fields word changes and sentence operations share, in their JSON order.
_RANGE_FIELDS = ("op", "old_start", "old_end", "new_start", "new_end")


def _ranges_dict(item: WordChange | SentenceOp) -> dict[str, Any]:
    return {name: getattr(item, name) for name in _RANGE_FIELDS}


def _ranges_from(data: Mapping[str, Any]) -> dict[str, Any]:
    return {name: data[name] for name in _RANGE_FIELDS}


@attrs.frozen
class WordChange:
    """One run of changed tokens: ``old[old_start:old_end]`` became ``new[new_start:new_end]``.

    Offsets are characters (Python ``str`` indices) into the owning operation's ``old_text`` and
    ``new_text``. ``op`` is ``insert`` (empty old side), ``delete`` (empty new side) or
    ``replace``; ``cls`` is ``cosmetic`` when only white space, punctuation, case or quote style
    differ.
    """

    op: str
    old_start: int
    old_end: int
    new_start: int
    new_end: int
    old: str
    new: str
    cls: str = SUBSTANTIVE
    #: Half of a phrase that moved inside its sentence: its deletion in one place and its
    #: insertion in another both carry the flag (the text is applied as delete plus insert).
    moved: bool = False

    def to_dict(self) -> dict[str, Any]:
        out = {**_ranges_dict(self), "old": self.old, "new": self.new, "class": self.cls}
        if self.moved:
            out["moved"] = True
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WordChange:
        return cls(
            **_ranges_from(data),
            old=data["old"],
            new=data["new"],
            cls=data.get("class", SUBSTANTIVE),
            moved=bool(data.get("moved", False)),
        )

    def reversed(self) -> WordChange:
        op = {INSERT: DELETE, DELETE: INSERT}.get(self.op, self.op)
        return WordChange(
            op,
            self.new_start,
            self.new_end,
            self.old_start,
            self.old_end,
            self.new,
            self.old,
            self.cls,
            self.moved,
        )


@attrs.frozen
class SentenceOp:
    """One sentence of an edited paragraph: kept, inserted, deleted or edited word by word.

    ``old_start``/``old_end`` and ``new_start``/``new_end`` are character offsets of the sentence
    in the operation's texts (an inserted sentence has an empty old range at its position).
    """

    op: str
    old_start: int
    old_end: int
    new_start: int
    new_end: int
    cls: str | None = None
    changes: tuple[WordChange, ...] = attrs.field(default=(), converter=tuple)
    similarity: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out = _ranges_dict(self)
        if self.cls is not None:
            out["class"] = self.cls
        if self.similarity is not None:
            out["similarity"] = self.similarity
        if self.changes:
            out["changes"] = [c.to_dict() for c in self.changes]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SentenceOp:
        return cls(
            **_ranges_from(data),
            cls=data.get("class"),
            changes=tuple(WordChange.from_dict(c) for c in data.get("changes", ())),
            similarity=data.get("similarity"),
        )

    def reversed(self) -> SentenceOp:
        op = {INSERT: DELETE, DELETE: INSERT}.get(self.op, self.op)
        return SentenceOp(
            op,
            self.new_start,
            self.new_end,
            self.old_start,
            self.old_end,
            self.cls,
            tuple(c.reversed() for c in self.changes),
            self.similarity,
        )


@attrs.frozen
class BlockMeta:
    """A block's markup (kind and stand-off spans), carried only when it is not plain."""

    kind: str = "paragraph"
    spans: tuple[dict[str, Any], ...] = attrs.field(default=(), converter=tuple)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.spans:
            out["spans"] = [dict(s) for s in self.spans]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BlockMeta:
        return cls(data.get("kind", "paragraph"), tuple(data.get("spans", ())))


@attrs.frozen
class ParagraphOp:
    """One step of the paragraph alignment.

    ``old`` and ``new`` are 0-based block indices (several for ``merge``/``split``). The texts
    are the blocks' texts joined by a blank line (``"\\n\\n"``), with the blocks' lengths in
    ``old_lengths``/``new_lengths`` when there are several. ``equal`` carries its text once, as
    ``new_text``. ``markup`` is set only when a block involved has a kind other than
    ``paragraph`` or inline spans; absent, every produced block is a plain paragraph.
    """

    op: str
    old: tuple[int, ...] = attrs.field(default=(), converter=_ints)
    new: tuple[int, ...] = attrs.field(default=(), converter=_ints)
    old_text: str | None = None
    new_text: str | None = None
    cls: str | None = None
    sentences: tuple[SentenceOp, ...] = attrs.field(default=(), converter=tuple)
    old_lengths: tuple[int, ...] = attrs.field(default=(), converter=_ints)
    new_lengths: tuple[int, ...] = attrs.field(default=(), converter=_ints)
    old_markup: tuple[BlockMeta, ...] = attrs.field(default=(), converter=tuple)
    new_markup: tuple[BlockMeta, ...] = attrs.field(default=(), converter=tuple)
    similarity: float | None = None

    @property
    def edited(self) -> bool:
        """Whether any text changed (a ``move`` may be edited or not)."""
        return any(s.op != EQUAL for s in self.sentences)

    @property
    def changes(self) -> tuple[WordChange, ...]:
        """Every word change of this operation, in text order."""
        return tuple(c for s in self.sentences for c in s.changes)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": self.op, "old": list(self.old), "new": list(self.new)}
        if self.cls is not None:
            out["class"] = self.cls
        if self.similarity is not None:
            out["similarity"] = self.similarity
        if self.old_text is not None:
            out["old_text"] = self.old_text
        if self.new_text is not None:
            out["new_text"] = self.new_text
        if self.old_lengths:
            out["old_lengths"] = list(self.old_lengths)
        if self.new_lengths:
            out["new_lengths"] = list(self.new_lengths)
        if self.old_markup:
            out["old_markup"] = [m.to_dict() for m in self.old_markup]
        if self.new_markup:
            out["new_markup"] = [m.to_dict() for m in self.new_markup]
        if self.sentences:
            out["sentences"] = [s.to_dict() for s in self.sentences]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ParagraphOp:
        return cls(
            op=data["op"],
            old=data.get("old", ()),
            new=data.get("new", ()),
            old_text=data.get("old_text"),
            new_text=data.get("new_text"),
            cls=data.get("class"),
            sentences=tuple(SentenceOp.from_dict(s) for s in data.get("sentences", ())),
            old_lengths=data.get("old_lengths", ()),
            new_lengths=data.get("new_lengths", ()),
            old_markup=tuple(BlockMeta.from_dict(m) for m in data.get("old_markup", ())),
            new_markup=tuple(BlockMeta.from_dict(m) for m in data.get("new_markup", ())),
            similarity=data.get("similarity"),
        )

    def reversed(self) -> ParagraphOp:
        op = {INSERT: DELETE, DELETE: INSERT, SPLIT: MERGE, MERGE: SPLIT}.get(self.op, self.op)
        old_text, new_text = self.new_text, self.old_text
        if self.op == EQUAL:
            old_text, new_text = None, self.new_text
        return ParagraphOp(
            op=op,
            old=self.new,
            new=self.old,
            old_text=old_text,
            new_text=new_text,
            cls=self.cls,
            sentences=tuple(s.reversed() for s in self.sentences),
            old_lengths=self.new_lengths,
            new_lengths=self.old_lengths,
            old_markup=self.new_markup,
            new_markup=self.old_markup,
            similarity=self.similarity,
        )


@attrs.frozen
class FieldChange:
    """A changed header field (title, date, byline, ...), with word changes for text fields.

    ``old``/``new`` are the JSON forms of the values (ISO dates, lists for keywords).
    """

    field: str
    old: Any
    new: Any
    cls: str = SUBSTANTIVE
    changes: tuple[WordChange, ...] = attrs.field(default=(), converter=tuple)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "field": self.field,
            "old": self.old,
            "new": self.new,
            "class": self.cls,
        }
        if self.changes:
            out["changes"] = [c.to_dict() for c in self.changes]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FieldChange:
        return cls(
            field=data["field"],
            old=data.get("old"),
            new=data.get("new"),
            cls=data.get("class", SUBSTANTIVE),
            changes=tuple(WordChange.from_dict(c) for c in data.get("changes", ())),
        )

    def reversed(self) -> FieldChange:
        return FieldChange(
            self.field, self.new, self.old, self.cls, tuple(c.reversed() for c in self.changes)
        )


@attrs.frozen
class Summary:
    """The figures a reader wants first. Word counts include only substantive changes.

    ``changed_ratio`` is the share of characters (old plus new, title and body) inside
    substantive changes, from 0 (same text) to 1 (nothing in common); moves without edits add
    nothing to it.
    """

    words_added: int = 0
    words_removed: int = 0
    paragraphs_old: int = 0
    paragraphs_new: int = 0
    paragraphs_unchanged: int = 0
    paragraphs_changed: int = 0
    paragraphs_inserted: int = 0
    paragraphs_deleted: int = 0
    paragraphs_edited: int = 0
    paragraphs_moved: int = 0
    paragraphs_split: int = 0
    paragraphs_merged: int = 0
    header_changed: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    substantive_changes: int = 0
    cosmetic_changes: int = 0
    changed_ratio: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        out = attrs.asdict(self)
        out["header_changed"] = list(self.header_changed)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Summary:
        names = {f.name for f in attrs.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@attrs.frozen
class DocumentDiff:
    """How ``old`` became ``new``: header changes, paragraph operations and summary figures."""

    old_key: str
    new_key: str
    header: tuple[FieldChange, ...] = attrs.field(default=(), converter=tuple)
    paragraphs: tuple[ParagraphOp, ...] = attrs.field(default=(), converter=tuple)
    summary: Summary = attrs.field(factory=Summary)
    old_hash: str | None = None
    new_hash: str | None = None
    #: Change classes left out for display (``("cosmetic",)``); such a diff cannot be applied.
    ignored: tuple[str, ...] = attrs.field(default=(), converter=tuple)

    @property
    def is_empty(self) -> bool:
        """No header change and every paragraph equal (keys may differ)."""
        return not self.header and all(p.op == EQUAL for p in self.paragraphs)

    @property
    def is_cosmetic(self) -> bool:
        """Some change, and every change cosmetic."""
        return not self.is_empty and self.summary.substantive_changes == 0

    def summary_line(self) -> str:
        """One line for logs: ``title changed; +12 -3 words; 2 paragraphs edited, 1 moved``."""
        from .summary import summary_line

        return summary_line(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "diff_version": DIFF_VERSION,
            "old_key": self.old_key,
            "new_key": self.new_key,
            "old_hash": self.old_hash,
            "new_hash": self.new_hash,
            "empty": self.is_empty,
            "ignored": list(self.ignored),
            "summary": self.summary.to_dict(),
            "header": [h.to_dict() for h in self.header],
            "paragraphs": [p.to_dict() for p in self.paragraphs],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DocumentDiff:
        version = data.get("diff_version", DIFF_VERSION)
        if version != DIFF_VERSION:
            raise ValueError(f"unsupported diff_version {version!r} (this corpus reads 1)")
        return cls(
            old_key=data["old_key"],
            new_key=data["new_key"],
            header=tuple(FieldChange.from_dict(h) for h in data.get("header", ())),
            paragraphs=tuple(ParagraphOp.from_dict(p) for p in data.get("paragraphs", ())),
            summary=Summary.from_dict(data.get("summary", {})),
            old_hash=data.get("old_hash"),
            new_hash=data.get("new_hash"),
            ignored=tuple(data.get("ignored", ())),
        )

"""``diff_documents``: two documents in, one :class:`DocumentDiff` out."""

from __future__ import annotations

from typing import Any

import attrs

from ..model import Block, Document
from .align import Group, align_paragraphs
from .model import (
    COSMETIC,
    DELETE,
    EDIT,
    EQUAL,
    HEADER_FIELDS,
    INSERT,
    MERGE,
    MOVE,
    SPLIT,
    SUBSTANTIVE,
    BlockMeta,
    DocumentDiff,
    FieldChange,
    ParagraphOp,
)
from .order import order_ops
from .summary import compute_summary
from .text import fingerprint, is_cosmetic
from .words import align_sentences, word_changes

SEPARATOR = "\n\n"

_TEXT_FIELDS = ("title", "byline", "dateline", "abstract")


@attrs.frozen
class DiffOptions:
    """Tuning knobs; the defaults suit news articles.

    ``paragraph_threshold``: least word similarity for two paragraphs to be one edited
    paragraph (else a delete and an insert). ``sentence_threshold``: the same for sentences.
    ``whole_below``: an edited sentence less similar than this is shown as replaced whole.
    The defaults were tuned on human-marked edits
    (``bench/diff_quality.py``, train split).
    """

    paragraph_threshold: float = 0.5
    sentence_threshold: float = 0.4
    whole_below: float = 0.3
    #: Also record both documents' content hashes (costs a JSON dump of each).
    hashes: bool = False

    def __attrs_post_init__(self) -> None:
        for name in ("paragraph_threshold", "sentence_threshold", "whole_below"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value!r}")


def field_value(doc: Document, name: str) -> Any:
    """The JSON form of a header field."""
    value = getattr(doc, name)
    if name in ("date", "issued"):
        return value.isoformat() if value is not None else None
    if name == "keywords":
        return list(value)
    return value


def block_meta(block: Block) -> BlockMeta:
    return BlockMeta(block.kind, tuple(s.to_dict() for s in block.spans))


def _plain(block: Block) -> bool:
    return block.kind == "paragraph" and not block.spans


def diff_header(old: Document, new: Document) -> list[FieldChange]:
    out = []
    for name in HEADER_FIELDS:
        a, b = field_value(old, name), field_value(new, name)
        if a == b:
            continue
        if name in _TEXT_FIELDS:
            a_text, b_text = a or "", b or ""
            cls = (
                COSMETIC
                if (a is None) == (b is None) and is_cosmetic(a_text, b_text)
                else SUBSTANTIVE
            )
            changes = word_changes(a_text, b_text)
        else:
            cls, changes = SUBSTANTIVE, []
        if name == "keywords" and sorted(map(fingerprint, a)) == sorted(map(fingerprint, b)):
            cls = COSMETIC
        out.append(FieldChange(name, a, b, cls, tuple(changes)))
    return out


def diff_documents(old: Document, new: Document, **options: Any) -> DocumentDiff:
    """How ``old`` became ``new``. Options: see :class:`DiffOptions`."""
    opts = DiffOptions(**options)
    old_texts = [b.text for b in old.blocks]
    new_texts = [b.text for b in new.blocks]
    groups = align_paragraphs(old_texts, new_texts, opts.paragraph_threshold)
    ops = [_op(group, old.blocks, new.blocks, opts) for group in groups]
    header = diff_header(old, new)
    ops = order_ops(ops)
    return DocumentDiff(
        old_key=old.key,
        new_key=new.key,
        header=tuple(header),
        paragraphs=tuple(ops),
        summary=compute_summary(header, ops),
        old_hash=old.content_hash if opts.hashes else None,
        new_hash=new.content_hash if opts.hashes else None,
    )


def _markup(blocks: list[Block]) -> tuple[BlockMeta, ...]:
    return tuple(block_meta(b) for b in blocks)


def _op(group: Group, old_blocks, new_blocks, opts: DiffOptions) -> ParagraphOp:
    olds = [old_blocks[i] for i in group.old]
    news = [new_blocks[j] for j in group.new]
    plain = all(_plain(b) for b in (*olds, *news))
    old_markup = () if plain else _markup(olds)
    new_markup = () if plain else _markup(news)
    if not news:
        text = olds[0].text
        return ParagraphOp(
            DELETE, group.old, (), old_text=text, cls=_lone_class(text), old_markup=old_markup
        )
    if not olds:
        text = news[0].text
        return ParagraphOp(
            INSERT, (), group.new, new_text=text, cls=_lone_class(text), new_markup=new_markup
        )
    old_text = SEPARATOR.join(b.text for b in olds)
    new_text = SEPARATOR.join(b.text for b in news)
    if len(olds) == 1 and len(news) == 1 and old_text == new_text:
        same_markup = old_markup == new_markup
        if group.in_order and same_markup:
            return ParagraphOp(EQUAL, group.old, group.new, new_text=new_text)
        return ParagraphOp(
            EDIT if group.in_order else MOVE,
            group.old,
            group.new,
            old_text=old_text,
            new_text=new_text,
            cls=SUBSTANTIVE if not group.in_order else COSMETIC,
            old_markup=() if same_markup else old_markup,
            new_markup=() if same_markup else new_markup,
            similarity=1.0,
        )
    sentences = align_sentences(
        old_text,
        new_text,
        sentence_threshold=opts.sentence_threshold,
        whole_below=opts.whole_below,
    )
    if len(olds) > 1:
        kind = MERGE
    elif len(news) > 1:
        kind = SPLIT
    else:
        kind = EDIT if group.in_order else MOVE
    substantive = kind == MOVE or any(s.cls == SUBSTANTIVE for s in sentences)
    return ParagraphOp(
        kind,
        group.old,
        group.new,
        old_text=old_text,
        new_text=new_text,
        cls=SUBSTANTIVE if substantive else COSMETIC,
        sentences=tuple(sentences),
        old_lengths=tuple(len(b.text) for b in olds) if len(olds) > 1 else (),
        new_lengths=tuple(len(b.text) for b in news) if len(news) > 1 else (),
        old_markup=old_markup,
        new_markup=new_markup,
        similarity=round(group.similarity, 4) if group.similarity is not None else None,
    )


def _lone_class(text: str) -> str:
    return SUBSTANTIVE if fingerprint(text) else COSMETIC

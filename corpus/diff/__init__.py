"""Document and corpus diff: how an article changed between two versions.

Library API (no click needed)::

    from corpus.diff import diff_documents, apply_diff, reverse_diff
    d = diff_documents(old, new)
    d.summary_line()          # "title changed; +12 -3 words; 2 paragraphs edited, 1 moved"
    d.to_dict()               # JSON-safe; schema in docs/diff.md
    apply_diff(old, d)        # == new (content)
    apply_diff(new, reverse_diff(d))  # == old

See :mod:`corpus.diff.align` for the method and :mod:`corpus.diff.corpus_diff` for folders.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_attributes

if TYPE_CHECKING:  # pragma: no cover
    from .apply import DiffConflict, apply_diff, patch_text, reverse_diff
    from .engine import DiffOptions, diff_documents
    from .filter import without_cosmetic
    from .model import (
        COSMETIC,
        DIFF_VERSION,
        SUBSTANTIVE,
        BlockMeta,
        DocumentDiff,
        FieldChange,
        ParagraphOp,
        SentenceOp,
        Summary,
        WordChange,
    )

# Loaded on first use: the built-in diff plugin (``corpus.diff.plugin``) lives in this package,
# and every ``corpus`` command loads it, so importing the engine here would make every start-up
# pay for rapidfuzz and the Unicode tables.
_LAZY = {
    "DiffConflict": "apply",
    "apply_diff": "apply",
    "patch_text": "apply",
    "reverse_diff": "apply",
    "DiffOptions": "engine",
    "diff_documents": "engine",
    "without_cosmetic": "filter",
    "COSMETIC": "model",
    "DIFF_VERSION": "model",
    "SUBSTANTIVE": "model",
    "BlockMeta": "model",
    "DocumentDiff": "model",
    "FieldChange": "model",
    "ParagraphOp": "model",
    "SentenceOp": "model",
    "Summary": "model",
    "WordChange": "model",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)


__all__ = [
    "COSMETIC",
    "DIFF_VERSION",
    "SUBSTANTIVE",
    "BlockMeta",
    "DiffConflict",
    "DiffOptions",
    "DocumentDiff",
    "FieldChange",
    "ParagraphOp",
    "SentenceOp",
    "Summary",
    "WordChange",
    "apply_diff",
    "diff_documents",
    "patch_text",
    "reverse_diff",
    "without_cosmetic",
]

"""One-line summaries of what changed between two versions, for ``corpus log``.

The diff engine (:mod:`corpus.diff`) says it best; when it is not available (a trimmed install,
or an older corpus) a plain comparison of the fields and paragraphs stands in. An ingest stores
the engine's line with each new version (:func:`engine_summary`), so ``corpus log`` need not
load the engine; it calls :func:`summarize_change` only for versions stored without one.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from ..model import Document


def _diff_engine() -> Callable[[Document, Document], str] | None:
    try:
        from ..diff import diff_documents  # type: ignore[attr-defined]
    except ImportError:
        return None

    def summarize(old: Document, new: Document) -> str:
        return diff_documents(old, new).summary_line()

    return summarize


def engine_summary(old: Document, new: Document) -> str | None:
    """The diff engine's line for ``old`` -> ``new``; None when there is no engine or it fails.

    Never raises: an ingest stores what this returns, and a summary must never cost a version
    (``corpus log`` works out a missing one itself).
    """
    try:
        engine = _diff_engine()
        return engine(old, new) if engine else None
    except Exception:
        return None


def fallback_summary(old: Document, new: Document) -> str:
    """Which fields changed, and how many paragraphs were changed, added and removed."""
    parts = [
        f"{name} changed"
        for name in ("title", "date", "byline", "dateline", "abstract", "keywords", "language")
        if getattr(old, name) != getattr(new, name)
    ]
    matcher = difflib.SequenceMatcher(
        a=[b.text for b in old.blocks], b=[b.text for b in new.blocks], autojunk=False
    )
    changed = added = removed = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "replace":
            common = min(i2 - i1, j2 - j1)
            changed += common
            removed += (i2 - i1) - common
            added += (j2 - j1) - common
        elif tag == "delete":
            removed += i2 - i1
        elif tag == "insert":
            added += j2 - j1
    counts = [
        f"{n} {what}"
        for n, what in ((changed, "changed"), (added, "added"), (removed, "removed"))
        if n
    ]
    if counts:
        total = changed + added + removed
        parts.append(f"{'paragraph' if total == 1 else 'paragraphs'}: {', '.join(counts)}")
    elif not parts:
        parts.append("markup or metadata changed")
    return "; ".join(parts)


def summarize_change(old: Document | None, new: Document) -> str:
    """What changed from ``old`` to ``new`` in one line (``first version`` when no ``old``)."""
    if old is None:
        return "first version"
    engine = _diff_engine()
    return engine(old, new) if engine else fallback_summary(old, new)

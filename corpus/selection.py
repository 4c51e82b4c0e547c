"""Which listed files an ingest takes: ``--include`` / ``--exclude`` glob patterns.

A README or a notes file in a folder of articles should not fail a run. Patterns are matched
against a file's path relative to its source folder (``/`` separators) and, for patterns
without a ``/``, against its name alone; ``*`` also matches ``/``. With include patterns, a
file must match one; a file matching an exclude pattern is left out. Files left out are not
inputs: they are not read and not in the report.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Sequence

from .listing import InputFile, iter_inputs


def matches(rel: str, patterns: Sequence[str]) -> bool:
    """Whether ``rel`` (a relative posix path) matches one of ``patterns``."""
    name = rel.rsplit("/", 1)[-1]
    for pattern in patterns:
        target = rel if "/" in pattern else name
        if fnmatch.fnmatchcase(target, pattern) or fnmatch.fnmatchcase(rel, pattern):
            return True
    return False


def selected(rel: str, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> bool:
    if include and not matches(rel, include):
        return False
    return not (exclude and matches(rel, exclude))


def select_inputs(
    sources: Sequence[str], include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> Iterator[InputFile]:
    """:func:`corpus.listing.iter_inputs` without the files the patterns leave out.

    Listing problems (unreadable folders...) are always kept: they are not files a pattern
    could have meant to skip.
    """
    for item in iter_inputs(sources):
        if item.problem is not None or selected(item.rel, include, exclude):
            yield item

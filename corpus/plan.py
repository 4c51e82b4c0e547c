"""The plan stage of an ingest: which inputs there are, and which of them need any work.

It lists the sources (:mod:`corpus.listing`, :mod:`corpus.selection`, archives expanded
record by record by :mod:`corpus.archives`) and, with a store, asks it what it already has,
so an unchanged file is neither read nor sent anywhere. It yields *work items*
(:class:`~corpus.items.InputFile`) for the execute stage, and ``(input, result, decided)``
for inputs it settled itself (skips, listing problems, unchanged files: see
:data:`corpus.items.UNCHANGED`), which keep their place in input order.

Unchanged files are found in two steps. A file whose size, modification time and inode are
those the store recorded at its last ingest (and whose document, pipeline and outputs are
unchanged) is not read at all; the store is asked once per chunk of files, not once per file.
A file the store has never recorded is new and goes on unread; any other file is hashed, and
unchanged when its bytes are those last recorded. As for rsync
and git, a file edited without changing its size, keeping its modification time and inode,
is taken as unchanged; ``--checksum`` hashes every file.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

import attrs

from .archives import expand_archives
from .errors import CorpusError
from .items import (
    RACY_NS,
    STATUS_SKIPPED,
    UNCHANGED,
    FileResult,
    InputFile,
    Triple,
    status_of,
)
from .layout import OutputLayout
from .model import Finding, Severity
from .pipeline import read_file_bytes
from .plugins import Plugins
from .selection import select_inputs

#: Inputs looked up in the store together (they come folder by folder).
CHUNK = 256
#: Files the planner read are handed on with their bytes up to this size; larger ones are
#: read again where they are processed, so batches in flight stay small in memory.
CARRY_LIMIT = 64 * 1024


class StoreLookup(Protocol):
    """What the plan stage asks the store (the read side of an ingest's store run)."""

    def unchanged_by_stat(
        self, root: str, files: list[tuple[str, tuple[int, int, int]]]
    ) -> dict[str, tuple[str, tuple[Finding, ...]]]: ...

    def recorded(self, root: str, rels: list[str]) -> set[str]: ...

    def known_unchanged(
        self, root: str, rel: str, digest: str, *, any_version: bool = False
    ) -> str | None: ...

    def findings_of(self, key: str) -> list[Finding]: ...


@attrs.frozen
class PlanOptions:
    """What the plan stage needs from the run's options."""

    sources: tuple[str, ...]
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    max_file_size: int | None = None
    #: Re-read every file (``--force``): the store is not asked.
    force: bool = False
    #: Hash every file (``--checksum``): size and modification time alone decide nothing.
    checksum: bool = False
    #: Whether the inputs are processed in this process (they then always carry their bytes).
    in_process: bool = False


def plan_inputs(
    options: PlanOptions,
    plugins: Plugins,
    store: StoreLookup | None,
    outputs: OutputLayout | None,
    stop: dict[str, Any],
) -> Iterator[InputFile | Triple]:
    """Inputs to process, or ``(input, result, decided)`` settled here, in input order.

    With a store, each input to process carries its ``stat`` (size, modification time,
    inode: recorded with its version), and one whose bytes or stat show it unchanged since
    its last ingest, and whose outputs exist, is decided here. Stops when ``stop["now"]``.
    """
    listed = expand_archives(
        select_inputs(options.sources, options.include, options.exclude),
        plugins.readers,
        options.max_file_size,
    )
    roots = _Roots()
    for chunk in _chunks(listed, CHUNK):
        known, new = _known_by_stat(chunk, store, options, roots)
        for item in chunk:
            if stop["now"]:
                return
            yield _plan_one(item, options, store, outputs, known, new, roots)


class _Roots(dict):
    """Each input root's :func:`~corpus.items.source_root`, worked out once per run."""

    def __missing__(self, root: str) -> str:
        self[root] = found = os.path.abspath(root)
        return found


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _plain_file(item: Any) -> bool:
    """A listed file to process (not decided, not a record of an archive)."""
    return (
        not isinstance(item, tuple)
        and not item.skipped
        and (item.problem is None or item.problem.severity != Severity.ERROR)
        and item.offset is None
        and item.data is None
    )


def _known_by_stat(
    chunk: list[Any], store: StoreLookup | None, options: PlanOptions, roots: _Roots
) -> tuple[dict[tuple[str, str], tuple[str, tuple[Finding, ...]]], set[tuple[str, str]]]:
    """Stat the chunk's files (in place: each carries its stat), and ask the store which of
    them it has with that very stat, ``(root, rel) -> (key, findings)``, and which it has
    never recorded at all (``(root, rel)``: new files, not worth reading here to hash)."""
    if store is None or options.force:
        return {}, set()
    plain = [index for index, item in enumerate(chunk) if _plain_file(item)]
    # A file the store never recorded is read where it is processed, which records its stat
    # from there (FileResult.source_stat): not even its inode is read here.
    new: set[tuple[str, str]] = set()
    rels: dict[str, list[str]] = {}
    for index in plain:
        rels.setdefault(roots[chunk[index].root], []).append(chunk[index].rel)
    for root, names in rels.items():
        recorded = store.recorded(root, names)
        new.update((root, rel) for rel in names if rel not in recorded)
    by_root: dict[str, list[tuple[str, tuple[int, int, int]]]] = {}
    racy_after = time.time_ns() - RACY_NS
    for index in plain:
        item = chunk[index]
        if (roots[item.root], item.rel) in new:
            continue
        try:
            st = os.stat(item.path)
        except OSError:
            continue  # the execute stage reports it
        stat = (st.st_size, st.st_mtime_ns, st.st_ino)
        if stat[1] < racy_after:
            chunk[index] = item.with_stat(stat)
        by_root.setdefault(roots[item.root], []).append((item.rel, stat))
    known = {}
    for root, files in by_root.items():
        if options.checksum:
            continue
        for rel, found in store.unchanged_by_stat(root, files).items():
            known[(root, rel)] = found
    return known, new


def _plan_one(
    item: Any,
    options: PlanOptions,
    store: StoreLookup | None,
    outputs: OutputLayout | None,
    known: dict[tuple[str, str], tuple[str, tuple[Finding, ...]]],
    new: set[tuple[str, str]],
    roots: _Roots,
) -> InputFile | Triple:
    if isinstance(item, tuple):  # an archive's own entry, or a record rejected listing it
        return item
    if item.skipped:
        findings = [item.problem] if item.problem else []
        return item, FileResult(item.rel, STATUS_SKIPPED, findings), False
    if item.problem is not None and item.problem.severity == Severity.ERROR:
        return item, FileResult(item.rel, status_of([item.problem]), [item.problem]), False
    if store is None or options.force:
        return item
    root = roots[item.root]
    if (root, item.rel) in new:
        return item  # never recorded, so not unchanged: read only where it is processed
    hit = known.get((root, item.rel))
    if hit is not None and (outputs is None or outputs.outputs_exist(hit[0])):
        # The bytes are not read: the stat recorded stays (it is the one just compared).
        key, findings = hit
        return item, FileResult(item.rel, status_of(findings), findings, key=key), UNCHANGED
    try:
        data = item.data
        if data is None:
            data = read_file_bytes(item.path, item.rel, options.max_file_size)
    except CorpusError:
        return item  # the execute stage reports it properly
    digest = hashlib.sha256(data).hexdigest()
    key = store.known_unchanged(root, item.rel, digest, any_version=item.offset is not None)
    if key is not None and (outputs is None or outputs.outputs_exist(key)):
        findings = store.findings_of(key)
        return item, FileResult(item.rel, status_of(findings), findings, key=key), UNCHANGED
    if options.in_process or len(data) <= CARRY_LIMIT:
        item = attrs.evolve(item, data=data)
    return item

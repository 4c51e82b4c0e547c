"""The commit stage of an ingest: results made final, in input order.

It consumes the execute stage's ``(input, result, decided)`` triples in input order and, for
each, renames the staged outputs into place (:class:`~corpus.outputs.OutputWriter`: key
collisions refused), quarantines a rejected input, records the file in the store and adds
its entry to the report (:mod:`corpus.report`). It never reaches back: what the plan or
execute stage decided arrives as data in the triple.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

import attrs

from .errors import ConfigError
from .items import (
    STATUS_REJECTED,
    STATUS_SKIPPED,
    UNCHANGED,
    FileResult,
    InputFile,
    Triple,
    source_root,
    status_of,
)
from .model import Finding, Severity
from .outputs import OutputWriter, quarantine_file, temp_prefix
from .report import IngestReport


class StoreRecorder(Protocol):
    """What the commit stage writes to the store (the write side of an ingest's store run)."""

    def record(
        self,
        root: str,
        result: FileResult,
        *,
        any_version: bool = False,
        stat: tuple[int, int, int] | None = None,
    ) -> str: ...

    def record_unchanged(
        self, root: str, rel: str, key: str, stat: tuple[int, int, int] | None
    ) -> None: ...


def commit_results(
    results: Iterable[Triple],
    *,
    writer: OutputWriter | None,
    store: StoreRecorder | None,
    report: IngestReport,
    quarantine: str | None = None,
    copy: Callable[[InputFile, FileResult, str], None] = quarantine_file,
) -> Iterator[tuple[InputFile, FileResult]]:
    """Commit each result, in order, and yield it as committed (the caller may stop).

    A rejected input is copied into the ``quarantine`` folder, when one is given, by
    ``copy`` (:func:`~corpus.outputs.quarantine_file`).
    """
    roots: dict[str, str] = {}  # each input root's source_root, worked out once
    for item, result, decided in results:
        if item.problem is not None and item.problem not in result.findings:
            findings = [item.problem, *result.findings]
            result = attrs.evolve(result, findings=findings, status=status_of(findings))
        if writer is not None:
            result = writer.keep(result) if decided else writer.commit(result)
        if quarantine and result.status == STATUS_REJECTED:
            result = quarantine_input(item, result, quarantine, copy)
        if store is not None:
            root = roots.get(item.root) or roots.setdefault(item.root, source_root(item))
            if decided == UNCHANGED:
                store.record_unchanged(root, item.rel, result.key or "", item.stat)
            elif not decided and result.status != STATUS_SKIPPED:
                stat = item.stat or result.source_stat
                store.record(root, result, any_version=item.offset is not None, stat=stat)
        report.add(result)
        yield item, result


def check_quarantine(folder: str) -> None:
    """The quarantine folder must exist (or be made) and take files, before any work."""
    try:
        os.makedirs(folder, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=temp_prefix(), dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(
            f"cannot write to the quarantine folder {folder}: {exc.strerror or exc}; choose "
            "a folder you can write to",
            code="QUARANTINE_UNWRITABLE",
        ) from None


def quarantine_input(
    item: InputFile,
    result: FileResult,
    folder: str,
    copy: Callable[[InputFile, FileResult, str], None] = quarantine_file,
) -> FileResult:
    """Quarantine a rejected input; a failure is one more finding on it, not a failed run."""
    try:
        copy(item, result, folder)
    except OSError as exc:
        finding = Finding(
            "QUARANTINE_FAILED",
            Severity.ERROR,
            f"could not copy the file into the quarantine folder: {exc.strerror or exc}",
            path=result.path,
        )
        return attrs.evolve(result, findings=[*result.findings, finding])
    return result

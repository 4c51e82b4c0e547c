"""What flows between the ingest stages: work items and their results.

The plan stage (:mod:`corpus.plan`) yields :class:`InputFile` work items, the execute stage
turns each into a :class:`FileResult`, the commit stage consumes the results. Every stage
speaks this vocabulary, so it lives in a leaf of its own that imports no stage.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any

import attrs

from .model import Document, Finding, Severity


@attrs.frozen
class InputFile:
    """One listed input: where it is, its root, and its path relative to that root."""

    path: str
    root: str
    rel: str
    problem: Finding | None = None
    #: Seen and left alone on purpose (a hidden name): reported as skipped, never read.
    skipped: bool = False
    #: The file's bytes when the parent already read them (to check the store), so they are
    #: not read twice; None means the processing side reads the file.
    data: bytes | None = attrs.field(default=None, repr=False, eq=False)
    #: For a record of an archive (see corpus.archives): the reader of its bytes, and the
    #: record's byte offset in the archive at ``path``. None for an ordinary file.
    reader: str | None = None
    offset: int | None = None
    #: ``(size, mtime_ns, inode)`` when the plan stage looked (an ingest with a store), and
    #: the file had not just been modified: recorded with its version (see corpus.plan).
    stat: tuple[int, int, int] | None = attrs.field(default=None, eq=False)

    def with_stat(self, stat: tuple[int, int, int] | None) -> InputFile:
        """The same input carrying ``stat`` (``attrs.evolve``, cheaper: once per file)."""
        return InputFile(
            self.path,
            self.root,
            self.rel,
            self.problem,
            self.skipped,
            self.data,
            self.reader,
            self.offset,
            stat,
        )


#: A file modified this recently (ns) may change again within the same modification-time
#: tick (2 s on FAT): its size and time are not recorded, so the next run hashes it.
RACY_NS = 2_000_000_000

STATUS_OK = "ok"
STATUS_WARNING = "warning"
STATUS_REJECTED = "rejected"
#: A file the walk saw and left alone on purpose (hidden names): in the report, never read.
STATUS_SKIPPED = "skipped"


@attrs.frozen
class FileResult:
    """The outcome for one input file: what the report says about it, and its outputs."""

    path: str
    status: str
    findings: tuple[Finding, ...] = attrs.field(default=(), converter=tuple)
    document: Document | None = None
    outputs: dict[str, bytes] = attrs.field(factory=dict, hash=False)
    #: Outputs written to temporary files, waiting to be renamed into place (ingest only).
    staged: dict[str, str] = attrs.field(factory=dict, hash=False)
    #: How many outputs reached their final names.
    written: int = 0
    #: The document's key and content hash, kept when :meth:`slim` drops the document.
    key: str | None = None
    content_hash: str | None = None
    #: The document as the store records it (a ``corpus.store.prepared.PreparedVersion``),
    #: made by the worker that processed the file, when it sends that instead of the document.
    version: Any = attrs.field(default=None, eq=False, repr=False)
    #: ``(size, mtime_ns, inode)`` of the input as the processing side read it, for an input
    #: the plan stage did not look at (a new file): recorded with its version.
    source_stat: tuple[int, int, int] | None = attrs.field(default=None, eq=False, repr=False)

    def slim(self, version: Any = None) -> FileResult:
        """The same result without the document (cheap to send between processes), with the
        ``version`` prepared for the store, if any."""
        if self.document is None:
            return self
        doc = self.document
        return FileResult(
            self.path,
            self.status,
            self.findings,
            None,
            self.outputs,
            self.staged,
            self.written,
            doc.key,
            doc.content_hash,
            version,
            self.source_stat,
        )

    def with_source_stat(self, stat: tuple[int, int, int]) -> FileResult:
        return attrs.evolve(self, source_stat=stat)

    def with_outputs(self, staged: dict[str, str], written: int = 0) -> FileResult:
        """The result once its outputs are staged (or written): ``attrs.evolve``, cheaper.

        Called twice per file on the hot path of an ingest, where evolve's generic field
        handling costs more than the rest of the bookkeeping.
        """
        return FileResult(
            self.path,
            self.status,
            self.findings,
            self.document,
            {},
            staged,
            written,
            self.key,
            self.content_hash,
            self.version,
            self.source_stat,
        )

    @property
    def document_key(self) -> str | None:
        return self.document.key if self.document is not None else self.key

    def to_report(self) -> dict:
        entry = {
            "path": self.path,
            "status": self.status,
            "findings": [
                {
                    "code": f.code,
                    "severity": f.severity.value,
                    "message": f.message,
                    "line": f.line,
                    **({"plugin": f.plugin} if f.plugin else {}),
                }
                for f in self.findings
            ],
        }
        if self.document is not None:
            entry["key"] = self.document.key
            entry["content_hash"] = self.document.content_hash
        elif self.key is not None:
            entry["key"] = self.key
            entry["content_hash"] = self.content_hash
        return entry


def status_of(findings: Sequence[Finding]) -> str:
    """``rejected`` if any error, ``warning`` if any warning, else ``ok`` (info is ok)."""
    worst = max((f.severity.rank for f in findings), default=0)
    if worst >= Severity.ERROR.rank:
        return STATUS_REJECTED
    if worst >= Severity.WARNING.rank:
        return STATUS_WARNING
    return STATUS_OK


_RECORD_PATH = re.compile(r"#(\d+)\Z")


def record_path(archive_rel: str, offset: int) -> str:
    """The name of a record in reports and the store: ``<archive>#<offset>``."""
    return f"{archive_rel}#{offset}"


def is_record_path(rel: str) -> bool:
    """Whether ``rel`` names a record of an archive (``...#<offset>``)."""
    return _RECORD_PATH.search(rel) is not None


def source_root(item: InputFile) -> str:
    """The root an input is recorded under in the store."""
    return os.path.abspath(item.root)


#: How the plan stage settled an input it decided itself (the third member of a decided
#: ``(input, result, decided)``): :data:`TO_RECORD` (False) to commit and record like a
#: processed input (skips, listing problems), :data:`NOTHING_TO_RECORD` (True: an archive's
#: own entry), or :data:`UNCHANGED`, a file the store counts as seen and unchanged.
TO_RECORD = False
NOTHING_TO_RECORD = True
UNCHANGED = "unchanged"

#: ``(input, result, decided)``: what the execute stage hands the commit stage, in input
#: order (``decided`` is False for an input it processed).
Triple = tuple[InputFile, FileResult, "bool | str"]

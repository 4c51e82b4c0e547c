"""Archives in a listing: a WARC file becomes one input per record, plus its own entry.

Ingest's invariants hold record by record: every HTML record is an input of its own, named
``<archive>#<offset>`` (so the report, the store's file log and ``corpus validate`` name the
archive and the record), read by the archive reader's ``record_reader`` from the record's raw
bytes, which travel with it to a worker. The archive itself keeps one report entry that
accounts for everything else in it: records that are not documents, counted by reason
(``WARC_RECORDS_SKIPPED``), and damage (``WARC_INVALID``; records before it are still read).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import attrs

from .errors import CorpusError
from .formats import ArchiveReader, ReaderRegistry
from .items import FileResult, InputFile, status_of
from .items import is_record_path as is_record_path  # re-exported: born here
from .items import record_path as record_path
from .model import Finding, Severity


def archive_reader(readers: ReaderRegistry, rel: str) -> ArchiveReader | None:
    """The archive reader for a listed file, by extension (None for ordinary files)."""
    lower = rel.lower()
    for reader in readers:
        if isinstance(reader, ArchiveReader) and any(lower.endswith(e) for e in reader.extensions):
            return reader
    return None


def expand_archives(
    items: Iterable[InputFile], readers: ReaderRegistry, max_record_size: int | None
) -> Iterator[InputFile | tuple[InputFile, FileResult, bool]]:
    """Listed inputs with every archive replaced by its records, then its own entry.

    Yields inputs to process, or ``(input, result, True)`` for entries decided here (the
    archive's own entry, records rejected while listing), which the store does not record.
    """
    has_archives = any(isinstance(r, ArchiveReader) for r in readers)
    # Most files are not archives: one endswith() over every archive extension rules them out.
    endings = tuple(
        e.lower() for r in readers if isinstance(r, ArchiveReader) for e in r.extensions
    )
    for item in items:
        reader = None
        if (
            has_archives
            and not item.skipped
            and (item.problem is None or item.problem.severity != Severity.ERROR)
            and item.rel.lower().endswith(endings)
        ):
            reader = archive_reader(readers, item.rel)
        if reader is None:
            yield item
            continue
        yield from _records(item, reader, max_record_size)


def _records(
    item: InputFile, reader: ArchiveReader, max_record_size: int | None
) -> Iterator[InputFile | tuple[InputFile, FileResult, bool]]:
    findings: list[Finding] = []
    skipped: dict[str, int] = {}
    pages = 0
    try:
        for record in reader.records(item.path, item.rel, max_record_size=max_record_size):
            if record.skipped is not None:
                skipped[record.skipped] = skipped.get(record.skipped, 0) + record.count
            elif record.offset is None:
                if record.problem is not None:
                    findings.append(attrs.evolve(record.problem, path=item.rel))
            else:
                pages += 1
                rel = record_path(item.rel, record.offset)
                child = InputFile(
                    item.path,
                    item.root,
                    rel,
                    data=record.data,
                    reader=reader.record_reader,
                    offset=record.offset,
                )
                if record.problem is not None:
                    problem = attrs.evolve(record.problem, path=rel)
                    yield child, FileResult(rel, status_of([problem]), [problem]), True
                else:
                    yield child
    except CorpusError as exc:
        findings.append(Finding(exc.code, Severity.ERROR, exc.message, path=item.rel))
    except OSError as exc:
        findings.append(
            Finding(
                "FILE_UNREADABLE",
                Severity.ERROR,
                f"cannot read the archive: {exc.strerror or exc}",
                path=item.rel,
            )
        )
    if skipped:
        total = sum(skipped.values())
        detail = ", ".join(f"{reason}: {n}" for reason, n in sorted(skipped.items()))
        findings.insert(
            0,
            Finding(
                "WARC_RECORDS_SKIPPED",
                Severity.INFO,
                f"{total} records are not HTML pages and were not read: {detail}",
                path=item.rel,
            ),
        )
    if pages == 0 and not any(f.severity == Severity.ERROR for f in findings):
        findings.append(
            Finding(
                "WARC_NO_HTML",
                Severity.WARNING,
                "the archive holds no HTML page captures: nothing in it became a document",
                path=item.rel,
            )
        )
    findings.insert(
        0,
        Finding(
            "WARC_RECORDS_READ",
            Severity.INFO,
            f"{pages} HTML captures listed, each reported as {item.rel}#<offset>",
            path=item.rel,
        ),
    )
    yield item, FileResult(item.rel, status_of(findings), findings), True

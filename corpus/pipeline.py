"""One file through the stages: read -> key -> enrich -> validate -> export.

Everything here works on one input and returns values; walking folders, worker processes and
writing files belong to the ingest stages (:mod:`corpus.ingest`), which all use this module
and which it knows nothing about. Errors a user can cause become findings, so a caller
always gets a :class:`FileResult` it can put in the report.
"""

from __future__ import annotations

import errno
import os
import posixpath
import stat
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

import attrs

from .config import Config
from .errors import CorpusError, InputRejected
from .formats import ReadResult
from .items import RACY_NS

# Re-exported: the result type and the statuses were born here, and many callers import them
# from here; they live in corpus.items, which every ingest stage shares.
from .items import STATUS_OK as STATUS_OK
from .items import STATUS_REJECTED as STATUS_REJECTED
from .items import STATUS_SKIPPED as STATUS_SKIPPED
from .items import STATUS_WARNING as STATUS_WARNING
from .items import FileResult as FileResult
from .items import status_of as status_of
from .model import Document, Finding, Severity
from .plugins import Plugins, get_plugins

#: Default ``--max-file-size``: larger inputs are rejected before they are read.
DEFAULT_MAX_FILE_SIZE = 50 * 1024 * 1024


def relative_posix(path: str | os.PathLike[str], root: str | os.PathLike[str] | None) -> str:
    """``path`` relative to ``root`` with ``/`` separators (the file name when no root)."""
    p = Path(path)
    if root is None:
        return p.name
    try:
        rel = p.relative_to(Path(root))
    except ValueError:
        rel = Path(os.path.relpath(p, root))
    text = rel.as_posix()
    return text if text != "." else p.name


def default_key(rel_path: str) -> str:
    """The key of a file: its path relative to the ingest root, without extension."""
    stem, ext = posixpath.splitext(rel_path)
    return stem if len(ext) > 1 else rel_path


#: Names corpus keeps for its own files in output folders (``.corpus-tmp-*``): no key part may
#: start with it, so no output can be taken for a temporary file, or the other way round.
RESERVED_PREFIX = ".corpus-"


def check_key(key: str, path: str) -> None:
    """Refuse keys that could escape an output folder or are not usable as file names."""
    parts = key.split("/")
    bad = (
        not key.strip()
        or key.startswith("/")
        or "\\" in key
        or "\x00" in key
        or any(part in ("..", ".", "") for part in parts)
    )
    if not bad and any(part.startswith(RESERVED_PREFIX) for part in parts):
        raise InputRejected(
            f"document key {key!r} has a part starting with {RESERVED_PREFIX!r}, which is kept "
            "for corpus's own temporary files; rename the file (or fix the key it sets)",
            code="RESERVED_NAME",
            path=path,
        )
    if bad:
        raise InputRejected(
            f"document key {key!r} is not a safe relative path (no '..', '.', absolute paths, "
            "backslashes or NUL); fix the plugin that set it or rename the file",
            code="UNSAFE_KEY",
            path=path,
        )


def read_bytes(
    data: bytes,
    rel_path: str,
    *,
    plugins: Plugins | None = None,
    reader: str | None = None,
    config: Config | None = None,
) -> ReadResult:
    """Read one input's bytes into a document, applying the ``document_key`` hook.

    Raises :class:`InputRejected` (or another :class:`CorpusError`) with code, path and line.
    ``config`` reaches readers that have settings (:meth:`Reader.configured`).
    """
    plugins = plugins or get_plugins()
    chosen = (
        plugins.readers.get(reader) if reader else plugins.readers.for_path(rel_path, data[:512])
    )
    if config is not None:
        chosen = chosen.configured(config)
    result = chosen.read(data, path=rel_path, key=default_key(rel_path))
    document = result.document
    key = plugins.document_key(document, rel_path)
    if key is not None and key != document.key:
        document = attrs.evolve(document, key=key)
    check_key(document.key, rel_path)
    return ReadResult(document, result.findings)


def read_path(
    path: str | os.PathLike[str],
    *,
    root: str | os.PathLike[str] | None = None,
    plugins: Plugins | None = None,
    reader: str | None = None,
    max_file_size: int | None = DEFAULT_MAX_FILE_SIZE,
) -> ReadResult:
    """Read one file into a document. The key is relative to ``root`` (default: its folder)."""
    rel = relative_posix(path, root)
    data = read_file_bytes(path, rel, max_file_size)
    return read_bytes(data, rel, plugins=plugins, reader=reader)


def _open_nonblocking(path: str, flags: int) -> int:
    """``os.open`` that cannot block: a FIFO put in place after the listing returns at once."""
    return os.open(path, flags | getattr(os, "O_NONBLOCK", 0))


def prefetch(paths: Sequence[str | os.PathLike[str]]) -> None:
    """Ask the kernel to start reading ``paths`` now, all at once, without waiting for them.

    Files read one after the other each wait for the disk in turn: at a million articles,
    most of them no longer in the page cache, the workers sat idle for a third of the time.
    Told ahead (``POSIX_FADV_WILLNEED``), the disk gets a batch's reads together and they are
    in memory when their turn comes. Anything that fails here is left to the real read.
    """
    advise = getattr(os, "posix_fadvise", None)
    if advise is None:
        return
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    for path in paths:
        try:
            fd = os.open(path, flags)
        except OSError:
            continue
        try:  # not a regular file (a FIFO...): the kernel refuses, the real read reports it
            advise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass
        finally:
            os.close(fd)


def read_file_bytes(path: str | os.PathLike[str], rel: str, max_file_size: int | None) -> bytes:
    """The raw bytes of an input, with OS trouble turned into coded rejections."""
    return read_file(path, rel, max_file_size)[0]


def read_file(
    path: str | os.PathLike[str], rel: str, max_file_size: int | None
) -> tuple[bytes, os.stat_result]:
    """:func:`read_file_bytes`, with the file's ``fstat`` as it was opened."""
    try:
        with open(path, "rb", buffering=0, opener=_open_nonblocking) as fh:
            fd = fh.fileno()
            status = os.fstat(fd)
            mode = status.st_mode
            if stat.S_ISDIR(mode):
                raise IsADirectoryError(path)
            if not stat.S_ISREG(mode):
                raise InputRejected(
                    "is not a regular file (a FIFO, socket or device); it was not read",
                    code="NOT_A_REGULAR_FILE",
                    path=rel,
                )
            if max_file_size is None:
                return fh.read(), status
            size = status.st_size
            if size <= max_file_size:
                # Ask for what fstat saw plus one byte: read(limit) would allocate the whole
                # limit (50 MB by default) for every file. A file that grew since is read on,
                # up to the limit, and judged by what was actually read.
                data = fh.read(size + 1)
                if len(data) <= size:
                    return data, status
                data += fh.read(max_file_size + 1 - len(data))
                size = len(data)
            if size > max_file_size:
                raise InputRejected(
                    f"file is {size} bytes, over the limit of {max_file_size}; raise "
                    "--max-file-size if it is really an article",
                    code="FILE_TOO_LARGE",
                    path=rel,
                )
            return data, status
    except FileNotFoundError:
        raise InputRejected(
            "file disappeared before it could be read; re-run when the folder is stable",
            code="FILE_VANISHED",
            path=rel,
        ) from None
    except PermissionError:
        raise InputRejected(
            "permission denied; make the file readable by this user",
            code="FILE_UNREADABLE",
            path=rel,
        ) from None
    except IsADirectoryError:
        raise InputRejected("is a directory, not a file", code="NOT_A_FILE", path=rel) from None
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a socket (or a device without a driver) put in place
            raise InputRejected(
                "is not a regular file (a FIFO, socket or device); it was not read",
                code="NOT_A_REGULAR_FILE",
                path=rel,
            ) from None
        raise InputRejected(
            f"cannot read file: {exc.strerror or exc}", code="FILE_UNREADABLE", path=rel
        ) from None


def export_document(document: Document, fmt: str, *, plugins: Plugins | None = None) -> bytes:
    """The bytes of ``document`` in output format ``fmt`` (``nitf``, ``json``, ...)."""
    plugins = plugins or get_plugins()
    return plugins.exporters.get(fmt).export(document)


def _rejection(exc: CorpusError, rel: str) -> Finding:
    return Finding(
        code=exc.code,
        severity=Severity.ERROR,
        message=exc.message,
        path=exc.path or rel,
        line=exc.line,
        plugin=getattr(exc, "plugin", None),
    )


def _internal_error(exc: BaseException, rel: str, stage: str) -> Finding:
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" at {last[0].filename.rsplit(os.sep, 1)[-1]}:{last[0].lineno}" if last else ""
    return Finding(
        code="INTERNAL_ERROR",
        severity=Severity.ERROR,
        message=f"internal error while {stage} ({type(exc).__name__}: {exc}{where}); this is a "
        "bug in corpus: please report it with this file",
        path=rel,
    )


def process_data(
    data: bytes,
    rel: str,
    *,
    plugins: Plugins,
    config: Config,
    formats: Sequence[str] = (),
    fail_fast: bool = False,
    plugin_timeout: float | None = None,
    reader: str | None = None,
) -> FileResult:
    """Run every stage on one input's bytes. Never raises for bad input; see ``FileResult``.

    ``reader`` names the reader to use instead of choosing one by the path (records of an
    archive, whose ``rel`` is ``<archive>#<offset>``).
    """
    stage = "reading"
    findings: list[Finding] = []
    try:
        result = read_bytes(data, rel, plugins=plugins, reader=reader, config=config)
        document = result.document
        findings.extend(result.findings)
        stage = "enriching"
        document, more = plugins.enrich(
            document, config, fail_fast=fail_fast, path=rel, timeout=plugin_timeout
        )
        findings.extend(more)
        stage = "validating"
        findings.extend(
            plugins.validate(
                document, config, fail_fast=fail_fast, path=rel, timeout=plugin_timeout
            )
        )
    except CorpusError as exc:
        if fail_fast and not isinstance(exc, InputRejected):
            raise
        findings.append(_rejection(exc, rel))
        return FileResult(rel, STATUS_REJECTED, findings)
    except Exception as exc:
        if fail_fast:
            raise
        findings.append(_internal_error(exc, rel, stage))
        return FileResult(rel, STATUS_REJECTED, findings)
    status = status_of(findings)
    outputs: dict[str, bytes] = {}
    if status != STATUS_REJECTED:
        for fmt in formats:
            try:
                exporter = plugins.exporters.get(fmt)
                outputs[fmt] = exporter.export(document)
                dropped = getattr(exporter, "dropped", None)
                if dropped is not None:
                    findings.extend(f for f in dropped(document) if f not in findings)
            except CorpusError as exc:
                findings.append(_rejection(exc, rel))
            except Exception as exc:
                if fail_fast:
                    raise
                findings.append(_internal_error(exc, rel, f"exporting {fmt}"))
        status = status_of(findings)
        if status == STATUS_REJECTED:
            outputs = {}
    return FileResult(rel, status, findings, document, outputs)


def process_path(
    path: str | os.PathLike[str],
    rel: str,
    *,
    plugins: Plugins,
    config: Config,
    formats: Sequence[str] = (),
    fail_fast: bool = False,
    max_file_size: int | None = DEFAULT_MAX_FILE_SIZE,
    plugin_timeout: float | None = None,
    reader: str | None = None,
) -> FileResult:
    """:func:`process_data` on a file, with unreadable files reported, not raised.

    The result carries the file's size, modification time and inode as read
    (:attr:`FileResult.source_stat`), unless it was modified within the last
    :data:`~corpus.items.RACY_NS` (it may change again within the same time tick).
    """
    try:
        data, status = read_file(path, rel, max_file_size)
    except CorpusError as exc:
        return FileResult(rel, STATUS_REJECTED, [_rejection(exc, rel)])
    result = process_data(
        data,
        rel,
        plugins=plugins,
        config=config,
        formats=formats,
        fail_fast=fail_fast,
        plugin_timeout=plugin_timeout,
        reader=reader,
    )
    if status.st_mtime_ns < time.time_ns() - RACY_NS:
        result = result.with_source_stat((status.st_size, status.st_mtime_ns, status.st_ino))
    return result


def lost_in_worker(path: str, why: object, *, died: bool) -> FileResult:
    """The result of a file that was lost with a worker even when run alone: the worker died
    (``WORKER_DIED``) or raised outside the per-file guard (``INTERNAL_ERROR``). Shared by the
    local pool and the shard executors, so both say the same."""
    if died:
        finding = Finding(
            "WORKER_DIED",
            Severity.ERROR,
            f"the worker process reading this file died ({why}), again with this file alone; "
            "the system may have run out of memory: check the file's size, or run it with "
            "--jobs 1",
            path=path,
        )
    else:
        finding = Finding(
            "INTERNAL_ERROR",
            Severity.ERROR,
            f"internal error in a worker process ({why}); this is a bug in corpus or a plugin: "
            "please report it with this file",
            path=path,
        )
    return FileResult(path, STATUS_REJECTED, [finding])

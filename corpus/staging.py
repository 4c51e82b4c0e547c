"""Staging outputs: each written to a temporary file beside its target, in any process.

The execute stage's side of writing outputs. A worker (or the driver, with ``--jobs 1``)
stages a document's outputs as ``.corpus-tmp-<pid>-...`` files; the commit stage
(:class:`corpus.outputs.OutputWriter`) renames them into place, so no file under a final name
is ever half written, even after kill -9. Temporary files a killed process left behind are
removed here too (a sweep of each folder a run writes to).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import tempfile
from pathlib import Path

import attrs

from .errors import CorpusError, OutputError
from .items import STATUS_REJECTED, FileResult
from .layout import OutputLayout
from .model import Finding, Severity

#: Temporary files start with this, then the writing process's id and a dash.
TMP_PREFIX = ".corpus-tmp-"


def temp_prefix() -> str:
    """The prefix of this process's temporary files (its id tells whether they are stale)."""
    return f"{TMP_PREFIX}{os.getpid()}-"


def unlink_quietly(path: str) -> None:
    """Remove a file if it is there; clean-up must not hide the error that called for it."""
    with contextlib.suppress(OSError):
        os.unlink(path)


def _umask() -> int:
    """The process umask; from /proc on Linux, since setting it to read it races other threads."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def temp_file_beside(target: Path) -> tuple[int, str]:
    """A temporary file in ``target``'s folder, with the mode a plain ``open`` would give it.

    ``mkstemp`` makes files 0600: renamed into place they would be the only outputs that
    others cannot read.
    """
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(), dir=target.parent)
    if hasattr(os, "fchmod"):
        os.fchmod(fd, 0o666 & ~_umask())
    return fd, tmp


def write_atomic(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` via a temporary file in the same folder and a rename.

    A crash leaves either the old file or the new one under the final name, never half of one.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = temp_file_beside(target)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        unlink_quietly(tmp)
        raise


_tmp_ids = itertools.count()


def _process_gone(pid: int) -> bool:
    """Whether no process ``pid`` runs on this machine (False when that cannot be told)."""
    if pid == os.getpid() or os.name != "posix":  # elsewhere os.kill(pid, 0) would kill
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists but belongs to another user
        return False
    return False


def owner_gone(name: str, prefix: str) -> bool:
    """Whether ``name`` is ``<prefix><pid>-...`` and process ``pid`` no longer runs: the file
    or folder of a killed run, which no one will finish or remove."""
    if not name.startswith(prefix):
        return False
    pid = name[len(prefix) :].partition("-")[0]
    return pid.isascii() and pid.isdigit() and _process_gone(int(pid))


def remove_stale_temps(folder: str, before_ns: int) -> int:
    """Delete the temporary files a killed run left in ``folder``; how many were removed.

    A temporary file is stale when the process named in it no longer runs and it is older
    than ``before_ns`` (this run's start by the output file system's clock): files being
    written right now, by this run or another, are never touched. Subfolders are not visited.
    """
    removed = 0
    try:
        entries = os.scandir(folder)
    except OSError:
        return 0
    with entries:
        for entry in entries:
            if not entry.name.startswith(TMP_PREFIX):
                continue
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                if entry.stat(follow_symlinks=False).st_mtime_ns >= before_ns:
                    continue
            except OSError:
                continue
            if owner_gone(entry.name, TMP_PREFIX):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed += 1
    return removed


#: A shard driver's stage folder in the output folder is ``.corpus-tmp-<pid>-shards``.
SHARDS_SUFFIX = "-shards"


def remove_stale_stage_dirs(output: str) -> int:
    """Remove the shard stage folders of drivers that no longer run (a killed Dask run's);
    how many files they held. Any ingest into ``output`` does this, not only the next one
    on the same executor."""
    removed = 0
    try:
        entries = list(os.scandir(output))
    except OSError:
        return 0
    for entry in entries:
        if not entry.name.endswith(SHARDS_SUFFIX) or not owner_gone(entry.name, TMP_PREFIX):
            continue
        with contextlib.suppress(OSError):
            removed += len(os.listdir(entry.path))
            shutil.rmtree(entry.path)
    return removed


def _filesystem_now(folder: str) -> int:
    """The output file system's own clock (file times can lag ``time.time_ns()`` by ticks)."""
    os.makedirs(folder, exist_ok=True)
    fd, probe = tempfile.mkstemp(prefix=temp_prefix(), dir=folder)
    try:
        return os.fstat(fd).st_mtime_ns
    finally:
        os.close(fd)
        unlink_quietly(probe)


def write_file(path: str, data: bytes, *, exclusive: bool) -> None:
    """Write ``data`` to a new file at ``path`` (``exclusive``: fail if it exists, else
    replace it), looping over short writes."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


class OutputStager(OutputLayout):
    """Stages each document's outputs beside their targets, inside the output folder.

    Also keeps the run's start by the output file system's clock (:meth:`start`, in the
    process that commits) and sweeps away temporary files that killed processes left.
    """

    def __init__(self, output: str, extensions: dict[str, str]) -> None:
        super().__init__(output, extensions)
        self._folders: set[str] = set()
        #: Stale temporary files (of killed runs) removed from the folders this run wrote to.
        self.stale_removed = 0
        self._swept: set[str] = set()
        self._sweep_before_ns: int | None = None
        # Set by start() in the process that claims keys (worker processes only stage).
        self._started_ns: int | None = None
        self._real_root: str | None = None
        self._name_max: dict[str, int] = {}

    def start(self) -> None:
        """Mark the start of the run, by the output file system's clock."""
        self._started_ns = _filesystem_now(self.root)
        self._sweep(self.root)
        self.stale_removed += remove_stale_stage_dirs(self.root)

    def _sweep(self, folder: str) -> None:
        """Remove stale temporary files from ``folder``, once per run (see remove_stale_temps)."""
        if folder in self._swept or self._started_ns is None:
            return
        self._swept.add(folder)
        before = self._sweep_before_ns or self._started_ns
        self.stale_removed += remove_stale_temps(folder, before)

    def worker_died(self) -> None:
        """A worker process died mid-batch: its temporary files are stale from now on.

        Folders already swept are swept again, and later sweeps take anything of a gone
        process that is older than this moment, not only what is older than the run.
        """
        self._sweep_before_ns = _filesystem_now(self.root)
        folders, self._swept = self._swept, set()
        for folder in sorted(folders):
            self._sweep(folder)

    def _check_folder(self, folder: str, key: str) -> None:
        """Refuse a folder that resolves outside the output folder (a symbolic link in -o)."""
        if self._real_root is None:
            self._real_root = os.path.realpath(self.root)
        real = os.path.realpath(folder)
        if real != self._real_root and not real.startswith(self._real_root + os.sep):
            raise OutputError(
                f"the output folder for key {key!r} leads to {real}, outside the output "
                "folder (a symbolic link inside it); remove the link",
                code="OUTPUT_OUTSIDE",
            )

    def _check_name(self, target: str) -> None:
        """Refuse a file name longer than the file system takes, before anything is written."""
        folder, name = os.path.split(target)
        limit = self._name_max.get(folder)
        if limit is None:
            try:
                limit = os.pathconf(folder, "PC_NAME_MAX")
            except (OSError, ValueError, AttributeError):
                limit = 255
            self._name_max[folder] = limit
        size = len(os.fsencode(name))
        if size > limit:
            raise OutputError(
                f"output file name {name[:40]!r}... is {size} bytes, more than the file system "
                f"takes ({limit}); shorten the input's name",
                code="NAME_TOO_LONG",
            )

    def prepare(self, key: str, fmt: str) -> str:
        """The target of ``key``'s output ``fmt``, its folder made and checked: it stays
        inside -o (``OUTPUT_OUTSIDE``) and the file system takes its name (``NAME_TOO_LONG``).
        """
        target = self.target(key, fmt)
        folder = os.path.dirname(target)
        if folder not in self._folders:
            os.makedirs(folder, exist_ok=True)
            self._check_folder(folder, key)
            self._folders.add(folder)
        self._check_name(target)
        return target

    def stage(self, result: FileResult, *, into: tuple[str, str] | None = None) -> FileResult:
        """Write outputs to temporary files next to their targets; keep their paths.

        ``into`` is ``(folder, stem)``: stage in that folder as ``<stem>-<format>`` instead,
        overwriting what is there (shards on other executors, whose reruns must be idempotent).
        The folder is not made here: once the driver removed it (an interrupt), writing fails
        instead of leaving a file behind.
        """
        key = result.document_key
        if not result.outputs or key is None:
            return result
        staged: dict[str, str] = {}
        try:
            for fmt in result.outputs:
                self.prepare(key, fmt)  # the driver's rename needs the target's folder too
            for fmt, data in result.outputs.items():
                if into is None:
                    folder = os.path.dirname(self.target(key, fmt))
                    tmp = os.path.join(folder, f"{temp_prefix()}{next(_tmp_ids)}")
                else:
                    tmp = os.path.join(into[0], f"{into[1]}-{fmt}")
                staged[fmt] = tmp
                write_file(tmp, data, exclusive=into is None)
        except (CorpusError, OSError) as exc:
            for tmp in staged.values():
                unlink_quietly(tmp)
            return output_failure(result, exc)
        return result.with_outputs(staged)


def discard_staged(result: FileResult) -> None:
    """Remove the temporary files of outputs that will not be committed."""
    for tmp in result.staged.values():
        unlink_quietly(tmp)


def output_failure(result: FileResult, exc: BaseException) -> FileResult:
    """``result`` rejected because its outputs could not be written (or placed)."""
    if isinstance(exc, CorpusError):
        finding = Finding(exc.code, Severity.ERROR, exc.message, path=result.path)
    else:
        finding = Finding(
            "OUTPUT_UNWRITABLE",
            Severity.ERROR,
            f"cannot write output: {getattr(exc, 'strerror', None) or exc}; check the output "
            "folder",
            path=result.path,
        )
    return attrs.evolve(
        result, status=STATUS_REJECTED, findings=[*result.findings, finding], outputs={}
    )

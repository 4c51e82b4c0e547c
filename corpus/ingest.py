"""``corpus ingest`` as a library call: walk sources, process files, write outputs and a report.

Memory stays flat as a corpus grows: files are listed lazily, processed one at a time (or a few
per worker process), report entries are streamed to a temporary file, and only totals stay in
memory. Outputs are written atomically (temporary file + rename) and never inside a source.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import multiprocessing
import os
import shutil
import signal
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs

from .config import Config
from .errors import ConfigError, CorpusError, OutputError
from .model import Finding, Severity
from .pipeline import (
    DEFAULT_MAX_FILE_SIZE,
    STATUS_OK,
    STATUS_REJECTED,
    STATUS_WARNING,
    FileResult,
    default_key,
    process_data,
    process_path,
    read_file_bytes,
    status_of,
)
from .plugins import Plugins, PluginSpec

REPORT_NAME = "report.json"
#: Files sent to a worker process at once: amortizes inter-process overhead.
BATCH_SIZE = 64
TMP_PREFIX = ".corpus-tmp-"
#: Files the parent read (to check the store) are handed to workers with their bytes up to
#: this size; larger ones are read again there, so batches in flight stay small in memory.
CARRY_LIMIT = 64 * 1024


@attrs.frozen
class IngestOptions:
    """Everything one ingest run needs besides plugins and settings."""

    sources: tuple[str, ...]
    output: str | None = None
    formats: tuple[str, ...] = ("nitf", "json")
    jobs: int = 1
    report_path: str | None = None
    fail_fast: bool = False
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    store: str | None = None
    force: bool = False
    quarantine: str | None = None
    plugin_timeout: float | None = None
    arguments: tuple[str, ...] = ()


@attrs.frozen
class InputFile:
    """One listed input: where it is, its root, and its path relative to that root."""

    path: str
    root: str
    rel: str
    problem: Finding | None = None
    #: The file's bytes when the parent already read them (to check the store), so they are
    #: not read twice; None means the processing side reads the file.
    data: bytes | None = attrs.field(default=None, repr=False, eq=False)


# -- listing ---------------------------------------------------------------------------------


def _display(name: str) -> str:
    """A file name that JSON and terminals can carry (undecodable bytes become U+FFFD)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def iter_inputs(sources: Sequence[str]) -> Iterator[InputFile]:
    """Every file under ``sources``, sorted, lazily; problems become rejected entries.

    Within a folder, files come first (sorted by name), then each subfolder in turn.
    A file given directly has its folder as root. Hidden entries (names starting with ".") are
    skipped, as version-control folders are. Symbolic links are followed, but a link back to a
    folder already being walked is reported (SYMLINK_LOOP), never followed forever.
    """
    for source in sources:
        src = Path(source)
        if src.is_dir():
            root = str(src)
            st = src.stat()
            yield from _walk(root, root, "", {(st.st_dev, st.st_ino)})
        else:
            yield InputFile(str(src), str(src.parent), _display(src.name))


def _walk(root: str, folder: str, prefix: str, active: set[tuple[int, int]]) -> Iterator[InputFile]:
    """Files under ``folder``; ``prefix`` is its path relative to ``root`` plus ``/`` (or "")."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        rel = prefix.rstrip("/") or "."
        yield InputFile(folder, root, rel, _problem("FOLDER_UNREADABLE", exc, rel))
        return
    subfolders: list[tuple[str, str, tuple[int, int]]] = []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        name = entry.name if entry.name.isascii() else _display(entry.name)
        rel = prefix + name
        problem = None
        if name != entry.name:
            problem = Finding(
                "FILENAME_NOT_UTF8",
                Severity.WARNING,
                "file name is not valid UTF-8; undecodable bytes are shown as U+FFFD in keys "
                "and outputs: rename the file",
                path=rel,
            )
        try:
            is_dir = entry.is_dir(follow_symlinks=True)
        except OSError as exc:
            yield InputFile(entry.path, root, rel, _problem("FILE_UNREADABLE", exc, rel))
            continue
        if is_dir:
            try:
                st = entry.stat(follow_symlinks=True)
            except OSError as exc:
                yield InputFile(entry.path, root, rel, _problem("FOLDER_UNREADABLE", exc, rel))
                continue
            ident = (st.st_dev, st.st_ino)
            if ident in active:
                yield InputFile(
                    entry.path,
                    root,
                    rel,
                    Finding(
                        "SYMLINK_LOOP",
                        Severity.ERROR,
                        "symbolic link leads back to a folder already being read; remove the "
                        "link or ingest its target directly",
                        path=rel,
                    ),
                )
                continue
            subfolders.append((entry.path, rel + "/", ident))
            continue
        if entry.is_symlink() and not os.path.exists(entry.path):
            yield InputFile(
                entry.path,
                root,
                rel,
                Finding(
                    "BROKEN_SYMLINK",
                    Severity.ERROR,
                    "symbolic link points to nothing; fix or remove the link",
                    path=rel,
                ),
            )
            continue
        yield InputFile(entry.path, root, rel, problem)
    # Files of a folder come before its subfolders, so one folder's outputs are claimed
    # together (see OutputWriter) and memory stays bounded by the largest folder.
    for path, sub_prefix, ident in subfolders:
        active.add(ident)
        yield from _walk(root, path, sub_prefix, active)
        active.discard(ident)


def _problem(code: str, exc: OSError, rel: str) -> Finding:
    return Finding(
        code,
        Severity.ERROR,
        f"cannot read: {exc.strerror or exc}; check permissions and that the path exists",
        path=rel,
    )


# -- the report ------------------------------------------------------------------------------


_ENTRY_ENCODER = json.JSONEncoder(ensure_ascii=False)


class IngestReport:
    """Totals in memory; one entry per file streamed to a temporary JSON Lines file."""

    def __init__(self, options: IngestOptions) -> None:
        self.options = options
        self.started = time.time()
        self.finished: float | None = None
        self.interrupted = False
        self.totals: Counter[str] = Counter()
        self.codes: Counter[str] = Counter()
        self.store_counts: dict[str, int] | None = None
        self._worst = -1
        fd, self._entries_path = tempfile.mkstemp(prefix="corpus-report-", suffix=".jsonl")
        self._entries = os.fdopen(fd, "w", encoding="utf-8")

    def add(self, result: FileResult) -> None:
        self.totals["files"] += 1
        self.totals[result.status] += 1
        self.totals["outputs"] += result.written
        for finding in result.findings:
            self.codes[finding.code] += 1
            self._worst = max(self._worst, finding.severity.rank)
        self._entries.write(_ENTRY_ENCODER.encode(result.to_report()) + "\n")

    def close(self) -> None:
        if not self._entries.closed:
            self._entries.close()
        self.finished = self.finished or time.time()

    def cleanup(self) -> None:
        self.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._entries_path)

    def iter_entries(self) -> Iterator[dict[str, Any]]:
        if not self._entries.closed:
            self._entries.flush()
        with open(self._entries_path, encoding="utf-8") as fh:
            for line in fh:
                yield json.loads(line)

    @property
    def files(self) -> list[dict[str, Any]]:
        """Every report entry (loads them all: for tests and small runs)."""
        return list(self.iter_entries())

    def totals_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "files": self.totals["files"],
            "ok": self.totals[STATUS_OK],
            "warning": self.totals[STATUS_WARNING],
            "rejected": self.totals[STATUS_REJECTED],
            "outputs": self.totals["outputs"],
            "codes": dict(sorted(self.codes.items())),
        }
        if self.store_counts is not None:
            out["store"] = dict(self.store_counts)
        return out

    def header(self) -> dict[str, Any]:
        return {
            "sources": list(self.options.sources),
            "output": self.options.output,
            "formats": list(self.options.formats),
            "started": _iso(self.started),
            "finished": _iso(self.finished) if self.finished else None,
            "interrupted": self.interrupted,
        }

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.header(), "files": self.files, "totals": self.totals_dict()}

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write the JSON report atomically, streaming entries from disk."""
        self.close()
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write('{\n"run": ' + json.dumps(self.header(), ensure_ascii=False))
                out.write(',\n"files": [')
                with open(self._entries_path, encoding="utf-8") as entries:
                    for i, line in enumerate(entries):
                        out.write(("\n" if i == 0 else ",\n") + line.rstrip("\n"))
                out.write('\n],\n"totals": ' + json.dumps(self.totals_dict(), ensure_ascii=False))
                out.write("\n}\n")
            os.replace(tmp, target)
        except BaseException:
            _unlink_quietly(tmp)
            raise

    def fails(self, level: str) -> bool:
        """Whether a finding reached ``level`` (``error``, ``warning``; ``never`` is never)."""
        if level == "never":
            return False
        return self._worst >= Severity(level).rank

    def summary_line(self) -> str:
        t = self.totals_dict()
        seconds = (self.finished or time.time()) - self.started
        line = (
            f"{t['files']} files: {t['ok']} ok, {t['warning']} with warnings, "
            f"{t['rejected']} rejected; {t['outputs']} outputs written in {seconds:.1f}s"
        )
        if self.store_counts:
            s = self.store_counts
            line += (
                f"; store: {s.get('new', 0)} new, {s.get('changed', 0)} changed, "
                f"{s.get('unchanged', 0)} unchanged, {s.get('removed', 0)} removed"
            )
        if self.interrupted:
            line += " (interrupted)"
        return line


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


# -- writing outputs -------------------------------------------------------------------------


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def write_atomic(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` via a temporary file in the same folder and a rename.

    A crash leaves either the old file or the new one under the final name, never half of one.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        _unlink_quietly(tmp)
        raise


_tmp_ids = itertools.count()


def _filesystem_now(folder: str) -> int:
    """The output file system's own clock (file times can lag ``time.time_ns()`` by ticks)."""
    os.makedirs(folder, exist_ok=True)
    fd, probe = tempfile.mkstemp(prefix=TMP_PREFIX, dir=folder)
    try:
        return os.fstat(fd).st_mtime_ns
    finally:
        os.close(fd)
        _unlink_quietly(probe)


class OutputWriter:
    """Places each document's outputs under the output folder, refusing escapes and collisions.

    Writing is two-phase so worker processes can do the slow part: :meth:`stage` writes each
    output to a temporary file beside its target (in any process); :meth:`commit` (in the
    parent, which sees every key) checks for collisions and renames, or removes the stage.
    """

    def __init__(self, output: str, extensions: dict[str, str]) -> None:
        self.root = os.path.abspath(output)
        self.extensions = dict(extensions)
        self._folders: set[str] = set()
        # Set by start() in the process that claims keys (worker processes only stage).
        self._started_ns: int | None = None
        # Keys derived from paths can only collide within one folder (a.txt and a.json), and
        # the walk gives each folder's files together: remembering the current folder's keys
        # keeps memory flat however large the corpus. Other keys (from a document_key plugin,
        # or stored in a JSON input) are remembered as 8-byte digests, and checked against
        # outputs this run already wrote in other folders.
        self._folder: str | None = None
        self._folder_keys: set[str] = set()
        self._other_keys: set[int] = set()

    @classmethod
    def for_formats(cls, output: str, plugins: Plugins, formats: Sequence[str]) -> OutputWriter:
        return cls(output, {fmt: plugins.exporters.get(fmt).extension for fmt in formats})

    def claim(self, key: str, path: str) -> bool:
        """Whether ``key`` (of the input at ``path``) is still free in this run; take it."""
        folder = path.rpartition("/")[0]  # the input's folder: its files come together
        if folder != self._folder:
            self._folder, self._folder_keys = folder, set()
        if key in self._folder_keys:
            return False
        derived = key == default_key(path)
        if self._other_keys or not derived:
            digest = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")
            if digest in self._other_keys:
                return False
            if not derived:
                if self._written_this_run(key):
                    return False
                self._other_keys.add(digest)
        self._folder_keys.add(key)
        return True

    def start(self) -> None:
        """Mark the start of the run, by the output file system's clock."""
        self._started_ns = _filesystem_now(self.root)

    def _written_this_run(self, key: str) -> bool:
        if self._started_ns is None:
            raise RuntimeError("OutputWriter.start() was not called before claiming keys")
        for fmt in self.extensions:
            try:
                if os.stat(self.target(key, fmt)).st_mtime_ns >= self._started_ns:
                    return True
            except OSError:
                continue
        return False

    def target(self, key: str, fmt: str) -> str:
        target = os.path.normpath(os.path.join(self.root, key + self.extensions[fmt]))
        if not target.startswith(self.root + os.sep):
            raise OutputError(
                f"output for key {key!r} would land outside the output folder",
                code="UNSAFE_KEY",
            )
        return target

    def outputs_exist(self, key: str) -> bool:
        try:
            return all(os.path.isfile(self.target(key, fmt)) for fmt in self.extensions)
        except CorpusError:
            return False

    def stage(self, result: FileResult) -> FileResult:
        """Write outputs to temporary files next to their targets; keep their paths."""
        key = result.document_key
        if not result.outputs or key is None:
            return result
        staged: dict[str, str] = {}
        try:
            for fmt, data in result.outputs.items():
                folder = os.path.dirname(self.target(key, fmt))
                if folder not in self._folders:
                    os.makedirs(folder, exist_ok=True)
                    self._folders.add(folder)
                tmp = os.path.join(folder, f"{TMP_PREFIX}{os.getpid()}-{next(_tmp_ids)}")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
                staged[fmt] = tmp
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view) :]
                finally:
                    os.close(fd)
        except (CorpusError, OSError) as exc:
            for tmp in staged.values():
                _unlink_quietly(tmp)
            return _output_failure(result, exc)
        return attrs.evolve(result, outputs={}, staged=staged)

    def commit(self, result: FileResult) -> FileResult:
        """Rename staged outputs into place, unless another input already took the key."""
        key = result.document_key
        if not result.staged or key is None:
            return result
        try:
            if not self.claim(key, result.path):
                raise OutputError(
                    f"another input in this run has the same key {key!r}, so both would write "
                    "the same output; rename one of them",
                    code="OUTPUT_COLLISION",
                )
            for fmt, tmp in result.staged.items():
                os.replace(tmp, self.target(key, fmt))
        except (CorpusError, OSError) as exc:
            for tmp in result.staged.values():
                _unlink_quietly(tmp)
            return _output_failure(attrs.evolve(result, staged={}), exc)
        return attrs.evolve(result, staged={}, written=len(result.staged))


def discard_staged(result: FileResult) -> None:
    """Remove the temporary files of outputs that will not be committed."""
    for tmp in result.staged.values():
        _unlink_quietly(tmp)


def _output_failure(result: FileResult, exc: BaseException) -> FileResult:
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


def quarantine_file(item: InputFile, result: FileResult, folder: str) -> None:
    """Copy a rejected input into ``folder`` with a ``.rejected.json`` sidecar saying why."""
    target = Path(folder) / result.path
    target.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # unreadable or vanished: the sidecar still says why
        shutil.copyfile(item.path, target)
    sidecar = target.with_name(target.name + ".rejected.json")
    write_atomic(
        sidecar,
        (json.dumps(result.to_report(), ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
    )


# -- processing ------------------------------------------------------------------------------

_worker_state: dict[str, Any] = {}


def _worker_init(
    plugins: Plugins | PluginSpec,
    config: Config,
    options: IngestOptions,
    extensions: dict[str, str] | None,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # Forked workers inherit the parent's loaded plugins (inline ones too); spawned ones load
    # the same set again from its picklable spec.
    _worker_state["plugins"] = plugins if isinstance(plugins, Plugins) else Plugins(plugins)
    _worker_state["config"] = config
    _worker_state["options"] = options
    _worker_state["writer"] = OutputWriter(options.output, extensions) if extensions else None


def _pool_context() -> tuple[Any, bool]:
    """fork where the platform has it (instant start, plugins inherited), else spawn."""
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork"), True
    return multiprocessing.get_context("spawn"), False


def process_item(
    item: InputFile, plugins: Plugins, config: Config, options: IngestOptions
) -> FileResult:
    """One listed input through the pipeline, from its bytes if the parent already read them."""
    common = {
        "plugins": plugins,
        "config": config,
        "formats": options.formats,
        "fail_fast": options.fail_fast,
        "plugin_timeout": options.plugin_timeout,
    }
    if item.data is not None:
        return process_data(item.data, item.rel, **common)
    return process_path(item.path, item.rel, max_file_size=options.max_file_size, **common)


def _worker_batch(items: list[InputFile]) -> list[FileResult]:
    options: IngestOptions = _worker_state["options"]
    writer: OutputWriter | None = _worker_state["writer"]
    results = []
    for item in items:
        result = process_item(item, _worker_state["plugins"], _worker_state["config"], options)
        if writer is not None:
            result = writer.stage(result)
        # Only a store needs the whole document; otherwise send key and hash back (cheaper).
        results.append(result if options.store else result.slim())
    return results


def _check_paths(options: IngestOptions) -> None:
    if options.formats and not options.output:
        raise ConfigError("formats were given but no output folder (-o)")
    if not options.output:
        return
    out = Path(options.output).resolve()
    for source in options.sources:
        src = Path(source).resolve()
        src_dir = src if src.is_dir() else src.parent
        if out == src_dir or src_dir in out.parents:
            raise ConfigError(
                f"output folder {options.output} is inside source {source}: corpus never writes "
                "into its input; choose an output folder outside it"
            )
        if out in src.parents:
            raise ConfigError(
                f"source {source} is inside output folder {options.output}: outputs could "
                "overwrite inputs; choose another output folder"
            )


def run_ingest(
    options: IngestOptions,
    *,
    plugins: Plugins,
    config: Config,
    progress: bool = False,
    on_result: Callable[[FileResult], None] | None = None,
) -> IngestReport:
    """Ingest ``options.sources``; returns the report (already written if a path applies).

    SIGINT stops the run after the current document: the report is written and marked
    interrupted. Raises :class:`CorpusError` for unusable options (bad output folder, unknown
    format), never for bad input files.
    """
    _check_paths(options)
    for fmt in options.formats:
        plugins.exporters.get(fmt)  # unknown formats fail before any work
    writer = (
        OutputWriter.for_formats(options.output, plugins, options.formats)
        if options.output
        else None
    )
    if writer is not None:
        writer.start()
    report = IngestReport(options)
    store_run = _open_store_run(options)
    stop = {"now": False}

    def on_sigint(signum, frame):  # noqa: ARG001
        stop["now"] = True

    previous = None
    try:
        previous = signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # not the main thread: no graceful interrupt
        previous = None

    bar = _progress_bar(options, progress)
    try:
        for item, result, recorded in _results(options, plugins, config, store_run, writer, stop):
            if item.problem is not None and item.problem not in result.findings:
                findings = [item.problem, *result.findings]
                result = attrs.evolve(result, findings=findings, status=status_of(findings))
            if writer is not None:
                result = writer.commit(result)
            if store_run is not None and not recorded:
                store_run.record(_root_of(item), result)
            if options.quarantine and result.status == STATUS_REJECTED:
                quarantine_file(item, result, options.quarantine)
            report.add(result)
            if on_result is not None:
                on_result(result)
            if bar is not None:
                bar.update(1)
            if options.fail_fast and result.status == STATUS_REJECTED:
                break
            if stop["now"]:
                report.interrupted = True
                break
        if stop["now"]:
            report.interrupted = True
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        if bar is not None:
            bar.render_finish()
        if store_run is not None:
            report.store_counts = store_run.finish(interrupted=report.interrupted)
            store_run.close()
        report.close()
        target = options.report_path or (
            str(Path(options.output) / REPORT_NAME) if options.output else None
        )
        if target:
            report.write(target)
    return report


def _root_of(item: InputFile) -> str:
    return os.path.abspath(item.root)


def _results(
    options: IngestOptions,
    plugins: Plugins,
    config: Config,
    store_run: Any,
    writer: OutputWriter | None,
    stop: dict[str, bool],
) -> Iterator[tuple[InputFile, FileResult, bool]]:
    """(input, result, already recorded) in input order, from here or from worker processes."""
    pending = _pending(options, store_run, writer, stop)
    if options.jobs <= 1:
        for item in pending:
            if isinstance(item, tuple):
                yield item
                continue
            result = process_item(item, plugins, config, options)
            yield item, writer.stage(result) if writer is not None else result, False
        return
    ctx, forked = _pool_context()
    with ctx.Pool(
        options.jobs,
        initializer=_worker_init,
        initargs=(
            plugins if forked else plugins.spec,
            config,
            options,
            writer.extensions if writer else None,
        ),
    ) as pool:
        # A bounded window of batches in flight keeps memory flat and the order of inputs;
        # items decided here (skips, listing problems) wait in the window in their place.
        window: deque[Any] = deque()
        batch: list[InputFile] = []

        def flush() -> None:
            if batch:
                window.append((list(batch), pool.apply_async(_worker_batch, (list(batch),))))
                batch.clear()

        def drain_one() -> Iterator[tuple[InputFile, FileResult, bool]]:
            entry = window.popleft()
            if len(entry) == 3:
                yield entry
                return
            items, pending_results = entry
            for item, result in zip(items, pending_results.get(), strict=True):
                yield item, result, False

        try:
            for item in pending:
                if isinstance(item, tuple):
                    flush()
                    window.append(item)
                else:
                    batch.append(item)
                    if len(batch) >= BATCH_SIZE:
                        flush()
                while len(window) > options.jobs * 4:
                    yield from drain_one()
            flush()
            while window:
                yield from drain_one()
        finally:
            # Stopped early (interrupt, fail-fast): let in-flight work finish, drop its stages.
            for entry in window:
                if len(entry) == 2:
                    for result in entry[1].get():
                        discard_staged(result)


def _pending(
    options: IngestOptions, store_run: Any, writer: OutputWriter | None, stop: dict[str, bool]
) -> Iterator[Any]:
    """Inputs to process, or (input, result, recorded) already decided here (problems, skips).

    With a store, a file whose raw bytes are those of its latest stored version, and whose
    outputs exist, is not read again nor re-exported: that is what makes re-ingest cheap.
    """
    for item in iter_inputs(options.sources):
        if stop["now"]:
            return
        if item.problem is not None and item.problem.severity == Severity.ERROR:
            yield item, FileResult(item.rel, status_of([item.problem]), [item.problem]), False
            continue
        if store_run is not None and not options.force:
            try:
                data = read_file_bytes(item.path, item.rel, options.max_file_size)
            except CorpusError:
                yield item  # the worker reports it properly
                continue
            digest = hashlib.sha256(data).hexdigest()
            key = store_run.known_unchanged(_root_of(item), item.rel, digest)
            if key is not None and (writer is None or writer.outputs_exist(key)):
                store_run.record_unchanged(_root_of(item), item.rel, key)
                findings = store_run.findings_of(key)
                yield item, FileResult(item.rel, status_of(findings), findings), True
                continue
            if options.jobs <= 1 or len(data) <= CARRY_LIMIT:
                item = attrs.evolve(item, data=data)
        yield item


def _open_store_run(options: IngestOptions) -> Any:
    if not options.store:
        return None
    from .store import Store

    store = Store.open(options.store)
    try:
        run = store.begin_run(
            roots=[os.path.abspath(s) for s in options.sources], arguments=options.arguments
        )
    except BaseException:
        store.close()
        raise
    return _StoreRun(store, run)


class _StoreRun:
    """The store and its open run, closed together."""

    def __init__(self, store: Any, run: Any) -> None:
        self.store = store
        self.run = run

    def known_unchanged(self, root: str, rel: str, digest: str) -> str | None:
        return self.run.known_unchanged(root, rel, digest)

    def record_unchanged(self, root: str, rel: str, key: str) -> None:
        self.run.record_unchanged(root, rel, key)

    def findings_of(self, key: str) -> list[Finding]:
        """Findings stored with the latest version, so a skipped file keeps its status."""
        return list(self.run.findings_of(key))

    def record(self, root: str, result: FileResult) -> str:
        return self.run.record(root, result)

    def finish(self, *, interrupted: bool) -> dict[str, int]:
        return self.run.finish(interrupted=interrupted)

    def close(self) -> None:
        self.store.close()


def _progress_bar(options: IngestOptions, progress: bool) -> Any:
    if not progress:
        return None
    import click

    total = sum(1 for _ in iter_inputs(options.sources))
    bar = click.progressbar(length=total, label="ingesting", file=None, show_pos=True)
    bar.__enter__()
    return bar

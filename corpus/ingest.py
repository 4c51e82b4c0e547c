"""``corpus ingest`` as a library call: list sources, process files, write outputs and a report.

This module runs the stages in order, in this process or in worker processes; the parts are
modules of their own: :mod:`corpus.listing` (which files, in which order),
:mod:`corpus.pipeline` (one file through reader, plugins and exporters), :mod:`corpus.outputs`
(atomic writes without collisions) and :mod:`corpus.report` (the streamed report).

Memory stays flat as a corpus grows: files are listed lazily, processed one at a time (or a
batch per worker process), report entries are streamed to a temporary file, and only totals
stay in memory. Outputs are written atomically and never inside a source.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs

from .config import Config
from .errors import ConfigError, CorpusError
from .executors import get_executor
from .listing import InputFile, iter_inputs
from .model import Finding, Severity
from .outputs import OutputWriter, discard_staged, quarantine_file
from .pipeline import (
    DEFAULT_MAX_FILE_SIZE,
    STATUS_REJECTED,
    FileResult,
    process_data,
    process_path,
    read_file_bytes,
    status_of,
)
from .plugins import Plugins, PluginSpec
from .report import IngestReport
from .shards import run_shards
from .workers import WorkerDied, WorkerError, WorkerPool, default_context

__all__ = [
    "IngestOptions",
    "IngestReport",
    "InputFile",
    "OutputWriter",
    "iter_inputs",
    "process_item",
    "run_ingest",
]

REPORT_NAME = "report.json"
#: Files sent to a worker process at once: amortizes inter-process overhead.
BATCH_SIZE = 64
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
    #: ``local`` (the --jobs pool) or a registered executor (``dask``...): see corpus.executors.
    executor: str = "local"
    scheduler: str | None = None
    workers: int | None = None


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
    if options.executor != "local":
        get_executor(plugins, options.executor)
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
        if writer is not None:
            report.stale_temps_removed = writer.stale_removed
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
    if options.executor != "local":  # shards on another executor (corpus.executors)
        yield from run_shards(options, plugins, config, writer, pending)
        return
    if options.jobs <= 1:
        for item in pending:
            if isinstance(item, tuple):
                yield item
                continue
            result = process_item(item, plugins, config, options)
            yield item, writer.stage(result) if writer is not None else result, False
        return
    ctx, forked = default_context()
    initargs = (
        plugins if forked else plugins.spec,
        config,
        options,
        writer.extensions if writer else None,
    )
    with WorkerPool(ctx, options.jobs, _worker_batch, _worker_init, initargs) as pool:
        # A bounded window of batches in flight keeps memory flat and the order of inputs;
        # items decided here (skips, listing problems) wait in the window in their place.
        window: deque[Any] = deque()
        batch: list[InputFile] = []

        def flush() -> None:
            if batch:
                window.append((list(batch), pool.submit(list(batch))))
                batch.clear()

        def drain_one() -> Iterator[tuple[InputFile, FileResult, bool]]:
            entry = window.popleft()
            if len(entry) == 3:
                yield entry
                return
            items, ticket = entry
            try:
                results = pool.result(ticket)
            except WorkerDied:
                if writer is not None:
                    writer.worker_died()
                results = _one_by_one(pool, items)
            except WorkerError:  # a bug outside the per-file guard: find the file it hit
                results = _one_by_one(pool, items)
            for index, (item, result) in enumerate(zip(items, results, strict=True)):
                try:
                    yield item, result, False
                except GeneratorExit:  # stopped inside this batch: drop the rest's stages
                    for rest in results[index + 1 :]:
                        discard_staged(rest)
                    raise

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
            pool.close()
        finally:
            # Stopped early (interrupt, fail-fast): let in-flight work finish, drop its stages.
            for entry in window:
                if len(entry) == 2:
                    with contextlib.suppress(WorkerDied):
                        for result in pool.result(entry[1]):
                            discard_staged(result)


def _one_by_one(pool: WorkerPool, items: list[InputFile]) -> list[FileResult]:
    """A batch whose worker died, again file by file: only the file that kills is lost.

    Files of the batch staged before the death left temporary files of a process that no
    longer runs; :meth:`OutputWriter.worker_died` has them removed.
    """
    results = []
    for item in items:
        try:
            (result,) = pool.result(pool.submit([item]))
        except WorkerDied as died:
            finding = Finding(
                "WORKER_DIED",
                Severity.ERROR,
                f"the worker process reading this file died ({died.how}), twice, the second "
                "time with this file alone; the system may have run out of memory: check the "
                "file's size, or run it with --jobs 1",
                path=item.rel,
            )
            result = FileResult(item.rel, STATUS_REJECTED, [finding])
        except WorkerError as error:
            finding = Finding(
                "INTERNAL_ERROR",
                Severity.ERROR,
                f"internal error in a worker process ({error}); this is a bug in corpus or a "
                "plugin: please report it with this file",
                path=item.rel,
            )
            result = FileResult(item.rel, STATUS_REJECTED, [finding])
        results.append(result)
    return results


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
            in_process = options.jobs <= 1 and options.executor == "local"
            if in_process or len(data) <= CARRY_LIMIT:
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

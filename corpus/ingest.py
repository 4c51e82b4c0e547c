"""``corpus ingest`` as a library call: list sources, process files, write outputs and a report.

:func:`run_ingest` composes the three stages, each an iterator over the one before it:
:mod:`corpus.plan` (the listing, and what the store already has) -> :mod:`corpus.execute`
(each work item through :mod:`corpus.pipeline`, here or in worker processes, outputs staged)
-> :mod:`corpus.commit` (outputs renamed into place, store, report, in input order). Around
them it holds what belongs to the whole run: the store run, signals, the progress bar and
the report file. No stage imports a later one (docs/architecture.md, *The ingest stages*).

Memory stays flat as a corpus grows: files are listed lazily, processed one at a time (or a
batch per worker process), report entries are streamed to a temporary file, and only totals
stay in memory. Outputs are written atomically and never inside a source.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from .commit import check_quarantine, commit_results
from .config import Config
from .errors import ConfigError, CorpusError, OutputError
from .execute import execute_items, process_item, worker_batch
from .executors import get_executor
from .items import STATUS_REJECTED, FileResult, InputFile
from .listing import iter_inputs
from .model import Finding
from .outputs import OutputWriter, quarantine_file
from .pipeline import DEFAULT_MAX_FILE_SIZE
from .plan import PlanOptions, plan_inputs
from .plugins import Plugins
from .report import IngestReport
from .selection import select_inputs
from .workers import default_context

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
#: What each worker of the local pool runs on a batch (see _consume).
_worker_batch = worker_batch


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
    #: Hash every file, even one whose size and modification time are those recorded.
    checksum: bool = False
    quarantine: str | None = None
    plugin_timeout: float | None = None
    arguments: tuple[str, ...] = ()
    #: ``local`` (the --jobs pool) or a registered executor (``dask``...): see corpus.executors.
    executor: str = "local"
    scheduler: str | None = None
    workers: int | None = None
    #: ``--include`` / ``--exclude`` glob patterns (see :mod:`corpus.selection`).
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


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
    progress: bool | str = False,
    on_result: Callable[[FileResult], None] | None = None,
) -> IngestReport:
    """Ingest ``options.sources``; returns the report (already written if a path applies).

    SIGINT or SIGTERM stops the run after the current document: the report is written and
    marked interrupted (``report.signal`` says which). Raises :class:`CorpusError` for unusable
    options (bad output folder, unknown format), never for bad input files; and when the run
    itself fails part way (a full disk, a bug): the store run is then recorded ``failed``
    with no tombstones, and the report, marked ``failed``, is still written.
    """
    plugins.check_settings(config)  # before any file is read: CONFIG_ERROR, not N failures
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
        _start_writer(writer, options)
        report_target = _report_target(options)
        if report_target:
            writer.reserve(report_target)
    if options.quarantine:
        check_quarantine(options.quarantine)
    try:
        report = IngestReport(options)
    except OSError as exc:  # its entries go to a temporary file: the temporary folder is full
        raise CorpusError(
            f"cannot start the report: {exc.strerror or exc}; free space in the temporary "
            "folder (or set TMPDIR) and run again",
            code="RUN_FAILED",
        ) from None
    try:
        store_run = _open_store_run(options, plugins, config)
    except BaseException:
        report.cleanup()
        raise
    stop: dict[str, Any] = {"now": False, "signal": None}

    def on_signal(signum, frame):  # noqa: ARG001
        stop["now"] = True
        stop["signal"] = stop["signal"] or signum

    previous = _install_handlers(on_signal)
    bar = _progress_bar(options, progress)
    failure: CorpusError | None = None
    try:
        try:
            _consume(options, plugins, config, store_run, writer, stop, report, bar, on_result)
        except CorpusError as exc:
            failure = exc
        except OSError as exc:
            failure = CorpusError(
                f"the run stopped: {exc.strerror or exc}"
                + (f" ({exc.filename})" if exc.filename else "")
                + "; fix that and run again",
                code="RUN_FAILED",
            )
        except Exception as exc:
            failure = CorpusError(
                f"the run stopped on an internal error ({type(exc).__name__}: {exc}); this is a "
                "bug in corpus or a plugin: please report it",
                code="INTERNAL_ERROR",
            )
    except BaseException:  # KeyboardInterrupt outside the main thread, SystemExit...
        _restore_handlers(previous)
        if store_run is not None:
            store_run.fail()
            store_run.close()
        report.cleanup()
        raise
    _restore_handlers(previous)
    if bar is not None:
        bar.render_finish()
    if stop["now"]:
        report.interrupted = True
        report.signal = stop["signal"]
    if store_run is not None:
        report.pipeline = store_run.pipeline_summary()
        if failure is None:
            try:
                report.store_counts = store_run.finish(interrupted=report.interrupted)
            except CorpusError as exc:
                failure = exc
        if failure is not None:
            report.store_counts = store_run.fail()
        store_run.close()
    if writer is not None:
        report.stale_temps_removed = writer.stale_removed
    report.failure = failure
    report.close()
    _write_report(report, options)
    if failure is not None:
        report.cleanup()
        if report.written_to:
            failure.message += f" (the report of the run so far: {report.written_to})"
        raise failure
    return report


def _consume(
    options: IngestOptions,
    plugins: Plugins,
    config: Config,
    store_run: Any,
    writer: OutputWriter | None,
    stop: dict[str, Any],
    report: IngestReport,
    bar: Any,
    on_result: Callable[[FileResult], None] | None,
) -> None:
    """The three stages, one after the other: plan -> execute -> commit, until done or stopped.

    Each stage is an iterator over the one before it, and knows only that one: the plan
    yields work items, the executor turns them into results (staged outputs), the commit
    stage makes each result final in input order. Stopping closes the chain from the end.
    """
    planned = plan_inputs(
        PlanOptions(
            sources=options.sources,
            include=options.include,
            exclude=options.exclude,
            max_file_size=options.max_file_size,
            force=options.force,
            checksum=options.checksum,
            in_process=options.jobs <= 1 and options.executor == "local",
        ),
        plugins,
        store_run,
        writer,
        stop,
    )
    # The worker function, the pool's start method and the quarantine copy are looked up
    # here when the run starts, so a caller (a test) can replace them in this module.
    executed = execute_items(
        options,
        plugins,
        config,
        writer,
        planned,
        batch=_worker_batch,
        context=default_context,
        preparer=store_run.preparer() if store_run is not None else None,
    )
    with contextlib.closing(executed):  # on any exit, workers stop and stages go at once
        committed = commit_results(
            executed,
            writer=writer,
            store=store_run,
            report=report,
            quarantine=options.quarantine,
            copy=quarantine_file,
        )
        for item, result in committed:
            if on_result is not None:
                on_result(result)
            if bar is not None:
                if item.offset is not None:  # the total counted its archive once, not per record
                    bar.length += 1
                bar.update(1)
            if options.fail_fast and result.status == STATUS_REJECTED:
                break
            if stop["now"]:
                break


#: The signals that stop a run gracefully: Ctrl-C, and what service managers send.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _install_handlers(handler: Callable[..., None]) -> dict[int, Any]:
    previous: dict[int, Any] = {}
    for signum in STOP_SIGNALS:
        try:
            previous[signum] = signal.signal(signum, handler)
        except ValueError:  # not the main thread: no graceful interrupt
            break
    return previous


def _restore_handlers(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def _start_writer(writer: OutputWriter, options: IngestOptions) -> None:
    try:
        writer.start()
    except OSError as exc:
        raise OutputError(
            f"cannot create or write the output folder {options.output}: "
            f"{exc.strerror or exc}; choose an output folder you can write to",
            code="OUTPUT_UNWRITABLE",
        ) from None


def _report_target(options: IngestOptions) -> str | None:
    """Where the report goes: ``--report``, else ``OUT/report.json`` (kept from outputs)."""
    return options.report_path or (
        str(Path(options.output) / REPORT_NAME) if options.output else None
    )


def _write_report(report: IngestReport, options: IngestOptions) -> None:
    """Write the report where asked; if that fails, next to the store, else to stderr."""
    target = _report_target(options)
    if not target:
        return
    try:
        report.write(target)
        report.written_to = target
        return
    except OSError as exc:
        why = f"{exc.strerror or exc}"
    fallback = None
    if options.store:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(report.started))
        fallback = f"{os.path.abspath(options.store)}.report-{stamp}-{os.getpid()}.json"
        try:
            report.write(fallback)
        except OSError:
            fallback = None
    if fallback is None:
        report.write_stream(sys.stderr)
        fallback = "standard error"
    report.written_to = fallback
    report.write_problem = (
        f"REPORT_UNWRITABLE: cannot write the report to {target} ({why}); it was written to "
        f"{fallback} instead"
    )


def _open_store_run(options: IngestOptions, plugins: Plugins, config: Config) -> Any:
    if not options.store:
        return None
    from .fingerprint import pipeline_fingerprint
    from .store import Store

    pipeline = pipeline_fingerprint(plugins, config, options.formats)
    store = Store.open(options.store)
    try:
        run = store.begin_run(
            roots=[os.path.abspath(s) for s in options.sources],
            arguments=options.arguments,
            pipeline=pipeline,
        )
    except BaseException:
        store.close()
        raise
    run.tombstones = not (options.include or options.exclude)
    return _StoreRun(store, run)


class _StoreRun:
    """The store and its open run, closed together."""

    def __init__(self, store: Any, run: Any) -> None:
        self.store = store
        self.run = run

    def preparer(self) -> Any:
        """What pool workers prepare this store's versions with (``prepare(document)``)."""
        from .store import VersionPreparer

        return VersionPreparer(self.store.path)

    def known_unchanged(
        self, root: str, rel: str, digest: str, *, any_version: bool = False
    ) -> str | None:
        return self.run.known_unchanged(root, rel, digest, any_version=any_version)

    def unchanged_by_stat(
        self, root: str, files: list[tuple[str, tuple[int, int, int]]]
    ) -> dict[str, tuple[str, tuple[Finding, ...]]]:
        return self.run.unchanged_by_stat(root, files)

    def recorded(self, root: str, rels: list[str]) -> set[str]:
        return self.run.recorded(root, rels)

    def record_unchanged(
        self, root: str, rel: str, key: str, stat: tuple[int, int, int] | None
    ) -> None:
        self.run.record_unchanged(root, rel, key, stat=stat)

    def findings_of(self, key: str) -> list[Finding]:
        """Findings stored with the latest version, so a skipped file keeps its status."""
        return list(self.run.findings_of(key))

    def record(
        self,
        root: str,
        result: FileResult,
        *,
        any_version: bool = False,
        stat: tuple[int, int, int] | None = None,
    ) -> str:
        return self.run.record(root, result, any_version=any_version, stat=stat)

    def pipeline_summary(self) -> dict[str, Any]:
        """This run's pipeline fingerprint, and how many unchanged files it made run again."""
        previous = self.run.previous_pipeline()
        return {
            "fingerprint": self.run.pipeline,
            "changed": previous is not None and previous != self.run.pipeline,
            "reprocessed": self.run.pipeline_changed,
        }

    def finish(self, *, interrupted: bool) -> dict[str, int]:
        return self.run.finish(interrupted=interrupted)

    def fail(self) -> dict[str, int]:
        """Close the run as failed: no tombstones, the open batch undone."""
        return self.run.fail()

    def close(self) -> None:
        self.store.close()


def _progress_bar(options: IngestOptions, progress: bool | str) -> Any:
    """A bar on stderr (stdout stays for findings and data); ``progress`` may be its label."""
    if not progress:
        return None
    import sys

    import click

    label = progress if isinstance(progress, str) else "ingesting"
    total = sum(1 for _ in select_inputs(options.sources, options.include, options.exclude))
    bar = click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True)
    bar.__enter__()
    return bar

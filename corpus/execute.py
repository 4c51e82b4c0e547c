"""The execute stage of an ingest: work items in, results out, in input order.

It takes the plan stage's work items (:class:`~corpus.items.InputFile`, and inputs the plan
decided itself, which keep their place) and turns each item into a
:class:`~corpus.items.FileResult`: in this process (``--jobs 1``), on the local pool of
worker processes (``--jobs N``, :mod:`corpus.workers`), or in shards on an executor
(``--executor NAME``, :mod:`corpus.shards`). Each result's outputs are staged
(:mod:`corpus.staging`), never renamed into place: that, the report and the store are the
commit stage's (:mod:`corpus.commit`), which this stage knows nothing about.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from .config import Config
from .items import STATUS_REJECTED, FileResult, InputFile, Triple
from .model import Document
from .ordered import in_input_order
from .pipeline import lost_in_worker, prefetch, process_data, process_path
from .plugins import Plugins, PluginSpec
from .shards import run_shards
from .staging import OutputStager, discard_staged
from .workers import WorkerDied, WorkerError, WorkerPool, default_context

#: Files sent to a worker process at once: amortizes inter-process overhead.
BATCH_SIZE = 64
#: How much lower than the driver's a pool worker's scheduling priority is (``nice``): with
#: ``--jobs 2`` on 2 cores, 20,000 articles took 10.8 s at 0, 9.4 s at 5 and 9.2 s at 10.
WORKER_NICENESS = 5


class ExecuteOptions(Protocol):
    """What the execute stage reads of the run's options (an ``IngestOptions``)."""

    @property
    def output(self) -> str | None: ...
    @property
    def formats(self) -> tuple[str, ...]: ...
    @property
    def jobs(self) -> int: ...
    @property
    def executor(self) -> str: ...
    @property
    def fail_fast(self) -> bool: ...
    @property
    def plugin_timeout(self) -> float | None: ...
    @property
    def max_file_size(self) -> int: ...
    @property
    def store(self) -> str | None: ...


class VersionPreparer(Protocol):
    """What a pool worker hands a processed document to when there is a store: it returns
    the version as the store records it, sent back instead of the document (made by the
    composer: ``corpus.store.prepared.VersionPreparer``; the driver, which alone writes the
    store, then has less to do per document)."""

    def prepare(self, document: Document) -> Any: ...


_state: dict[str, Any] = {}


def worker_init(
    plugins: Plugins | PluginSpec,
    config: Config,
    options: ExecuteOptions,
    extensions: dict[str, str] | None,
    preparer: VersionPreparer | None = None,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with contextlib.suppress(OSError, AttributeError):
        # The driver alone commits outputs and writes the store: when cores are short, it is
        # the one that must not wait for a core (workers would only fill the window ahead).
        os.nice(WORKER_NICENESS)
    # Forked workers inherit the parent's loaded plugins (inline ones too); spawned ones load
    # the same set again from its picklable spec.
    _state["plugins"] = plugins if isinstance(plugins, Plugins) else Plugins(plugins)
    _state["config"] = config
    _state["options"] = options
    _state["stager"] = OutputStager(options.output, extensions) if extensions else None
    _state["preparer"] = preparer


def process_item(
    item: InputFile, plugins: Plugins, config: Config, options: ExecuteOptions
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
        return process_data(item.data, item.rel, reader=item.reader, **common)
    return process_path(item.path, item.rel, max_file_size=options.max_file_size, **common)


def worker_batch(items: list[InputFile]) -> list[FileResult]:
    options: ExecuteOptions = _state["options"]
    stager: OutputStager | None = _state["stager"]
    preparer: VersionPreparer | None = _state["preparer"]
    prefetch([item.path for item in items if item.data is None])
    results = []
    for item in items:
        result = process_item(item, _state["plugins"], _state["config"], options)
        if stager is not None:
            result = stager.stage(result)
        # Send key and hash back, not the document (cheaper), and what a store records of it.
        document = result.document
        if preparer is not None and document is not None and result.status != STATUS_REJECTED:
            result = result.slim(preparer.prepare(document))
        results.append(result.slim())
    return results


def execute_items(
    options: ExecuteOptions,
    plugins: Plugins,
    config: Config,
    stager: OutputStager | None,
    pending: Iterator[Any],
    *,
    batch: Callable[[list[InputFile]], list[FileResult]] = worker_batch,
    context: Callable[[], tuple[Any, bool]] = default_context,
    preparer: VersionPreparer | None = None,
) -> Iterator[Triple]:
    """``(input, result, decided)`` in input order for ``pending`` (work items, and decided
    triples that pass through), processed here or in worker processes.

    ``batch`` is what a pool worker runs on a batch (:func:`worker_batch`), ``context`` gives
    the pool's multiprocessing context and whether it forks (:func:`default_context`): the
    caller may choose others. ``preparer`` (with a store) prepares each version in the pool
    worker that made its document. Close the iterator to stop early: workers stop and unconsumed
    stages are removed.
    """
    if options.executor != "local":  # shards on another executor (corpus.executors)
        yield from run_shards(options, plugins, config, stager, pending)
        return
    if options.jobs <= 1:
        for item in pending:
            if isinstance(item, tuple):
                yield item
                continue
            result = process_item(item, plugins, config, options)
            yield item, stager.stage(result) if stager is not None else result, False
        return
    ctx, forked = context()
    initargs = (
        plugins if forked else plugins.spec,
        config,
        options,
        stager.extensions if stager else None,
        preparer,
    )
    with WorkerPool(ctx, options.jobs, batch, worker_init, initargs) as pool:

        def collect(items: list[InputFile], ticket: Any) -> list[FileResult]:
            try:
                return pool.result(ticket)
            except WorkerDied:
                if stager is not None:
                    stager.worker_died()
                return _one_by_one(pool, items)
            except WorkerError:  # a bug outside the per-file guard: find the file it hit
                return _one_by_one(pool, items)

        def stopped(tickets: list[Any]) -> None:
            # Stopped early (interrupt, fail-fast): let in-flight work finish, drop its stages.
            for ticket in tickets:
                with contextlib.suppress(WorkerDied):
                    for result in pool.result(ticket):
                        discard_staged(result)

        yield from in_input_order(
            pending,
            batch_size=BATCH_SIZE,
            submit=pool.submit,
            collect=collect,
            full=lambda _batches, length: length > options.jobs * 4,
            stopped=stopped,
        )
        pool.close()


def _one_by_one(pool: WorkerPool, items: list[InputFile]) -> list[FileResult]:
    """A batch whose worker died, again file by file: only the file that kills is lost.

    Files of the batch staged before the death left temporary files of a process that no
    longer runs; :meth:`OutputStager.worker_died` has them removed.
    """
    results = []
    for item in items:
        try:
            (result,) = pool.result(pool.submit([item]))
        except WorkerDied as died:
            result = lost_in_worker(item.rel, died.how, died=True)
        except WorkerError as error:
            result = lost_in_worker(item.rel, error, died=False)
        results.append(result)
    return results

"""Shards of input files: what a worker does with one, and how the driver feeds an executor.

See :mod:`corpus.executors` for the shape. This module holds the heavy side (the pipeline,
outputs), loaded only when an ingest runs on an executor.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from .config import Config
from .executors import SHARDS_PER_WORKER, ShardLost, ShardTask, get_executor
from .items import FileResult, InputFile
from .ordered import in_input_order
from .pipeline import lost_in_worker, prefetch, process_data, process_path
from .plugins import Plugins
from .staging import SHARDS_SUFFIX, TMP_PREFIX, OutputStager, remove_stale_stage_dirs

#: Files per shard: large enough that scheduling costs little next to the work (about a
#: second of it), small enough to spread a corpus over many workers and to lose little when
#: a worker dies.
SHARD_SIZE = 256
#: Seconds to wait for the stage folder to empty after cancelling shards on an interrupt.
CANCEL_GRACE = 30.0


# -- the worker side -----------------------------------------------------------------------

_worker_cache: dict[str, Any] = {}


def _plugins_for(task: ShardTask) -> tuple[Plugins, OutputStager | None]:
    """The worker's plugins and writer for this run, built once per worker process."""
    if _worker_cache.get("token") != task.token:
        _worker_cache.clear()
        _worker_cache["plugins"] = Plugins(task.spec)
        _worker_cache["writer"] = (
            OutputStager(task.output, task.extensions) if task.output and task.extensions else None
        )
        _worker_cache["token"] = task.token
    return _worker_cache["plugins"], _worker_cache["writer"]


def process_shard(task: ShardTask, items: list[InputFile]) -> list[FileResult]:
    """One shard through the pipeline: read, plugins, export, stage the outputs."""
    plugins, writer = _plugins_for(task)
    common = {
        "plugins": plugins,
        "config": task.config,
        "formats": task.formats,
        "fail_fast": task.fail_fast,
        "plugin_timeout": task.plugin_timeout,
    }
    prefetch([item.path for item in items if item.data is None])
    results = []
    for item in items:
        if item.data is not None:
            result = process_data(item.data, item.rel, reader=item.reader, **common)
        else:
            result = process_path(item.path, item.rel, max_file_size=task.max_file_size, **common)
        if writer is not None and task.stage_dir is not None:
            result = writer.stage(result, into=(task.stage_dir, stage_name(item)))
        results.append(result if task.keep_documents else result.slim())
    return results


def stage_name(item: InputFile) -> str:
    """The stage file stem of an input: fixed by its path, so a rerun overwrites its stages."""
    # Records of one archive share its path: their offset tells them apart.
    name = item.path if item.offset is None else f"{item.path}#{item.offset}"
    return hashlib.blake2b(name.encode("utf-8", "surrogateescape"), digest_size=12).hexdigest()


# -- the driver side -----------------------------------------------------------------------


def stage_dir_for(output: str) -> str:
    """This driver's stage folder in ``output`` (named by its process id, like temp files)."""
    return os.path.join(os.path.abspath(output), f"{TMP_PREFIX}{os.getpid()}{SHARDS_SUFFIX}")


def make_task(
    options: Any, plugins: Plugins, config: Config, writer: OutputStager | None
) -> ShardTask:
    """The picklable task of an ingest run (``options``: its :class:`IngestOptions`)."""
    return ShardTask(
        token=uuid.uuid4().hex,
        spec=plugins.spec,
        config=config,
        formats=tuple(options.formats),
        fail_fast=options.fail_fast,
        plugin_timeout=options.plugin_timeout,
        max_file_size=options.max_file_size,
        keep_documents=bool(options.store),
        output=writer.root if writer is not None else None,
        extensions=dict(writer.extensions) if writer is not None else {},
        stage_dir=stage_dir_for(writer.root) if writer is not None else None,
    )


def run_shards(
    options: Any,
    plugins: Plugins,
    config: Config,
    writer: OutputStager | None,
    pending: Iterator[Any],
) -> Iterator[tuple[InputFile, FileResult, bool]]:
    """(input, result, already recorded) in input order, processed in shards by the executor
    ``options.executor``. ``pending`` holds inputs to process, and (input, result, recorded)
    triples decided by the driver (skips, listing problems), which keep their place.

    A shard whose worker died is run again by the executor itself where it can (Dask does);
    if it still comes back lost, its files are run one at a time, and a file that is lost
    alone is rejected (``WORKER_DIED``, or ``INTERNAL_ERROR`` when it raised). The executor
    starts with the first shard: a re-ingest with nothing to read starts no cluster.
    """
    executor = get_executor(plugins, options.executor)
    task = make_task(options, plugins, config, writer)
    if task.stage_dir is not None:
        remove_stale_stage_dirs(task.output or "")
        os.makedirs(task.stage_dir, exist_ok=True)
    session = _LazySession(
        lambda: executor.start(task, workers=options.workers, scheduler=options.scheduler)
    )
    try:
        with session:
            yield from _drive(session, pending, task)
    finally:
        if task.stage_dir is not None:
            _remove_stage_dir(task.stage_dir)


class _LazySession:
    """An executor session started when the first shard is submitted."""

    def __init__(self, start: Callable[[], Any]) -> None:
        self._start = start
        self._session: Any = None

    @property
    def slots(self) -> int:
        return self._session.slots if self._session is not None else SHARDS_PER_WORKER

    def submit(self, task: ShardTask, shard: list[InputFile]) -> Any:
        if self._session is None:
            self._session = self._start().__enter__()
        return self._session.submit(task, shard)

    def result(self, handle: Any) -> list[FileResult]:
        return self._session.result(handle)

    def cancel(self, handles: list[Any]) -> None:
        self._session.cancel(handles)

    def __enter__(self) -> _LazySession:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._session is not None:
            self._session.__exit__(*exc)


def _drive(session: Any, pending: Iterator[Any], task: ShardTask) -> Iterator[Any]:
    def collect(items: list[InputFile], handle: Any) -> list[FileResult]:
        try:
            return session.result(handle)
        except ShardLost:
            return _one_by_one(session, task, items)

    # Stopped early (interrupt, fail-fast): cancel what is in flight; the stage folder,
    # removed by the caller, takes whatever the cancelled shards had staged.
    yield from in_input_order(
        pending,
        batch_size=SHARD_SIZE,
        submit=lambda shard: session.submit(task, shard),
        collect=collect,
        full=lambda shards, length: shards > session.slots or length > session.slots * SHARD_SIZE,
        stopped=session.cancel,
    )


def _one_by_one(session: Any, task: ShardTask, items: list[InputFile]) -> list[FileResult]:
    """A lost shard's files, one task at a time. One at a time, because a scheduler counts a
    worker's death against every task queued on that worker too (Dask does): an innocent file
    queued beside the killing one could be given up on with it."""
    results = []
    for item in items:
        try:
            try:
                (result,) = session.result(session.submit(task, [item]))
            except ShardLost as lost:
                if not lost.died:
                    raise
                # A worker can also die of something else (another task, memory pressure):
                # the file is blamed only when it is lost a second time, alone.
                (result,) = session.result(session.submit(task, [item]))
        except ShardLost as lost:
            result = lost_in_worker(item.rel, lost, died=lost.died)
        results.append(result)
    return results


def _remove_stage_dir(path: str) -> None:
    """Remove the stage folder; a cancelled shard still writing may refill it for a moment."""
    deadline = time.monotonic() + CANCEL_GRACE
    while os.path.exists(path):
        try:
            shutil.rmtree(path)
        except OSError:
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)


# -- the local executor's pool ------------------------------------------------------------


def _local_init() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver decides when to stop


def _local_shard(batch: tuple[Any, list[Any]]) -> list[Any]:
    task, shard = batch
    return task.run(shard)


class LocalSession:
    def __init__(self, workers: int) -> None:
        from .workers import WorkerPool, default_context

        ctx, _ = default_context()
        self.slots = workers * SHARDS_PER_WORKER
        self._pool = WorkerPool(ctx, workers, _local_shard, _local_init, ())

    def submit(self, task: Any, shard: list[Any]) -> Any:
        return self._pool.submit((task, shard))

    def result(self, handle: Any) -> list[FileResult]:
        from .workers import WorkerDied, WorkerError

        try:
            return self._pool.result(handle)
        except WorkerDied as died:
            raise ShardLost(died.how, died=True) from None
        except WorkerError as error:
            raise ShardLost(str(error), died=False) from None

    def cancel(self, handles: list[Any]) -> None:
        for handle in handles:
            with contextlib.suppress(Exception):
                self._pool.result(handle)  # a pipe pool cannot recall a batch: let it end

    def __enter__(self) -> LocalSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.terminate()

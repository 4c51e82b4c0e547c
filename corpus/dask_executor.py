"""The ``dask`` executor: ingest shards on Dask distributed (``pip install 'newscorpus[dask]'``).

Without ``--scheduler`` it starts a LocalCluster of ``--workers`` processes (one thread each)
on 127.0.0.1 for the run; with ``--scheduler tcp://HOST:8786`` it uses a running cluster,
whose workers must see the sources and the output folder at the same paths (a shared file
system) and have the same plugins installed. See docs/scaling.md.

A worker killed mid-shard is the scheduler's to handle: it runs the shard again on another
worker, up to ``distributed.scheduler.allowed-failures`` times (1 on the clusters started
here, so a file that kills is found after two deaths, as with the local pool); after that the
driver runs the shard's files one by one and rejects the one that still kills
(``WORKER_DIED``). This module imports Dask only when the executor starts: every ``corpus``
command loads every plugin.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from .errors import ConfigError
from .executors import SHARDS_PER_WORKER, Executor, ShardLost, ShardTask
from .hookspecs import hookimpl

#: Seconds to wait for a scheduler, and for a new LocalCluster's workers.
CONNECT_TIMEOUT = 60


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise ConfigError(
            f"--executor dask needs Dask distributed ({exc}); install it with "
            "pip install 'newscorpus[dask]'"
        ) from None
    return distributed


def run_task(task: Any, shard: list[Any]) -> list[Any]:
    """What a Dask worker runs: the task's own ``run`` on one shard."""
    return task.run(shard)


class DaskExecutor(Executor):
    """Shards as Dask tasks, on a LocalCluster or on the cluster at ``--scheduler``."""

    name = "dask"
    description = "Dask distributed: a LocalCluster, or the cluster at --scheduler"

    def start(self, task: ShardTask, *, workers: int | None, scheduler: str | None) -> Any:
        return DaskSession(workers=workers, scheduler=scheduler)


class DaskSession:
    """A Dask client (and the LocalCluster it started, if any) for one run."""

    def __init__(self, *, workers: int | None, scheduler: str | None) -> None:
        distributed = _import_distributed()
        import dask

        self._killed_worker = distributed.KilledWorker
        self.cluster = None
        if scheduler:
            try:
                self.client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT)
            except (OSError, TimeoutError) as exc:
                raise ConfigError(
                    f"cannot reach the Dask scheduler at {scheduler}: {exc}"
                ) from None
        else:
            import os

            with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
                self.cluster = distributed.LocalCluster(
                    n_workers=workers or os.cpu_count() or 1,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address="127.0.0.1:0",  # loopback, a free port: never 8787
                    silence_logs=50,  # a killed worker is ours to report; closing is quiet
                )
                self.client = distributed.Client(self.cluster, timeout=CONNECT_TIMEOUT)
        n = len(self.client.scheduler_info().get("workers", {})) or (workers or 1)
        self.slots = n * SHARDS_PER_WORKER

    def submit(self, task: ShardTask, shard: list[Any]) -> Any:
        return self.client.submit(run_task, task, shard, pure=False)

    def result(self, future: Any) -> list[Any]:
        try:
            return future.result()
        except self._killed_worker as exc:
            raise ShardLost(f"Dask worker killed: {exc}", died=True) from None
        except Exception as exc:
            raise ShardLost(f"{type(exc).__name__}: {exc}", died=False) from None

    def cancel(self, futures: list[Any]) -> None:
        with contextlib.suppress(Exception):
            self.client.cancel(futures)

    def __enter__(self) -> DaskSession:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()


@hookimpl
def register_executors(register: Callable[[Any], None]) -> None:
    register(DaskExecutor())

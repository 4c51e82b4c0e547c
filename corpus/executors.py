"""Where an ingest's per-file work runs: executors, and the driver that feeds them shards.

The driver (the process running ``corpus ingest``) lists inputs and checks the store; an
executor processes *shards* (a few hundred files each) somewhere else and sends back slim
results; the driver alone renames outputs into place, writes the report and the store, in
input order, so any executor gives the same output tree and report as ``--jobs 1``.

Executors come from the ``register_executors`` hook: ``local`` (a pool of processes on this
machine) is built in, ``dask`` (:mod:`corpus.dask_executor`) runs shards on Dask distributed,
and a plugin can add another (Ray, a batch system). An executor only moves shards; what a
worker does with one is :func:`corpus.shards.process_shard`, the same everywhere.

Workers get a :class:`ShardTask`, which is picklable: they build their own plugin manager from
its plugin spec (entry points and ``--plugin`` modules) and settings, nothing is shipped but
names and values. They stage outputs as ``OUT/.corpus-tmp-<driver pid>-shards/<digest>-<fmt>``,
a name fixed by the input path, so a shard run again after its worker died overwrites what the
first attempt left (staging is idempotent); the stage folder is inside the output folder, so
renames into place are atomic on a shared file system too.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from .config import Config
from .errors import ConfigError
from .hookspecs import hookimpl
from .plugins import PluginSpec

if TYPE_CHECKING:  # pragma: no cover
    from .plugins import Plugins

#: Shards in flight per worker: one running, one waiting, so no worker idles between shards.
SHARDS_PER_WORKER = 2


class ShardLost(Exception):
    """A shard came back without results: its worker died (``died``), or it raised."""

    def __init__(self, message: str, *, died: bool) -> None:
        super().__init__(message)
        self.died = died


@attrs.frozen
class ShardTask:
    """Everything a worker needs to process shards of one run; picklable."""

    token: str
    spec: PluginSpec
    config: Config
    formats: tuple[str, ...]
    fail_fast: bool
    plugin_timeout: float | None
    max_file_size: int | None
    #: Send whole documents back (the driver records them in the store), or slim results.
    keep_documents: bool
    output: str | None = None
    extensions: dict[str, str] = attrs.field(factory=dict)
    stage_dir: str | None = None

    def run(self, items: list[Any]) -> list[Any]:
        """Process one shard (on a worker): what every executor's session calls."""
        from .shards import process_shard  # the pipeline loads on the worker, when used

        return process_shard(self, items)


class Executor:
    """Base of executors. ``start`` returns a session: a context manager with ``slots``
    (shards to keep in flight), ``submit(task, shard)`` (runs ``task.run(shard)`` somewhere
    and returns a handle), ``result(handle)`` (its list of results, or :class:`ShardLost`)
    and ``cancel(handles)``. Tasks are picklable objects with a ``run`` method: ingest's
    :class:`ShardTask`, or the tasks of ``corpus diff`` over two folders."""

    name: str = ""
    description: str = ""

    def start(self, task: ShardTask, *, workers: int | None, scheduler: str | None) -> Any:
        raise NotImplementedError


def get_executor(plugins: Plugins, name: str) -> Executor:
    executors = plugins.executors
    if name not in executors:
        known = ", ".join(sorted(executors)) or "none"
        raise ConfigError(f"unknown executor {name!r}; known: {known}")
    return executors[name]


# -- built-in executors --------------------------------------------------------------------


class LocalExecutor(Executor):
    """Shards on a pool of worker processes on this machine (``--workers``, default: cores)."""

    name = "local"
    description = "worker processes on this machine"

    def start(self, task: ShardTask, *, workers: int | None, scheduler: str | None) -> Any:
        if scheduler:
            raise ConfigError("--scheduler is for --executor dask; the local executor has none")
        from .shards import LocalSession  # the pool and the pipeline load when used

        return LocalSession(workers or os.cpu_count() or 1)


@hookimpl
def register_executors(register: Callable[[Any], None]) -> None:
    register(LocalExecutor())

"""``corpus diff DIR_A DIR_B --executor dask``: the corpus diff with its heavy parts on workers.

The same result as :func:`corpus.diff.corpus_diff.diff_corpora` run in one process, reached
the way ingest reaches its executors: the driver lists both folders; workers read the files
in shards and send back only each file's key and content hash; the driver pairs keys, and
workers diff the changed pairs in shards, reading both sides themselves. Only documents left
unpaired (candidates for renames, usually few) are read by the driver. Tasks carry the plugin
spec, not plugins: each worker builds its own.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from typing import Any

import attrs

from ..errors import CorpusError
from ..executors import get_executor
from ..model import Document
from ..plugins import Plugins, PluginSpec
from .corpus_diff import (
    CHANGED,
    UNCHANGED,
    CorpusDiff,
    CorpusEntry,
    ReadError,
    duplicate_key,
    finish_corpus_diff,
    list_files,
)
from .engine import diff_documents
from .filter import without_cosmetic
from .model import DocumentDiff

#: Files per read shard, and document pairs per diff shard.
READ_SHARD = 256
DIFF_SHARD = 64

_plugins_cache: dict[PluginSpec, Plugins] = {}


def _plugins(spec: PluginSpec) -> Plugins:
    """The worker's plugins for ``spec``, built once per worker process."""
    if spec not in _plugins_cache:
        _plugins_cache.clear()
        _plugins_cache[spec] = Plugins(spec)
    return _plugins_cache[spec]


def _read(path: str, root: str, plugins: Plugins) -> Document:
    from ..pipeline import read_path

    return read_path(path, root=root, plugins=plugins).document


@attrs.frozen
class ReadTask:
    """Read a shard of (relative path, path) under ``root``: key and hash, or the error."""

    spec: PluginSpec
    root: str

    def run(self, items: list[tuple[str, str]]) -> list[tuple[str, str, str] | ReadError]:
        plugins = _plugins(self.spec)
        out: list[tuple[str, str, str] | ReadError] = []
        for rel, path in items:
            try:
                document = _read(path, self.root, plugins)
            except CorpusError as exc:
                out.append(ReadError(exc.path or rel, exc.code, exc.message, exc.line))
                continue
            out.append((rel, document.key, document.content_hash))
        return out


@attrs.frozen
class DiffTask:
    """Diff a shard of (old path, new path) pairs, read under the two roots."""

    spec: PluginSpec
    old_root: str
    new_root: str
    ignore_cosmetic: bool
    options: dict[str, Any] = attrs.field(factory=dict)

    def run(self, items: list[tuple[str, str]]) -> list[DocumentDiff]:
        plugins = _plugins(self.spec)
        out = []
        for old_path, new_path in items:
            a = _read(old_path, self.old_root, plugins)
            b = _read(new_path, self.new_root, plugins)
            d = diff_documents(a, b, **self.options)
            out.append(without_cosmetic(d) if self.ignore_cosmetic else d)
        return out


def _map(session: Any, task: Any, items: list[Any], size: int) -> Iterator[Any]:
    """``task.run`` over ``items`` in shards on ``session``, results in order. A shard that
    comes back lost is run here instead (the diff has no report to reject a file in)."""
    from ..executors import ShardLost

    shards = iter([items[i : i + size] for i in range(0, len(items), size)])
    window: deque[tuple[list[Any], Any]] = deque()
    for shard in shards:
        window.append((shard, session.submit(task, shard)))
        if len(window) > session.slots:
            yield from _take(session, task, window.popleft(), ShardLost)
    while window:
        yield from _take(session, task, window.popleft(), ShardLost)


def _take(session: Any, task: Any, entry: tuple[list[Any], Any], lost: type) -> list[Any]:
    shard, handle = entry
    try:
        return session.result(handle)
    except lost:
        return task.run(shard)


def diff_corpora_sharded(
    old_root: str | os.PathLike[str],
    new_root: str | os.PathLike[str],
    *,
    plugins: Plugins,
    rename_threshold: float,
    ignore_cosmetic: bool,
    executor: str,
    scheduler: str | None,
    workers: int | None,
    options: dict[str, Any],
) -> CorpusDiff:
    """:func:`diff_corpora` with reading and diffing done in shards on ``executor``."""
    chosen = get_executor(plugins, executor)
    old_abs, new_abs = os.path.abspath(old_root), os.path.abspath(new_root)
    old_files = [(rel, str(path)) for rel, path in list_files(old_abs, plugins)]
    new_files = [(rel, str(path)) for rel, path in list_files(new_abs, plugins)]
    with chosen.start(None, workers=workers, scheduler=scheduler) as session:
        errors: list[ReadError] = []
        old_info = _keys(session, ReadTask(plugins.spec, old_abs), old_files, errors)
        new_info = _keys(session, ReadTask(plugins.spec, new_abs), new_files, errors)
        both = sorted(old_info.keys() & new_info.keys())
        pairs = [k for k in both if old_info[k][1] != new_info[k][1]]
        task = DiffTask(plugins.spec, old_abs, new_abs, ignore_cosmetic, dict(options))
        work = [(old_info[k][2], new_info[k][2]) for k in pairs]
        diffs = dict(zip(pairs, _map(session, task, work, DIFF_SHARD), strict=True))
    entries: list[CorpusEntry] = []
    for key in both:
        (pa, _, _), (pb, _, _) = old_info[key], new_info[key]
        d = diffs.get(key)
        if d is None:
            entries.append(CorpusEntry(UNCHANGED, key, key, pa, pb))
        else:
            status = UNCHANGED if d.is_empty else CHANGED
            entries.append(CorpusEntry(status, key, key, pa, pb, diff=d))
    removed = {
        k: (rel, _read(path, old_abs, plugins))
        for k, (rel, _, path) in old_info.items()
        if k not in new_info
    }
    added = {
        k: (rel, _read(path, new_abs, plugins))
        for k, (rel, _, path) in new_info.items()
        if k not in old_info
    }

    def diff(a: Document, b: Document) -> DocumentDiff:
        d = diff_documents(a, b, **options)
        return without_cosmetic(d) if ignore_cosmetic else d

    return finish_corpus_diff(
        old_root, new_root, entries, removed, added, diff, rename_threshold, errors
    )


def _keys(
    session: Any, task: ReadTask, files: list[tuple[str, str]], errors: list[ReadError]
) -> dict[str, tuple[str, str, str]]:
    """key -> (relative path, content hash, path), with errors as the serial read gives them."""
    info: dict[str, tuple[str, str, str]] = {}
    paths = dict(files)
    for found in _map(session, task, files, READ_SHARD):
        if isinstance(found, ReadError):
            errors.append(found)
            continue
        rel, key, content_hash = found
        if key in info:
            errors.append(duplicate_key(rel, key, info[key][0]))
            continue
        info[key] = (rel, content_hash, paths[rel])
    return info

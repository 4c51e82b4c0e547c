"""The hooks a corpus plugin can implement. This module is the contract; docs/hooks.md mirrors it.

A plugin is any module or object with functions named like the specs below, decorated with
``corpus.hookimpl``. Built-in readers, exporters and validators are plugins of exactly this kind
(see ``corpus.plugins.DEFAULT_PLUGINS``); third-party ones arrive through the ``corpus``
entry-point group, ``--plugin MODULE`` or the ``CORPUS_PLUGINS`` environment variable.

An implementation may accept any subset of a spec's arguments, by name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable, Iterable

    import click

    from .config import Config
    from .model import Document, Finding

hookspec = pluggy.HookspecMarker("corpus")
hookimpl = pluggy.HookimplMarker("corpus")


@hookspec
def register_readers(register: Callable[[Any], None]) -> None:
    """Register input formats: call ``register(reader)`` with a :class:`corpus.formats.Reader`.

    :param register: adds one reader; a name registered twice is a clear error naming both
        plugins.

    Readers are chosen by file extension, then by :meth:`Reader.sniff` when several claim one.
    """


@hookspec
def register_exporters(register: Callable[[Any], None]) -> None:
    """Register output formats: call ``register(exporter)`` with a :class:`corpus.formats.Exporter`.

    :param register: adds one exporter; names must be unique across plugins.
    """


@hookspec
def register_diff_formats(register: Callable[[Any], None]) -> None:
    """Register renderers for ``corpus diff --format NAME``.

    :param register: adds one object with ``name`` and ``render(diff, options) -> str``.
    """


@hookspec
def register_executors(register: Callable[[Any], None]) -> None:
    """Register places where ``corpus ingest --executor NAME`` runs its shards of files.

    :param register: adds one :class:`corpus.executors.Executor`: a ``name``, a
        ``description`` and ``start(task, workers=, scheduler=)`` returning a session (a
        context manager with ``submit(task, shard)``, ``result(handle)``, ``cancel(handles)``
        and ``slots``). Names must be unique across plugins.

    ``local`` and ``dask`` are built in. The session only moves shards: a worker runs
    ``task.run(shard)`` on each (``task`` is picklable), and the driver commits the results.
    """


@hookspec
def register_settings(register: Callable[..., None]) -> None:
    """Declare this plugin's settings so they are checked before any file is read.

    :param register: ``register(table, {key: type or corpus.settings.Setting})``; ``table`` is
        the name under ``[plugins.TABLE]``.

    An unknown key, or a value of the wrong type, is then ``CONFIG_ERROR`` naming the file and
    line (exit 2), instead of a failure on every document.
    """


@hookspec(firstresult=True)
def document_key(document: Document, path: str) -> str | None:
    """Return the stable identity of a document, or None to leave the default.

    :param document: the document as read (its ``key`` holds the default).
    :param path: the source path relative to the ingest root, with ``/`` separators.

    ``firstresult``: the first plugin to return a string wins. Keys decide version tracking and
    output paths, so they must be stable across runs and must not contain ``..`` segments.
    """


@hookspec
def enrich(document: Document, config: Config) -> Document | dict[str, Any] | None:
    """Add information to a document.

    :param document: the document so far (each enricher sees the previous one's result).
    :param config: run settings; ``config.plugin_settings(NAME)`` is this plugin's table.
    :return: a new Document (made with ``attrs.evolve``), or a JSON-safe dict that is stored as
        ``document.annotations[<plugin name>]``, or None for nothing to add.

    Documents are frozen: return a new one, never mutate. Order with ``tryfirst``/``trylast``.
    """


@hookspec
def validate(document: Document, config: Config) -> Iterable[Finding] | None:
    """Check a document and return findings (:class:`corpus.model.Finding`).

    :param document: the enriched document.
    :param config: run settings.
    :return: findings, or None. A finding of severity ``error`` rejects the document: it is
        reported but not exported. Use codes prefixed with your plugin name.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add sub-commands to the ``corpus`` command line: ``@cli.command()`` on your functions.

    :param cli: the top-level click group.
    """

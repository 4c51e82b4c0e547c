"""The store's commands: ``runs``, ``ls``, ``show``, ``log``, ``search``, ``export``, ``stats``.

A built-in plugin (``store`` in ``DEFAULT_PLUGINS``), registered like any third-party one. The
commands only parse options, call :mod:`corpus.store`, and render; ``corpus ingest --store``
and ``corpus diff`` use the same library API.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..cliutil import EXIT_FINDINGS, EXIT_OK, echo_json, fail, get_state, json_option
from ..errors import CorpusError
from ..hookspecs import hookimpl

if TYPE_CHECKING:  # pragma: no cover
    from ..model import Document
    from .records import RunInfo
    from .store import Store

# Every ``corpus`` command loads this plugin to learn its commands, so the store itself
# (sqlite3, the records, the exporters) is imported inside the command that needs it.

F = TypeVar("F", bound=Callable[..., Any])


def store_option(func: F) -> F:
    """``--store PATH``: default ``$CORPUS_STORE`` or ``./corpus.db``."""
    return click.option(
        "--store",
        "store_path",
        metavar="PATH",
        default=None,
        help="The store file (default: $CORPUS_STORE, else ./corpus.db).",
    )(func)


@contextlib.contextmanager
def open_store(store_path: str | None) -> Iterator[Store]:
    """An existing store for a command's ``with`` block, closed after it.

    A missing or bad store, and a coded error met inside the block (a damaged page found
    while listing, say), exit 2 with the message: never a traceback.
    """
    from .store import Store, default_store_path

    try:
        store = Store.open(store_path or default_store_path(), create=False)
    except CorpusError as exc:
        fail(exc)
        raise  # unreachable: fail() exits
    try:
        with store:
            yield store
    except CorpusError as exc:
        fail(exc)


def _stream_json(items: Iterable[dict[str, Any]]) -> None:
    """Print a JSON array one item at a time, so memory stays flat for a large store."""
    first = True
    for item in items:
        click.echo("[\n  " if first else ",\n  ", nl=False)
        click.echo(json.dumps(item, ensure_ascii=False), nl=False)
        first = False
    click.echo("[]" if first else "\n]")


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{counts.get(k, 0)} {k}" for k in counts)


def _run_line(run: RunInfo) -> str:
    from .timeutil import short

    roots = " ".join(run.roots) or "-"
    return (
        f"run {run.id:<4} {short(run.started)}  {run.status:<11} {_counts_text(run.counts)}"
        f"  [{roots}]"
    )


class _Limit(click.IntRange):
    """A row limit of 1 or more; SQLite takes 64-bit integers, so a larger one means no limit."""

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        return super().convert(min(click.INT.convert(value, param, ctx), 2**63 - 1), param, ctx)


LIMIT = _Limit(min=1)


#: ``corpus ls``: rows its key column is sized on, and the widest that column gets.
_LS_ALIGN_ROWS = 200
_LS_KEY_MOST = 60


@hookimpl
def register_commands(cli: click.Group) -> None:
    @cli.command()
    @store_option
    @json_option()
    @click.option("-n", "--limit", type=LIMIT, help="Show only the newest N.")
    def runs(store_path: str | None, as_json: bool, limit: int | None) -> None:
        """List ingest runs, newest first: start, end, status, counts, roots."""
        with open_store(store_path) as store:
            rows = store.runs(limit=limit)
        if as_json:
            echo_json([r.to_dict() for r in rows])
            return
        for run in rows:
            click.echo(_run_line(run))

    @cli.command(name="ls")
    @store_option
    @json_option()
    @click.option("--since", metavar="DATE", help="Only documents changed at or after DATE.")
    @click.option("-n", "--limit", type=click.IntRange(min=1), help="Show only the first N.")
    def ls_command(
        store_path: str | None, as_json: bool, since: str | None, limit: int | None
    ) -> None:
        """List documents (by key) with their latest version and state (present or removed)."""
        import itertools

        from .timeutil import parse_user_time, short

        try:
            stamp = parse_user_time(since) if since else None
        except CorpusError as exc:
            fail(exc)
        with open_store(store_path) as store:
            docs = itertools.islice(store.documents(since=stamp), limit)
            if as_json:
                _stream_json(d.to_dict() for d in docs)
                return
            # Columns are aligned to the widest key of the first rows (the list streams: a
            # million documents are never held), a longer key later pushes its title along.
            first = list(itertools.islice(docs, _LS_ALIGN_ROWS))
            if not first:
                return
            width = min(max(max(len(d.key) for d in first), 3), _LS_KEY_MOST)
            click.echo(f"{'STATE':<8} {'VER':<4} {'UPDATED':<20}  {'KEY':<{width}}  TITLE")
            for d in itertools.chain(first, docs):
                click.echo(
                    f"{d.state:<8} v{d.latest:<3} {short(d.updated)}  {d.key:<{width}}  {d.title}"
                )

    @cli.command()
    @store_option
    @click.argument("spec", metavar="KEY[@N]")
    @click.option(
        "-f",
        "--format",
        "-t",
        "--to",
        "fmt",
        default="text",
        show_default=True,
        metavar="FORMAT",
        help="text, json, nitf or any exporter (see `corpus formats`).",
    )
    @json_option("Same as --format json.")
    def show(store_path: str | None, spec: str, fmt: str, as_json: bool) -> None:
        """Print a document: its latest version, or version N with KEY@N."""
        from .render import render

        if as_json:
            fmt = "json"

        plugins = get_state().plugins
        with open_store(store_path) as store:
            try:
                data = render(store.load(spec).document, fmt, plugins)
            except CorpusError as exc:
                fail(exc)
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()

    @cli.command()
    @store_option
    @json_option()
    @click.argument("key")
    def log(store_path: str | None, as_json: bool, key: str) -> None:
        """List the versions of KEY: time, size and what changed from the one before."""
        from .timeutil import short

        with open_store(store_path) as store:
            try:
                info = store.document(key)
                events = _log_events(store, key)
            except CorpusError as exc:
                fail(exc)
        if as_json:
            echo_json({"key": key, "state": info.state, "events": events})
            return
        for event in events:
            if event["event"] == "removed":
                click.echo(
                    f"     {short(event['time'])}  run {event['run']:<4} removed "
                    f"(missing from the run)"
                )
            else:
                click.echo(
                    f"v{event['version']:<3} {short(event['time'])}  run {event['run']:<4} "
                    f"{event['size']:>9,} B  {event['summary']}"
                )

    @cli.command()
    @store_option
    @json_option()
    @click.argument("query")
    @click.option(
        "-n",
        "--limit",
        type=LIMIT,
        default=20,
        show_default=True,
        help="At most this many results.",
    )
    def search(store_path: str | None, as_json: bool, query: str, limit: int) -> None:
        """Full-text search over titles and bodies (SQLite FTS5 syntax), best match first.

        Matches are marked [like this] in the snippets. Examples: `duma`, `"state duma"`,
        `russia AND ukraine`, `invas*`, `title:duma`.
        """
        with open_store(store_path) as store:
            try:
                hits = store.search(query, limit=limit)
            except CorpusError as exc:
                fail(exc)
        if as_json:
            echo_json([h.to_dict() for h in hits])
            return
        if not hits:
            click.echo(f"no documents match {query!r}", err=True)
        for hit in hits:
            state = "" if hit.state == "present" else f" [{hit.state}]"
            click.echo(f"{hit.key}@{hit.version}{state}  {hit.title}")
            click.echo(f"    {' '.join(hit.snippet.split())}")

    @cli.command(name="export")
    @store_option
    @click.option(
        "-f",
        "--format",
        "-t",
        "--to",
        "fmt",
        required=True,
        metavar="FORMAT",
        help="Exporter name, or parquet for one Parquet file of every document.",
    )
    @click.option(
        "-o",
        "--output",
        required=True,
        type=click.Path(),
        help="Output folder (a file with --to parquet).",
    )
    @click.option(
        "--as-of",
        metavar="TIME",
        help="The corpus as it was then (a date means the end of that day, UTC).",
    )
    @click.option(
        "--all-versions",
        is_flag=True,
        help="With --to parquet: every version, not only each document's latest.",
    )
    @click.option("-q", "--quiet", is_flag=True, help="No summary line.")
    @json_option("Print the summary (written, failures) as JSON.")
    def export_command(
        store_path: str | None,
        fmt: str,
        output: str,
        as_of: str | None,
        all_versions: bool,
        quiet: bool,
        as_json: bool,
    ) -> None:
        """Write every present document from the store with exporter FORMAT into a folder.

        --to parquet writes one Parquet file instead: a row per document version (the latest
        of each present document, or every version with --all-versions), for pandas, DuckDB
        or Hugging Face datasets. No source files are needed. Exit 1 when some document could
        not be exported.
        """
        from .export import export_store
        from .timeutil import parse_user_time, short

        if fmt == "parquet":
            _export_parquet(store_path, output, as_of, all_versions, quiet, as_json)
            return
        if all_versions:
            raise click.UsageError("--all-versions is for --to parquet")
        plugins = get_state().plugins
        with open_store(store_path) as store:
            try:
                stamp = parse_user_time(as_of, end_of_day=True) if as_of else None
                summary = export_store(store, fmt, output, plugins=plugins, as_of=stamp)
            except CorpusError as exc:
                fail(exc)
        if as_json:
            echo_json(
                {
                    "output": output,
                    "format": fmt,
                    "as_of": stamp,
                    "written": summary.written,
                    "failures": [f.to_dict() for f in summary.failures],
                }
            )
            sys.exit(EXIT_FINDINGS if summary.failures else EXIT_OK)
        for finding in summary.failures:
            click.echo(str(finding), err=True)
        if not quiet:
            when = f" as of {short(stamp)}" if stamp else ""
            failed = f", {len(summary.failures)} failed" if summary.failures else ""
            click.echo(f"exported {summary.written} documents{when} to {output}{failed}")
        sys.exit(EXIT_FINDINGS if summary.failures else EXIT_OK)

    @cli.group(name="store")
    def store_group() -> None:
        """Look after the store file itself (see `corpus store check`)."""

    @store_group.command(name="check")
    @store_option
    @json_option()
    def store_check(store_path: str | None, as_json: bool) -> None:
        """Check the store for damage and name the documents it touches.

        Runs SQLite's integrity check and reads every stored version back. Exit 0 when the
        store is intact, 1 when something is damaged (restore from a backup or re-ingest).
        """
        from .store import Store, default_store_path

        try:
            store = Store.open(store_path or default_store_path(), create=False, check_tables=False)
        except CorpusError as exc:
            fail(exc)
            return
        with store:
            result = store.check()
        if as_json:
            echo_json(result.to_dict())
        else:
            _print_check(result)
        sys.exit(EXIT_OK if result.ok else EXIT_FINDINGS)

    @cli.command()
    @store_option
    @json_option()
    def stats(store_path: str | None, as_json: bool) -> None:
        """Documents, versions, runs and sizes of the store."""
        from .records import RunInfo
        from .timeutil import short

        with open_store(store_path) as store:
            data = store.stats()
        if as_json:
            echo_json(data)
            return
        last = data["last_run"]
        lines = [
            (
                "store",
                f"{data['store']} (schema {data['schema_version']}, {data['store_bytes']:,} bytes)",
            ),
            (
                "documents",
                f"{data['documents']} ({data['present']} present, {data['removed']} removed)",
            ),
            (
                "versions",
                f"{data['versions']} ({data['documents_with_history']} documents with "
                "more than one)",
            ),
            ("runs", str(data["runs"])),
            ("last run", _run_line(RunInfo(**_run_args(last))) if last else "-"),
            ("first run", short(data["first_run_at"])),
            ("last run at", short(data["last_run_at"])),
        ]
        for name, value in lines:
            click.echo(f"{name + ':':<15}{value}")


def _export_parquet(
    store_path: str | None,
    output: str,
    as_of: str | None,
    all_versions: bool,
    quiet: bool,
    as_json: bool = False,
) -> None:
    from .parquet import write_parquet
    from .timeutil import parse_user_time, short

    with open_store(store_path) as store:
        try:
            stamp = parse_user_time(as_of, end_of_day=True) if as_of else None
            versions = store.all_versions(stamp) if all_versions else store.as_of(stamp)
            rows = write_parquet(versions, output)
        except CorpusError as exc:
            fail(exc)
    if as_json:
        echo_json(
            {
                "output": output,
                "format": "parquet",
                "as_of": stamp,
                "all_versions": all_versions,
                "written": rows,
                "failures": [],
            }
        )
        return
    if not quiet:
        when = f" as of {short(stamp)}" if stamp else ""
        what = "versions" if all_versions else "documents"
        click.echo(f"exported {rows} {what}{when} to {output}")


def _run_args(data: dict[str, Any]) -> dict[str, Any]:
    return {
        k: data[k] for k in ("id", "started", "finished", "status", "roots", "arguments", "counts")
    }


def _log_events(store: Store, key: str) -> list[dict[str, Any]]:
    """Versions and removals of ``key`` in time order, each version with its change summary.

    The summaries stored at ingest are used as they are; only a version stored without one
    (before schema version 4, or when the diff engine failed) loads the diff engine and the two
    documents, so ``corpus log`` costs about what ``show`` does.
    """
    events: list[dict[str, Any]] = []
    previous: int | None = None
    loaded: dict[int, Document] = {}  # a run of versions without summaries parses each once

    def document(n: int) -> Document:
        if n not in loaded:
            loaded.clear()
            loaded[n] = store.version(key, n).document
        return loaded[n]

    for info in store.versions(key):
        if previous is None:
            summary = "first version"
        elif info.summary is not None:
            summary = info.summary
        else:
            from .summary import summarize_change

            old = document(previous)
            summary = summarize_change(old, document(info.n))
        events.append(
            {
                "event": "version",
                "version": info.n,
                "time": info.created,
                "run": info.run_id,
                "size": info.size,
                "content_hash": info.content_hash,
                "findings": len(info.findings),
                "summary": summary,
            }
        )
        previous = info.n
    for removal in store.removals(key):
        events.append(
            {
                "event": "removed",
                "after_version": removal.after,
                "time": removal.removed_at,
                "run": removal.run_id,
            }
        )
    events.sort(key=lambda e: (e["time"], e["event"] == "removed"))
    return events


def _print_check(result: Any) -> None:
    if result.ok:
        click.echo(f"{result.store}: ok ({result.documents_checked} documents read back)")
        return
    click.echo(f"{result.store}: DAMAGED")
    if result.integrity != ("ok",):
        click.echo("SQLite integrity check:")
        for line in result.integrity:
            click.echo(f"    {line}")
    for table in result.missing_tables:
        click.echo(f"missing table: {table}")
    if result.damaged:
        keys = sorted({d.key for d in result.damaged})
        click.echo(f"{len(keys)} documents affected (of {result.documents_checked} read):")
        for damage in result.damaged:
            where = f"{damage.key}@{damage.version}" if damage.version else damage.key
            click.echo(f"    {where}: {damage.problem}")
    click.echo(
        "Restore the store from a backup, or re-ingest the affected sources into a new store "
        "(`corpus ingest SOURCES --store NEW.db`)."
    )

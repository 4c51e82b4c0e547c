"""The ``corpus`` command line: a thin shell over the library API.

Commands parse options, call :mod:`corpus.ingest`, :mod:`corpus.pipeline` and friends, and render
the results. Plugins add commands through the ``register_commands`` hook; ``--plugin`` and
``--disable-plugin`` are read before the command line is parsed so their commands exist.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from . import __version__
from .cliutil import (
    EXIT_FINDINGS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    AppState,
    echo_json,
    executor_options,
    fail,
    fail_on_option,
    get_state,
    jobs_option,
    json_option,
    show_progress,
)
from .config import load_config
from .errors import CorpusError
from .model import Severity
from .plugins import Plugins, PluginSpec


def selection_options(func):
    """``--include`` / ``--exclude GLOB``: which files under the sources are inputs."""
    func = click.option(
        "--exclude",
        multiple=True,
        metavar="GLOB",
        help="Leave out files matching GLOB (repeatable), e.g. 'README*' or 'drafts/*'.",
    )(func)
    return click.option(
        "--include",
        multiple=True,
        metavar="GLOB",
        help="Take only files matching GLOB (repeatable), e.g. '*.xml'.",
    )(func)


def findings_format_option(func):
    """``--findings-format``: findings for people or for CI systems."""
    return click.option(
        "--findings-format",
        type=click.Choice(["text", "json", "github", "sarif"]),
        default="text",
        show_default=True,
        help="How findings are printed: text, JSON Lines, GitHub annotations or SARIF 2.1.0.",
    )(func)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="corpus", package_name="newscorpus")
@click.option(
    "--plugin",
    "plugin_modules",
    multiple=True,
    metavar="MODULE",
    help="Load an extra plugin module (repeatable; also CORPUS_PLUGINS=a,b).",
)
@click.option(
    "--disable-plugin",
    "disabled",
    multiple=True,
    metavar="NAME",
    help="Do not load the plugin NAME (repeatable; also CORPUS_DISABLE_PLUGINS).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Settings file (default: ./corpus.toml, or [tool.corpus] in ./pyproject.toml).",
)
@click.pass_context
def cli(
    ctx: click.Context,
    plugin_modules: tuple[str, ...],
    disabled: tuple[str, ...],
    config_path: str | None,
) -> None:
    """Ingest, validate, convert and diff news articles.

    Each input file becomes one canonical document; exporters write NITF 3.6 and JSON.
    Run `corpus COMMAND --help` for each command.
    """
    if isinstance(ctx.obj, AppState):
        return  # main() already loaded plugins and settings
    try:
        plugins = Plugins(PluginSpec.from_env(plugin_modules, disabled))
        ctx.obj = AppState(plugins, load_config(config_path))
    except CorpusError as exc:
        fail(exc)


@cli.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False),
    help="Output folder; the input tree is mirrored under it.",
)
@click.option(
    "-f",
    "--format",
    "-t",
    "--to",
    "formats",
    multiple=True,
    metavar="NAME",
    help="Output format (repeatable; default: nitf and json). See `corpus formats`.",
)
@jobs_option
@executor_options
@fail_on_option
@selection_options
@findings_format_option
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False),
    help="Write the JSON report here (default: OUTPUT/report.json with -o).",
)
@click.option(
    "--max-file-size",
    type=click.IntRange(min=1),
    default=None,
    help="Reject inputs larger than this many bytes (default 50 MiB).",
)
@click.option("--fail-fast", is_flag=True, help="Stop at the first rejected file or plugin error.")
@click.option(
    "--plugin-timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Give up on a plugin call after this long (reported as PLUGIN_TIMEOUT).",
)
@click.option(
    "--store",
    "store_path",
    type=click.Path(dir_okay=False),
    envvar="CORPUS_STORE",
    default="corpus.db",
    show_default=True,
    help="Record this run and every new version in this SQLite store (env CORPUS_STORE).",
)
@click.option("--no-store", is_flag=True, help="Do not record anything in a store.")
@click.option(
    "--force", is_flag=True, help="Re-read and re-export files the store says are unchanged."
)
@click.option(
    "--checksum",
    is_flag=True,
    help="Hash every file to find unchanged ones, even when its size and modification time "
    "are those the store recorded (which otherwise mark it unchanged without reading it).",
)
@click.option(
    "--quarantine",
    type=click.Path(file_okay=False),
    help="Copy rejected files here, each with a .rejected.json sidecar saying why.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary line.")
@json_option("Print the report as JSON on stdout.")
def ingest(
    sources: tuple[str, ...],
    output: str | None,
    formats: tuple[str, ...],
    jobs: int,
    executor: str,
    scheduler: str | None,
    workers: int | None,
    fail_on: str,
    report_path: str | None,
    max_file_size: int | None,
    fail_fast: bool,
    plugin_timeout: float | None,
    store_path: str,
    no_store: bool,
    force: bool,
    checksum: bool,
    quarantine: str | None,
    quiet: bool,
    as_json: bool,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    findings_format: str,
) -> None:
    """Read every article under SOURCES; export each one to OUTPUT.

    Prints a one-line summary; every input file is in the report as ok, warning or
    rejected. Exit 1 if any finding reaches --fail-on.
    """
    from .ingest import IngestOptions

    state = get_state()
    options = IngestOptions(
        sources=tuple(sources),
        output=output,
        formats=tuple(formats) if formats else (("nitf", "json") if output else ()),
        jobs=jobs,
        executor=executor,
        scheduler=scheduler,
        workers=workers,
        report_path=report_path,
        fail_fast=fail_fast,
        plugin_timeout=plugin_timeout,
        store=None if no_store else store_path,
        force=force,
        checksum=checksum,
        quarantine=quarantine,
        arguments=tuple(sys.argv[1:]),
        include=include,
        exclude=exclude,
        **({"max_file_size": max_file_size} if max_file_size else {}),
    )
    _run_and_exit(
        state,
        options,
        fail_on=fail_on,
        quiet=quiet,
        as_json=as_json,
        findings_format=findings_format,
    )


@cli.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, allow_dash=True))
@fail_on_option
@jobs_option
@selection_options
@findings_format_option
@click.option("--from", "reader", metavar="READER", help="Input format of - (standard input).")
@click.option("-q", "--quiet", is_flag=True, help="Print only findings, no summary line.")
@json_option("Print the report as JSON.")
def validate(
    sources: tuple[str, ...],
    fail_on: str,
    jobs: int,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    findings_format: str,
    reader: str | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Read and check SOURCES without writing anything; print every finding.

    SOURCES are files and folders; - reads one document from standard input.
    """
    from .ingest import IngestOptions

    state = get_state()
    if "-" in sources:
        if len(sources) > 1:
            fail("- (standard input) cannot be mixed with other SOURCES")
        _validate_stdin(state, reader, fail_on, quiet, as_json, findings_format)
        return
    options = IngestOptions(
        sources=tuple(sources),
        output=None,
        formats=(),
        jobs=jobs,
        include=include,
        exclude=exclude,
    )
    _run_and_exit(
        state,
        options,
        fail_on=fail_on,
        quiet=quiet,
        as_json=as_json,
        findings_format=findings_format,
        list_all=True,
    )


def _stdin_name(data: bytes) -> str:
    """A name for standard input whose extension picks a reader: HTML, XML, JSON or an article."""
    from .readers.html import sniff_html

    if sniff_html(data[:1024]):
        return "stdin.html"
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return "stdin" + {b"<": ".xml", b"{": ".json"}.get(head, ".txt")


def _validate_stdin(
    state: AppState,
    reader: str | None,
    fail_on: str,
    quiet: bool,
    as_json: bool,
    findings_format: str,
) -> None:
    from .findings_output import STDIN_NAME, FindingsPrinter
    from .pipeline import process_data

    try:
        state.plugins.check_settings(state.config)
    except CorpusError as exc:
        fail(exc)
    data = sys.stdin.buffer.read()
    result = process_data(
        data, _stdin_name(data), plugins=state.plugins, config=state.config, reader=reader
    )
    if as_json:  # the shape of the ingest report, for one file
        codes: dict[str, int] = {}
        for finding in result.findings:
            codes[finding.code] = codes.get(finding.code, 0) + 1
        totals = {"files": 1, "ok": 0, "warning": 0, "rejected": 0, "outputs": 0}
        totals[result.status] += 1
        echo_json(
            {
                "run": {"sources": ["-"], "output": None, "formats": []},
                "files": [{**result.to_report(), "path": STDIN_NAME}],
                "totals": {**totals, "codes": dict(sorted(codes.items()))},
            }
        )
    else:
        printer = FindingsPrinter(findings_format, sources=(), stream=sys.stdout)
        printer.emit(result.findings, path=STDIN_NAME)
        printer.close()
        if not quiet:
            click.echo(f"{STDIN_NAME}: {result.status}", err=findings_format != "text")
    worst = max((f.severity.rank for f in result.findings), default=-1)
    failed = fail_on != "never" and worst >= Severity(fail_on).rank
    sys.exit(EXIT_FINDINGS if failed else EXIT_OK)


def _run_and_exit(
    state: AppState,
    options,
    *,
    fail_on: str,
    quiet: bool,
    as_json: bool,
    findings_format: str = "text",
    list_all: bool = False,
) -> None:
    """Run an ingest, print findings as they come and the summary, exit by ``--fail-on``.

    Findings name files as the user can open them. ``validate`` prints every finding on
    stdout; ``ingest`` prints warnings and errors on stderr; machine formats
    (``--findings-format``) go to stdout with the summary line on stderr. The progress bar is
    on stderr and its line is cleared before each finding.
    """
    from .findings_output import FindingsPrinter
    from .ingest import run_ingest

    machine = findings_format != "text"
    progress = show_progress(quiet or as_json)
    printer = None
    if not as_json:
        printer = FindingsPrinter(
            findings_format,
            sources=options.sources,
            stream=sys.stdout if (list_all or machine) else sys.stderr,
            min_rank=0 if list_all else 1,
            clear_line=sys.stderr if progress else None,
        )

    def on_result(result) -> None:
        printer.emit(result.findings)

    try:
        report = run_ingest(
            options,
            plugins=state.plugins,
            config=state.config,
            progress=("validating" if list_all else "ingesting") if progress else False,
            on_result=None if printer is None else on_result,
        )
    except CorpusError as exc:
        fail(exc)
        return
    if report.write_problem:
        click.echo(f"corpus: warning: {report.write_problem}", err=True)
    try:
        if printer is not None:
            printer.close()
        if as_json:
            echo_json(report.to_dict())
        elif not quiet:
            click.echo(report.summary_line(), err=machine)
    finally:
        report.cleanup()
    if report.interrupted:  # 130 after Ctrl-C, 143 after SIGTERM: 128 + the signal
        sys.exit(128 + report.signal if report.signal else EXIT_INTERRUPTED)
    sys.exit(EXIT_FINDINGS if report.fails(fail_on) else EXIT_OK)


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option(
    "-f",
    "--format",
    "-t",
    "--to",
    "fmt",
    default="json",
    show_default=True,
    metavar="FORMAT",
    help="Output format (see `corpus formats`).",
)
@click.option("--from", "reader", metavar="READER", help="Input format (default: by extension).")
@click.option(
    "-o",
    "--output",
    default="-",
    show_default=True,
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Write here (atomically) instead of standard output.",
)
def convert(file: str, fmt: str, reader: str | None, output: str) -> None:
    """Convert one FILE (- for standard input) to another format. Findings go to stderr."""
    from .findings_output import STDIN_NAME, FindingsPrinter
    from .pipeline import process_data, process_path

    state = get_state()
    if fmt not in state.plugins.exporters:
        fail(f"unknown format {fmt!r}; known: {', '.join(state.plugins.exporters.names())}")
    try:
        state.plugins.check_settings(state.config)
    except CorpusError as exc:
        fail(exc)
    common = {"plugins": state.plugins, "config": state.config, "formats": (fmt,)}
    if file == "-":
        data = sys.stdin.buffer.read()
        result = process_data(data, _stdin_name(data), reader=reader, **common)
        shown = STDIN_NAME
    else:
        result = process_path(file, Path(file).name, reader=reader, **common)
        shown = file
    printer = FindingsPrinter("text", sources=(), stream=sys.stderr)
    printer.emit(result.findings, path=shown)
    if fmt not in result.outputs:
        sys.exit(EXIT_FINDINGS)
    if output == "-":
        sys.stdout.buffer.write(result.outputs[fmt])
        sys.stdout.buffer.flush()
        return
    from .outputs import write_atomic

    try:
        write_atomic(Path(output), result.outputs[fmt])
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")


@cli.command(name="plugins")
@json_option()
def plugins_command(as_json: bool) -> None:
    """List plugins: name, version, origin, enabled, and the hooks each implements."""
    rows = get_state().plugins.describe()
    if as_json:
        echo_json([row.to_dict() for row in rows])
        return
    for row in rows:
        state = "enabled" if row.enabled else "disabled"
        version = row.version or "-"
        click.echo(f"{row.name} {version} ({row.origin}, {state})")
        click.echo(f"    hooks: {', '.join(row.hooks) or '-'}")


@cli.command()
@json_option()
def formats(as_json: bool) -> None:
    """List readers and exporters with their names, extensions and media types."""
    plugins = get_state().plugins
    data = {"readers": plugins.readers.describe(), "exporters": plugins.exporters.describe()}
    if as_json:
        echo_json(data)
        return
    click.echo("Readers:")
    for r in data["readers"]:
        exts = " ".join(r["extensions"])
        click.echo(f"  {r['name']:<12} {exts:<16} {r['media_type']:<28} {r['description']}")
    click.echo("Exporters:")
    for e in data["exporters"]:
        click.echo(
            f"  {e['name']:<12} {e['extension']:<16} {e['media_type']:<28} {e['description']}"
        )


def _preparse(argv: Sequence[str]) -> tuple[list[str], list[str], str | None]:
    """Find --plugin/--disable-plugin/--config before click parses (plugins add commands)."""
    modules: list[str] = []
    disabled: list[str] = []
    config: str | None = None
    it = iter(argv)
    for arg in it:
        for flag, sink in (("--plugin", modules), ("--disable-plugin", disabled)):
            if arg == flag:
                value = next(it, None)
                if value is not None:
                    sink.append(value)
            elif arg.startswith(flag + "="):
                sink.append(arg.split("=", 1)[1])
        if arg == "--config":
            config = next(it, None)
        elif arg.startswith("--config="):
            config = arg.split("=", 1)[1]
        if not arg.startswith("-"):
            break  # the sub-command: global options end here
    return modules, disabled, config


def build_state(argv: Sequence[str]) -> AppState:
    modules, disabled, config_path = _preparse(argv)
    plugins = Plugins(PluginSpec.from_env(modules, disabled))
    return AppState(plugins, load_config(config_path))


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        state = build_state(args)
        state.plugins.register_commands(cli)
    except CorpusError as exc:
        fail(exc)
        return
    try:
        cli.main(args=args, prog_name="corpus", obj=state, standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover - interactive
        click.echo("corpus: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)


__all__ = ["EXIT_FINDINGS", "EXIT_OK", "EXIT_USAGE", "cli", "main"]

"""The ``corpus diff`` command: two files, two folders, or versions from the store.

Exit status as diff(1): 0 no differences, 1 differences, 2 trouble.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..cliutil import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    echo_json,
    executor_options,
    fail,
    get_state,
    json_option,
)
from ..errors import ConfigError, CorpusError, StoreError


def _use_color(choice: bool | None) -> bool:
    if choice is not None:
        return choice
    if os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def _store_functions(name: str):
    """A function of the version store, or a clear error when the store is not there."""
    try:
        import corpus.store as store

        return getattr(store, name)
    except (ImportError, AttributeError):
        raise StoreError(
            f"the version store is not available (corpus.store.{name} is missing), so "
            "arguments that are not files or folders cannot be looked up as KEY or KEY@N"
        ) from None


def _read_file(path: str, plugins):
    from ..pipeline import read_path

    return read_path(path, root=Path(path).parent, plugins=plugins).document


def _load(spec: str, store: str | None, plugins):
    if os.path.exists(spec) and not os.path.isdir(spec):  # a FIFO too: refused, not a key
        return _read_file(spec, plugins)
    if _looks_like_a_file(spec):
        # a.txt, ./a, dir/b.xml: the user meant a file; "no document in the store" would
        # send them looking in the wrong place.
        from ..errors import NotFound

        what = "folder" if spec.endswith(("/", os.sep)) else "file"
        raise NotFound(f"the {what} does not exist", code="FILE_NOT_FOUND", path=spec)
    return _store_functions("load_version")(spec, store)


def _looks_like_a_file(spec: str) -> bool:
    """A path with a file extension, starting ./ ../ / ~ or ending /: not a store KEY[@N]."""
    if spec.startswith(("./", "../", "/", "~", ".\\")) or os.sep != "/" and os.sep in spec:
        return True
    if spec.endswith("/"):
        return True
    name = spec.rsplit("/", 1)[-1]
    if "@" in name:
        return False
    stem, dot, extension = name.rpartition(".")
    return bool(dot and stem and extension.isalnum() and not extension.isdigit())


@click.command("diff")
@click.argument("old")
@click.argument("new", required=False)
@click.option(
    "-f",
    "--format",
    "fmt",
    default="text",
    show_default=True,
    metavar="NAME",
    help="Output format: text, json, html, or one a plugin adds.",
)
@json_option("Same as --format json.")
@click.option(
    "--ignore",
    type=click.Choice(["cosmetic"]),
    multiple=True,
    help="Hide cosmetic changes (white space, punctuation, case, quote style).",
)
@click.option("--stat", is_flag=True, help="Only the summary figures.")
@click.option(
    "-C",
    "--context",
    type=click.IntRange(min=0),
    default=None,
    help="Unchanged paragraphs shown around each change [text: 1; html: all].",
)
@click.option(
    "--color/--no-color",
    default=None,
    help="Colour the text format [default: on a terminal, unless NO_COLOR is set].",
)
@click.option(
    "--whole-below",
    type=click.FloatRange(0.0, 1.0),
    default=0.3,
    show_default=True,
    help="Show an edited sentence as replaced whole when less similar than this.",
)
@click.option(
    "--store",
    "store_path",
    envvar="CORPUS_STORE",
    default=None,
    metavar="PATH",
    help="Version store for KEY and KEY@N arguments [env CORPUS_STORE, else ./corpus.db].",
)
@click.option("-v", "--verbose", is_flag=True, help="Folders: list unchanged documents too.")
@executor_options
def diff_command(
    old: str,
    new: str | None,
    fmt: str,
    as_json: bool,
    ignore: tuple[str, ...],
    stat: bool,
    context: int | None,
    color: bool | None,
    whole_below: float,
    store_path: str | None,
    verbose: bool,
    executor: str,
    scheduler: str | None,
    workers: int | None,
) -> None:
    """Show how an article changed: OLD and NEW files, folders, or KEY@N versions.

    \b
      corpus diff old.txt new.txt          two files, any readable format
      corpus diff KEY@1 KEY@3              two versions from the store
      corpus diff KEY                      its last two versions
      corpus diff snapshot-a/ snapshot-b/  two corpus folders

    Exit status: 0 no differences, 1 differences, 2 trouble.
    """
    from .render import RenderOptions

    state = get_state()
    if as_json:
        fmt = "json"
    try:
        formats = state.plugins.diff_formats
        if new is not None and os.path.isdir(old) and os.path.isdir(new):
            where = {"executor": executor, "scheduler": scheduler, "workers": workers}
            _diff_folders(old, new, fmt, ignore, whole_below, verbose, state.plugins, where)
            return
        if os.path.isdir(old) or (new is not None and os.path.isdir(new)):
            raise ConfigError("compare a folder with a folder, or a file with a file")
        if fmt not in formats:
            known = ", ".join(sorted(formats))
            raise ConfigError(f"unknown diff format {fmt!r} (known: {known})")
        if new is None:
            if os.path.exists(old):
                raise ConfigError("give two files to compare (one alone is read as a store KEY)")
            a, b = _store_functions("load_last_two")(old, store_path)
            old_label, new_label = f"{old} (previous)", f"{old} (latest)"
        else:
            a = _load(old, store_path, state.plugins)
            b = _load(new, store_path, state.plugins)
            old_label, new_label = old, new
        result = _compute(a, b, ignore, whole_below)
        options = RenderOptions(
            color=_use_color(color) and fmt == "text",
            context=context if context is not None else (None if fmt == "html" else 1),
            stat=stat,
            old_label=old_label,
            new_label=new_label,
        )
        text = formats[fmt].render(result, options)
    except CorpusError as exc:
        fail(exc)
        return
    click.echo(text, nl=False, color=options.color)
    sys.exit(EXIT_OK if result.is_empty else EXIT_FINDINGS)


def _compute(a, b, ignore: tuple[str, ...], whole_below: float):
    from . import diff_documents, without_cosmetic

    result = diff_documents(a, b, whole_below=whole_below, hashes=True)
    if "cosmetic" in ignore:
        result = without_cosmetic(result)
    return result


def _diff_folders(old, new, fmt, ignore, whole_below, verbose, plugins, where) -> None:
    from .corpus_diff import diff_corpora, render_corpus_text

    if fmt not in ("text", "json"):
        raise ConfigError(f"folders can be compared as text or json, not {fmt!r}")
    result = diff_corpora(
        old,
        new,
        plugins=plugins,
        ignore_cosmetic="cosmetic" in ignore,
        whole_below=whole_below,
        **where,
    )
    if fmt == "json":
        echo_json(result.to_dict())
    else:
        click.echo(render_corpus_text(result, verbose=verbose), nl=False)
    if result.errors:
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_OK if result.is_empty else EXIT_FINDINGS)

"""Shared pieces for command-line commands, built-in or from plugins.

Commands get the run's loaded plugins and settings from :func:`get_state`, print machine output
with :func:`echo_json`, and exit with the codes below, so every command behaves alike.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import attrs
import click

from .config import Config
from .errors import CorpusError
from .plugins import Plugins

EXIT_OK = 0
#: Findings at or above ``--fail-on``, or (for ``diff``) differences found.
EXIT_FINDINGS = 1
#: Usage error or trouble (click uses 2 for usage errors too).
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

F = TypeVar("F", bound=Callable[..., Any])

#: The levels ``--fail-on`` takes.
FAIL_ON = click.Choice(["error", "warning", "never"])


def json_option(help: str = "Machine-readable output.") -> Callable[[F], F]:
    """``--json`` (as ``as_json``): every command that prints offers the same switch."""
    return click.option("--json", "as_json", is_flag=True, help=help)


def fail_on_option(func: F) -> F:
    """``--fail-on error|warning|never``: the exit-1 threshold of commands that report findings."""
    return click.option(
        "--fail-on",
        type=FAIL_ON,
        default="error",
        show_default=True,
        help="Exit 1 when any finding is at or above this severity.",
    )(func)


def executor_options(func: F) -> F:
    """``--executor NAME``, ``--scheduler ADDRESS``, ``--workers N``: where shards of files run."""
    func = click.option(
        "--workers",
        type=click.IntRange(min=1),
        default=None,
        help="Worker processes of a Dask LocalCluster (default: cores).",
    )(func)
    func = click.option(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="Use the running Dask cluster at this address (tcp://HOST:8786).",
    )(func)
    return click.option(
        "--executor",
        metavar="NAME",
        default="local",
        show_default=True,
        help="Where files are processed: local (the --jobs pool), dask, or a plugin's.",
    )(func)


def jobs_option(func: F) -> F:
    """``-j/--jobs N``: worker processes for commands that read many files."""
    return click.option(
        "-j",
        "--jobs",
        type=click.IntRange(min=1),
        default=1,
        show_default=True,
        help="Worker processes.",
    )(func)


@attrs.define
class AppState:
    """What the top-level ``corpus`` group hands its sub-commands."""

    plugins: Plugins
    config: Config


def get_state(ctx: click.Context | None = None) -> AppState:
    """The :class:`AppState` of the running command line."""
    ctx = ctx or click.get_current_context()
    obj = ctx.find_root().obj
    if not isinstance(obj, AppState):  # invoked without the top-level group (tests)
        from .config import load_config
        from .plugins import get_plugins

        obj = AppState(get_plugins(), load_config())
        ctx.find_root().obj = obj
    return obj


def echo_json(data: Any) -> None:
    """Print JSON for machines: UTF-8, indented, one document."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def fail(error: CorpusError | str, code: int = EXIT_USAGE) -> None:
    """Print a one-line error to stderr and exit; never a traceback for a user's mistake."""
    click.echo(f"corpus: error: {error}", err=True)
    sys.exit(code)


def show_progress(quiet: bool) -> bool:
    """A progress bar only on an interactive terminal and when not ``--quiet``."""
    return not quiet and sys.stderr.isatty()

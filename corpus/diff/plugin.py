"""The built-in ``diff`` plugin: the ``corpus diff`` command and the text/json/html formats.

Imports stay inside the hooks, so loading the plugin at start-up costs nothing until the
command runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from ..hookspecs import hookimpl


@hookimpl
def register_commands(cli: click.Group) -> None:
    from .command import diff_command

    cli.add_command(diff_command)


@hookimpl
def register_diff_formats(register: Callable[[Any], None]) -> None:
    from .render_html import HtmlFormat
    from .render_json import JsonFormat
    from .render_text import TextFormat

    register(TextFormat())
    register(JsonFormat())
    register(HtmlFormat())

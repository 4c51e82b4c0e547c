"""Checking settings before any file is read: unknown tables and keys, values of the wrong type.

Plugins declare their settings with the ``register_settings`` hook: a table name and, for
each key, a :class:`Setting` (or just a type). :func:`check_settings` compares the loaded
:class:`~corpus.config.Config` with the declarations and raises
:class:`~corpus.errors.ConfigError` (``CONFIG_ERROR``) naming the file, the line, the key and
the type expected; a table or key that is not declared gets a "did you mean" when one is close.
A plugin that declares nothing keeps its table unchecked (older plugins still work).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from .config import Config
from .errors import ConfigError

_TYPE_NAMES = {
    bool: "a boolean (true or false)",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "a list",
    dict: "a table",
}


@attrs.frozen
class Setting:
    """One declared setting: its type(s), and optionally the values or range it accepts."""

    type: type | tuple[type, ...]
    choices: tuple[Any, ...] | None = attrs.field(
        default=None, converter=attrs.converters.optional(tuple)
    )
    minimum: float | None = None
    help: str = ""
    #: A further check of a value of the right type (a table's own keys, say): None when it
    #: is good, else ``(sub_table, key, problem)``: where under the setting the problem is
    #: (for the error's line) and what it is.
    check: Callable[[Any], tuple[tuple[str, ...], str | None, str] | None] | None = None

    @property
    def types(self) -> tuple[type, ...]:
        return self.type if isinstance(self.type, tuple) else (self.type,)

    def expected(self) -> str:
        names = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in self.types)
        if self.choices is not None:
            names += " (one of " + ", ".join(repr(c) for c in self.choices) + ")"
        elif self.minimum is not None:
            names += f" (at least {self.minimum:g})"
        return names

    def accepts(self, value: Any) -> bool:
        ok = False
        for kind in self.types:
            if kind is bool:
                ok = ok or isinstance(value, bool)
            elif kind is float:
                ok = ok or (isinstance(value, (int, float)) and not isinstance(value, bool))
            elif kind is int:
                ok = ok or (isinstance(value, int) and not isinstance(value, bool))
            else:
                ok = ok or isinstance(value, kind)
        if not ok:
            return False
        if self.choices is not None and value not in self.choices:
            return False
        return not (
            self.minimum is not None
            and isinstance(value, (int, float))
            and not isinstance(value, bool)
            and value < self.minimum
        )


def _setting(value: Setting | type | tuple[type, ...]) -> Setting:
    return value if isinstance(value, Setting) else Setting(value)


class SettingsRegistry:
    """Declared settings, by table name (filled by the ``register_settings`` hook)."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, Setting]] = {}
        self.owners: dict[str, str] = {}

    def register_from(self, plugin_name: str) -> Callable[..., None]:
        def register(table: str, settings: Mapping[str, Setting | type | tuple]) -> None:
            if not isinstance(table, str) or not table:
                raise ConfigError(f"{plugin_name} declared settings without a table name")
            if table in self.tables:
                raise ConfigError(
                    f"settings table [plugins.{table}] is declared twice: by "
                    f"{self.owners[table]} and by {plugin_name}"
                )
            self.tables[table] = {key: _setting(value) for key, value in settings.items()}
            self.owners[table] = plugin_name

        return register


def _suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _header(line: str) -> list[str] | None:
    stripped = line.strip()
    if not stripped.startswith("[") or stripped.startswith("[["):
        return None
    inner = stripped[1 : stripped.find("]")] if "]" in stripped else stripped[1:]
    return [part.strip().strip("\"'") for part in inner.split(".")]


def locate(text: str, table: list[str], key: str | None = None) -> int | None:
    """The 1-based line of ``[table]`` (or of ``key`` in it) in TOML ``text``, best effort."""
    current: list[str] | None = None
    header_line = None
    key_re = re.compile(rf"""\s*["']?{re.escape(key)}["']?\s*=""") if key else None
    for number, line in enumerate(text.splitlines(), 1):
        parsed = _header(line)
        if parsed is not None:
            current = parsed
            if parsed == table and header_line is None:
                header_line = number
            continue
        if key_re is not None and current == table and key_re.match(line):
            return number
    return header_line


def check_settings(config: Config, registry: SettingsRegistry, plugin_names: Iterable[str]) -> None:
    """Raise :class:`ConfigError` for the first unknown table or key, or badly typed value.

    ``plugin_names`` are every plugin known (disabled ones too): a table named after one is
    not unknown, even when that plugin declares no settings.
    """
    if not config.plugins:
        return
    source = config.source
    text = ""
    if source:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError:
            text = ""
    prefix = ["tool", "corpus"] if source and Path(source).name == "pyproject.toml" else []
    header = "tool.corpus.plugins" if prefix else "plugins"
    known_tables = set(registry.tables) | set(plugin_names)

    def error(message: str, table: str, key: str | None = None) -> ConfigError:
        line = locate(text, [*prefix, "plugins", table], key) if text else None
        return ConfigError(message, path=source, line=line)

    for table, values in config.plugins.items():
        if table not in known_tables:
            raise error(
                f"unknown settings table [{header}.{table}]: no plugin of that name is "
                f"installed{_suggest(table, known_tables)}",
                table,
            )
        declared = registry.tables.get(table)
        if declared is None:
            continue
        for key, value in values.items():
            setting = declared.get(key)
            if setting is None:
                known = ", ".join(sorted(declared)) or "none"
                raise error(
                    f"[{header}.{table}] has no setting {key!r}{_suggest(key, declared)} "
                    f"(known: {known})",
                    table,
                    key,
                )
            if not setting.accepts(value):
                raise error(
                    f"[{header}.{table}] {key} must be {setting.expected()}, not {value!r}",
                    table,
                    key,
                )
            problem = setting.check(value) if setting.check is not None else None
            if problem is not None:
                sub, sub_key, message = problem
                where = [*prefix, "plugins", table, key, *(p for s in sub for p in s.split("."))]
                line = locate(text, where, sub_key) if text else None
                name = ".".join([header, table, key, *(f'"{s}"' for s in sub)])
                raise ConfigError(f"[{name}] {message}", path=source, line=line)

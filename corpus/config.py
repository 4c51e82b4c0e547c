"""Run settings and per-plugin settings from ``corpus.toml`` or ``[tool.corpus]``.

One immutable object is handed to every hook that needs settings, so a plugin reads its own
table with ``config.plugin_settings("my-plugin")`` instead of parsing files itself.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from .errors import ConfigError

CONFIG_FILE = "corpus.toml"


@attrs.frozen
class Config:
    """Settings for one run. ``plugins`` maps a plugin name to its settings table."""

    plugins: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    source: str | None = None
    today: str | None = None

    def plugin_settings(self, name: str) -> dict[str, Any]:
        """The settings table of plugin ``name`` (empty when none was given)."""
        return dict(self.plugins.get(name, {}))


def _plugins_table(data: Mapping[str, Any], where: str) -> dict[str, dict[str, Any]]:
    table = data.get("plugins", {})
    if not isinstance(table, Mapping):
        raise ConfigError("[plugins] must be a table of tables", path=where)
    out: dict[str, dict[str, Any]] = {}
    for name, settings in table.items():
        if not isinstance(settings, Mapping):
            raise ConfigError(f"[plugins.{name}] must be a table", path=where)
        out[name] = dict(settings)
    return out


#: Top-level tables a settings file may have (``[tool.corpus]`` holds the same).
KNOWN_TABLES = frozenset({"plugins"})


def _check_top_level(data: Mapping[str, Any], candidate: Path) -> None:
    """An unknown top-level table or key (a typo such as ``[plugin.x]``) is CONFIG_ERROR."""
    for name in data:
        if name in KNOWN_TABLES:
            continue
        import difflib

        from .settings import locate

        close = difflib.get_close_matches(name, sorted(KNOWN_TABLES), n=1, cutoff=0.6)
        hint = f"; did you mean [{close[0]}]?" if close else ""
        pyproject = candidate.name == "pyproject.toml"
        where = "tool.corpus." if pyproject else ""
        prefix = ["tool", "corpus"] if pyproject else []
        try:
            text = candidate.read_text(encoding="utf-8")
        except OSError:
            text = ""
        line = None
        for i, row in enumerate(text.splitlines(), 1):
            if row.strip().startswith(("[" + where + name, name)):
                line = i
                break
        line = line or locate(text, [*prefix, name])
        raise ConfigError(
            f"unknown settings table [{where}{name}]{hint} (known: "
            f"{', '.join(sorted(KNOWN_TABLES))}; plugin settings go in [{where}plugins.NAME])",
            path=str(candidate),
            line=line,
        )


def load_config(path: str | Path | None = None, *, start: str | Path = ".") -> Config:
    """Load settings from ``path``, else ``corpus.toml`` or ``pyproject.toml`` in ``start``.

    ``corpus.toml`` holds ``[plugins.NAME]`` tables; ``pyproject.toml`` holds them under
    ``[tool.corpus.plugins.NAME]``. No file means default settings.
    """
    candidates: list[Path]
    if path is not None:
        candidates = [Path(path)]
        if not candidates[0].is_file():
            raise ConfigError(f"configuration file not found: {path}", path=str(path))
    else:
        base = Path(start)
        candidates = [p for p in (base / CONFIG_FILE, base / "pyproject.toml") if p.is_file()]
    if not candidates:
        return Config()
    # Imported here: most runs have no settings file, and every command loads settings.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    for candidate in candidates:
        try:
            data = tomllib.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read configuration: {exc}", path=str(candidate)) from exc
        if candidate.name == "pyproject.toml" and path is None:
            data = data.get("tool", {}).get("corpus")
            if data is None:
                continue
        _check_top_level(data, candidate)
        return Config(plugins=_plugins_table(data, str(candidate)), source=str(candidate))
    return Config()

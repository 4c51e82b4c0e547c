"""The pipeline fingerprint: what, besides a file's bytes, decides what ingest makes of it.

Re-ingest skips a file whose bytes are those it last recorded. That is only right when the
pipeline that made the stored version is the one running now: the plugins (and their
versions), their settings, and the exporters asked for. The fingerprint is a hash of those,
recorded with each run in the store; a file is skipped only when the run that last saw it had
the same fingerprint.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from .config import Config
from .model import MODEL_VERSION
from .plugins import Plugins


def _module_digest(module: str | None) -> str | None:
    """sha256 of a plugin module's source: ``--plugin`` modules have no version to compare."""
    if not module:
        return None
    import importlib.util

    try:
        spec = importlib.util.find_spec(module.split(":", 1)[0])
    except (ImportError, ValueError):
        return None
    origin = getattr(spec, "origin", None) if spec is not None else None
    if not origin or not origin.endswith(".py"):
        return None
    try:
        with open(origin, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except OSError:
        return None


def pipeline_description(plugins: Plugins, config: Config, formats: Sequence[str]) -> dict:
    """The parts of the fingerprint, as JSON-safe data (shown by ``--json`` reports)."""
    from . import __version__

    loaded: list[dict[str, Any]] = []
    for info in plugins.describe():
        if not info.enabled:
            continue
        entry: dict[str, Any] = {"name": info.name, "version": info.version}
        if info.version is None:
            entry["source"] = _module_digest(info.module)
        loaded.append(entry)
    return {
        "corpus": __version__,
        "model_version": MODEL_VERSION,
        "plugins": sorted(loaded, key=lambda e: e["name"]),
        "settings": config.plugins,
        "formats": sorted(formats),
    }


def pipeline_fingerprint(plugins: Plugins, config: Config, formats: Sequence[str]) -> str:
    """A short stable hash of :func:`pipeline_description`."""
    text = json.dumps(
        pipeline_description(plugins, config, formats),
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,  # TOML dates and times
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

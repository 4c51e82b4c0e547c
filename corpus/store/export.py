"""Exporting a corpus from the store, as it is now or as it was at a given time.

No source files are read: every document comes from its stored canonical JSON. Each output file
is written to a temporary name and renamed into place, so a reader (or a crash) never sees half
a file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import attrs

from ..errors import CorpusError, OutputError
from ..model import Finding, Severity
from ..outputs import write_atomic
from ..pipeline import check_key
from ..plugins import Plugins
from .store import Store


@attrs.define
class ExportSummary:
    """How many documents were written, and what went wrong with the others."""

    written: int = 0
    failures: list[Finding] = attrs.field(factory=list)


def output_path(out_dir: Path, key: str, extension: str) -> Path:
    """Where the export of ``key`` goes: the key's path under ``out_dir`` plus the extension."""
    suffix = extension if not extension or extension.startswith(".") else f".{extension}"
    return out_dir.joinpath(*key.split("/")).with_name(key.rsplit("/", 1)[-1] + suffix)


def export_store(
    store: Store,
    fmt: str,
    out_dir: str | os.PathLike[str],
    *,
    plugins: Plugins,
    as_of: str | None = None,
    on_document: Callable[[str], None] | None = None,
) -> ExportSummary:
    """Export every document present at ``as_of`` (default: now) with exporter ``fmt``."""
    exporter = plugins.exporters.get(fmt)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} exists and is not a folder", code="OUTPUT_NOT_A_FOLDER")
    summary = ExportSummary()
    for stored in store.as_of(as_of):
        key = stored.document.key
        try:
            check_key(key, key)
            write_atomic(
                output_path(out, key, exporter.extension), exporter.export(stored.document)
            )
        except CorpusError as exc:
            summary.failures.append(
                Finding(exc.code, Severity.ERROR, exc.message, path=f"{key}@{stored.info.n}")
            )
            continue
        except OSError as exc:
            raise OutputError(
                f"cannot write {key} under {out}: {exc.strerror or exc}", code="OUTPUT_ERROR"
            ) from exc
        except Exception as exc:  # a broken exporter plugin must not stop the export
            summary.failures.append(
                Finding(
                    "EXPORT_FAILED",
                    Severity.ERROR,
                    f"exporter {fmt!r} failed: {type(exc).__name__}: {exc}",
                    path=f"{key}@{stored.info.n}",
                    plugin=plugins.exporters.owner(fmt),
                )
            )
            continue
        summary.written += 1
        if on_document is not None:
            on_document(key)
    return summary

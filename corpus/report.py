"""The ingest report: one entry per input file, streamed to disk, and the run's totals.

Only totals stay in memory; entries go to a temporary JSON Lines file as the run goes on and
are copied into ``report.json`` (written atomically) at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import tempfile
import time
import weakref
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol, TextIO

from .errors import CorpusError
from .items import STATUS_OK, STATUS_REJECTED, STATUS_SKIPPED, STATUS_WARNING, FileResult
from .model import Severity
from .outputs import temp_file_beside, unlink_quietly
from .staging import owner_gone


class ReportedOptions(Protocol):
    """What the report's header says about the run (an :class:`~corpus.ingest.IngestOptions`)."""

    @property
    def sources(self) -> tuple[str, ...]: ...
    @property
    def output(self) -> str | None: ...
    @property
    def formats(self) -> tuple[str, ...]: ...


_ENTRY_ENCODER = json.JSONEncoder(ensure_ascii=False)


#: The temporary entries file of a run is ``corpus-report-<pid>-<random>.jsonl``.
ENTRIES_PREFIX = "corpus-report-"


def remove_stale_entries(folder: str | None = None) -> int:
    """Remove the entries files that runs killed outright (``kill -9``) left in the temporary
    folder: those whose process no longer runs. How many were removed."""
    removed = 0
    try:
        entries = os.scandir(folder or tempfile.gettempdir())
    except OSError:
        return 0
    with entries:
        for entry in entries:
            if entry.name.endswith(".jsonl") and owner_gone(entry.name, ENTRIES_PREFIX):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed += 1
    return removed


def _remove_entries(entries: TextIO, path: str) -> None:
    entries.close()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


class IngestReport:
    """Totals in memory; one entry per file streamed to a temporary JSON Lines file."""

    def __init__(self, options: ReportedOptions) -> None:
        self.options = options
        self.started = time.time()
        self.finished: float | None = None
        self.interrupted = False
        #: The signal that interrupted the run (SIGINT, SIGTERM), when one did.
        self.signal: int | None = None
        #: Why the run failed part way (the error ``run_ingest`` raises), or None.
        self.failure: CorpusError | None = None
        #: Where the report was written, and why not where it was asked for.
        self.written_to: str | None = None
        self.write_problem: str | None = None
        self.totals: Counter[str] = Counter()
        self.codes: Counter[str] = Counter()
        self.store_counts: dict[str, int] | None = None
        #: With a store: the pipeline fingerprint and the files it made run again.
        self.pipeline: dict[str, Any] | None = None
        #: Temporary files of killed runs removed from the output folders this run wrote to.
        self.stale_temps_removed = 0
        self._worst = -1
        remove_stale_entries()
        fd, self._entries_path = tempfile.mkstemp(
            prefix=f"{ENTRIES_PREFIX}{os.getpid()}-", suffix=".jsonl"
        )
        self._entries = os.fdopen(fd, "w", encoding="utf-8")
        # A library caller may never call cleanup(): the entries file goes with the report.
        self._remove_entries = weakref.finalize(
            self, _remove_entries, self._entries, self._entries_path
        )

    def add(self, result: FileResult) -> None:
        self.totals["files"] += 1
        self.totals[result.status] += 1
        self.totals["outputs"] += result.written
        for finding in result.findings:
            self.codes[finding.code] += 1
            self._worst = max(self._worst, finding.severity.rank)
        self._entries.write(_ENTRY_ENCODER.encode(result.to_report()) + "\n")

    def close(self) -> None:
        if not self._entries.closed:
            self._entries.close()
        self.finished = self.finished or time.time()

    def cleanup(self) -> None:
        """Remove the entries file now (it is removed anyway once the report is collected)."""
        self.finished = self.finished or time.time()
        self._remove_entries()

    def iter_entries(self) -> Iterator[dict[str, Any]]:
        if not self._entries.closed:
            self._entries.flush()
        with open(self._entries_path, encoding="utf-8") as fh:
            for line in fh:
                yield json.loads(line)

    @property
    def files(self) -> list[dict[str, Any]]:
        """Every report entry (loads them all: for tests and small runs)."""
        return list(self.iter_entries())

    def totals_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "files": self.totals["files"],
            "ok": self.totals[STATUS_OK],
            "warning": self.totals[STATUS_WARNING],
            "rejected": self.totals[STATUS_REJECTED],
            "skipped": self.totals[STATUS_SKIPPED],
            "outputs": self.totals["outputs"],
            "codes": dict(sorted(self.codes.items())),
        }
        if self.store_counts is not None:
            out["store"] = dict(self.store_counts)
        return out

    def header(self) -> dict[str, Any]:
        return {
            "sources": list(self.options.sources),
            "output": self.options.output,
            "formats": list(self.options.formats),
            "started": _iso(self.started),
            "finished": _iso(self.finished) if self.finished else None,
            "interrupted": self.interrupted,
            "signal": signal.Signals(self.signal).name if self.signal else None,
            "failed": (
                {"code": self.failure.code, "message": self.failure.message}
                if self.failure is not None
                else None
            ),
            "stale_temps_removed": self.stale_temps_removed,
            **({"pipeline": self.pipeline} if self.pipeline is not None else {}),
        }

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.header(), "files": self.files, "totals": self.totals_dict()}

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write the JSON report atomically, streaming entries from disk."""
        self.close()
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = temp_file_beside(target)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                self.write_stream(out)
            os.replace(tmp, target)
        except BaseException:
            unlink_quietly(tmp)
            raise

    def write_stream(self, out: TextIO) -> None:
        """Write the JSON report to an open text stream, streaming entries from disk."""
        self.close()
        out.write('{\n"run": ' + json.dumps(self.header(), ensure_ascii=False))
        out.write(',\n"files": [')
        with open(self._entries_path, encoding="utf-8") as entries:
            for i, line in enumerate(entries):
                out.write(("\n" if i == 0 else ",\n") + line.rstrip("\n"))
        out.write('\n],\n"totals": ' + json.dumps(self.totals_dict(), ensure_ascii=False))
        out.write("\n}\n")
        out.flush()

    def fails(self, level: str) -> bool:
        """Whether a finding reached ``level`` (``error``, ``warning``; ``never`` is never)."""
        if level == "never":
            return False
        return self._worst >= Severity(level).rank

    def summary_line(self) -> str:
        t = self.totals_dict()
        seconds = (self.finished or time.time()) - self.started
        line = (
            f"{t['files']} files: {t['ok']} ok, {t['warning']} with warnings, "
            f"{t['rejected']} rejected"
            + (f", {t['skipped']} skipped" if t["skipped"] else "")
            + "; "
            f"{t['outputs']} outputs written in {seconds:.1f}s"
        )
        if self.store_counts:
            s = self.store_counts
            line += (
                f"; store: {s.get('new', 0)} new, {s.get('changed', 0)} changed, "
                f"{s.get('unchanged', 0)} unchanged, {s.get('removed', 0)} removed"
            )
        if self.pipeline and self.pipeline.get("reprocessed"):
            line += (
                f"; {self.pipeline['reprocessed']} unchanged files processed again: the pipeline "
                "changed (plugins, their versions or settings, or the formats asked for)"
            )
        if self.stale_temps_removed:
            n = self.stale_temps_removed
            line += f"; removed {n} stale temporary files of killed processes"
        if self.interrupted:
            line += " (interrupted)"
        return line


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))

"""Printing findings as a run goes: for people (text, coloured on a terminal) and for CI.

This is the command line's rendering layer: the report keeps each file's path relative to its
source folder; here a finding names the file as the user can open it (the folder given plus
that path, or the file as given), never a bare file name. ``--findings-format`` picks the form:

- ``text``: ``path:line: severity CODE [plugin]: message``, the severity coloured on a
  terminal unless ``NO_COLOR`` is set;
- ``json``: one JSON object per finding and line (JSON Lines);
- ``github``: GitHub Actions workflow commands (``::warning file=...,line=...::...``), which
  show as annotations on the changed files;
- ``sarif``: one SARIF 2.1.0 log (code scanning in GitHub, GitLab, Azure DevOps), streamed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import IO, Any

import click

from .model import Finding, Severity

FORMATS = ("text", "json", "github", "sarif")
_COLOURS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
_GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
STDIN_NAME = "<stdin>"


def use_colour(stream: IO[str]) -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class PathNames:
    """A report path (relative to its source folder) as the user can open it."""

    def __init__(self, sources: Sequence[str]) -> None:
        self.sources = [s for s in sources if s != "-"]
        self.folders = [s for s in self.sources if os.path.isdir(s)]
        self.files = {os.path.basename(s): s for s in self.sources if not os.path.isdir(s)}

    def __call__(self, rel: str | None) -> str | None:
        if rel is None or rel == STDIN_NAME:
            return rel
        if rel in self.files:
            return self.files[rel]
        if len(self.folders) == 1 and not self.files:
            return _join(self.folders[0], rel)
        for folder in self.folders:
            if os.path.lexists(os.path.join(folder, rel)):
                return _join(folder, rel)
        return rel


def _join(folder: str, rel: str) -> str:
    if folder in (".", "./"):
        return rel
    sep = "" if folder.endswith(("/", os.sep)) else "/"
    return f"{folder}{sep}{rel}"


def _github_escape(text: str, *, property: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


class FindingsPrinter:
    """Prints the findings of each file as it is done, in one of :data:`FORMATS`."""

    def __init__(
        self,
        fmt: str,
        *,
        sources: Sequence[str],
        stream: IO[str],
        min_rank: int = 0,
        clear_line: IO[str] | None = None,
    ) -> None:
        self.fmt = fmt
        self.names = PathNames(sources)
        self.stream = stream
        self.min_rank = min_rank
        self.colour = fmt == "text" and use_colour(stream)
        #: The terminal stream a progress bar draws on: its line is cleared before a finding.
        self.clear_line = clear_line
        self._sarif_results = 0
        if fmt == "sarif":
            from . import __version__

            head = {
                "version": "2.1.0",
                "$schema": SARIF_SCHEMA,
                "runs": [
                    {
                        "tool": {
                            "driver": {
                                "name": "corpus",
                                "version": __version__,
                                "informationUri": "https://pypi.org/project/newscorpus/",
                            }
                        },
                        "results": [],
                    }
                ],
            }
            text = json.dumps(head, ensure_ascii=False)
            # Stream the results: everything up to the empty list, each result, then the end.
            self._sarif_tail = text[text.index('"results": []') + len('"results": [') :]
            self._write(text[: text.index('"results": []') + len('"results": [')])

    def _write(self, text: str, *, newline: bool = False) -> None:
        self.stream.write(text + ("\n" if newline else ""))

    def emit(self, findings: Sequence[Finding], path: str | None = None) -> None:
        """Print ``findings`` (those at or above ``min_rank``); ``path`` overrides theirs."""
        shown = [f for f in findings if f.severity.rank >= self.min_rank]
        if not shown:
            return
        if self.clear_line is not None:
            self.clear_line.write("\r\x1b[K")
            self.clear_line.flush()
        for finding in shown:
            where = self.names(path or finding.path)
            getattr(self, f"_{self.fmt}")(finding, where)
        self.stream.flush()

    def _text(self, finding: Finding, where: str | None) -> None:
        location = (where or "<input>") + (f":{finding.line}" if finding.line is not None else "")
        severity = finding.severity.value
        if self.colour:
            severity = click.style(severity, fg=_COLOURS[finding.severity], bold=True)
        by = f" [{finding.plugin}]" if finding.plugin else ""
        self._write(f"{location}: {severity} {finding.code}{by}: {finding.message}", newline=True)

    def _json(self, finding: Finding, where: str | None) -> None:
        data = {**finding.to_dict(), "path": where}
        self._write(json.dumps(data, ensure_ascii=False), newline=True)

    def _github(self, finding: Finding, where: str | None) -> None:
        props = []
        if where:
            props.append(f"file={_github_escape(where, property=True)}")
        if finding.line is not None:
            props.append(f"line={finding.line}")
        props.append(f"title={_github_escape(finding.code, property=True)}")
        by = f" [{finding.plugin}]" if finding.plugin else ""
        message = _github_escape(f"{finding.code}{by}: {finding.message}")
        self._write(
            f"::{_GITHUB_LEVEL[finding.severity]} {','.join(props)}::{message}", newline=True
        )

    def _sarif(self, finding: Finding, where: str | None) -> None:
        result: dict[str, Any] = {
            "ruleId": finding.code,
            "level": _SARIF_LEVEL[finding.severity],
            "message": {"text": finding.message},
        }
        if where:
            location: dict[str, Any] = {"artifactLocation": {"uri": where.replace(os.sep, "/")}}
            if finding.line is not None:
                location["region"] = {"startLine": finding.line}
            result["locations"] = [{"physicalLocation": location}]
        if finding.plugin:
            result["properties"] = {"plugin": finding.plugin}
        separator = "," if self._sarif_results else ""
        self._sarif_results += 1
        self._write(separator + "\n" + json.dumps(result, ensure_ascii=False))

    def close(self) -> None:
        if self.fmt == "sarif":
            self._write("\n" + self._sarif_tail, newline=True)
            self.stream.flush()

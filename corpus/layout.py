"""Where a document's outputs go: ``OUT/<key><extension>``, one file per format.

A leaf of the ingest stages: the plan stage asks whether an unchanged document's outputs are
still there, the execute stage stages outputs beside their targets, the commit stage renames
them into place; all three place them the same way, from here.
"""

from __future__ import annotations

import os

from .errors import OutputError

#: Folder switches after which :meth:`OutputLayout.outputs_exist` stops listing folders (keys
#: set by a plugin may jump between folders; then a stat per file is cheaper).
_LISTING_TRIAL = 64


class OutputLayout:
    """The output folder and the extension of each format."""

    def __init__(self, output: str, extensions: dict[str, str]) -> None:
        self.root = os.path.abspath(output)
        self.extensions = dict(extensions)
        self._listed: str | None = None
        self._names: frozenset[str] = frozenset()
        self._listings = 0
        self._checks = 0

    def target(self, key: str, fmt: str) -> str:
        target = os.path.normpath(os.path.join(self.root, key + self.extensions[fmt]))
        if not target.startswith(self.root + os.sep):
            raise OutputError(
                f"output for key {key!r} would land outside the output folder",
                code="UNSAFE_KEY",
            )
        return target

    def outputs_exist(self, key: str) -> bool:
        """Whether every output of ``key`` is a file in place.

        Unchanged documents come folder by folder, so the folder is listed once (without a
        system call per file) rather than each output looked up on its own.
        """
        # target() for each format, with the path work done once: an extension has no
        # separator, so normpath(root/key + ext) is normpath(root/key) + ext.
        base = os.path.normpath(os.path.join(self.root, key))
        if not base.startswith(self.root + os.sep):
            return False
        targets = [base + ext for ext in self.extensions.values()]
        self._checks += 1
        for target in targets:
            folder, _, name = target.rpartition(os.sep)
            names = self._names_in(folder)
            if names is None:
                if not os.path.isfile(target):
                    return False
            elif name not in names:
                return False
        return True

    def _names_in(self, folder: str) -> frozenset[str] | None:
        """The regular files in ``folder`` (the last folder asked about is kept), or None when
        listing does not pay (the folders asked about keep changing)."""
        if folder == self._listed:
            return self._names
        if self._listings >= _LISTING_TRIAL and self._listings * 4 > self._checks:
            return None
        self._listings += 1
        self._listed = folder
        try:
            with os.scandir(folder) as entries:
                self._names = frozenset(e.name for e in entries if _is_file(e))
        except OSError:
            self._names = frozenset()
        return self._names


def _is_file(entry: os.DirEntry) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False

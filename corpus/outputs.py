"""Committing outputs: staged outputs renamed into place, without collisions.

The commit stage's side of writing outputs. Every output was staged (:mod:`corpus.staging`)
as a temporary file (``.corpus-tmp-<pid>-...``) beside its target; here, in the one process
that sees every key, it is renamed into place, so no file under a final name is ever half
written, even after kill -9.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import CorpusError, OutputError
from .items import FileResult, InputFile, is_record_path
from .pipeline import default_key

# Re-exported: these were born here and other modules import them from here.
from .staging import TMP_PREFIX as TMP_PREFIX
from .staging import OutputStager, output_failure
from .staging import discard_staged as discard_staged
from .staging import remove_stale_temps as remove_stale_temps
from .staging import temp_file_beside as temp_file_beside
from .staging import temp_prefix as temp_prefix
from .staging import unlink_quietly as unlink_quietly
from .staging import write_atomic as write_atomic
from .staging import write_file as write_file

if TYPE_CHECKING:
    from .plugins import Plugins


class OutputWriter(OutputStager):
    """Places each document's outputs under the output folder, refusing escapes and collisions.

    Writing is two-phase so worker processes can do the slow part: :meth:`stage` (of
    :class:`~corpus.staging.OutputStager`, the execute stage's side) writes each output to a
    temporary file beside its target (in any process); :meth:`commit` (in the parent, which
    sees every key) checks for collisions and renames, or removes the stage.
    """

    def __init__(self, output: str, extensions: dict[str, str]) -> None:
        super().__init__(output, extensions)
        # Keys derived from paths can only collide within one folder (a.txt and a.json), and
        # the walk gives each folder's files together: remembering the current folder's keys
        # keeps memory flat however large the corpus. Other keys (from a document_key plugin,
        # or stored in a JSON input) are remembered as 8-byte digests, and checked against
        # outputs this run already wrote in other folders.
        self._folder: str | None = None
        self._folder_keys: set[str] = set()
        self._other_keys: set[int] = set()
        #: Paths of this run's own files (the report) that no output may take.
        self._reserved: set[str] = set()
        # Keys claimed by records of archives: a later capture of a page (listed later)
        # replaces an earlier one's outputs instead of colliding with it.
        self._record_keys: set[int] = set()

    def reserve(self, path: str) -> None:
        """Keep ``path`` (the run's report, say) for the run: an output there is refused."""
        self._reserved.add(os.path.normpath(os.path.abspath(path)))

    @classmethod
    def for_formats(cls, output: str, plugins: Plugins, formats: Sequence[str]) -> OutputWriter:
        return cls(output, {fmt: plugins.exporters.get(fmt).extension for fmt in formats})

    def claim(self, key: str, path: str) -> bool:
        """Whether ``key`` (of the input at ``path``) is still free in this run; take it."""
        folder = path.rpartition("/")[0]  # the input's folder: its files come together
        if folder != self._folder:
            self._folder, self._folder_keys = folder, set()
        record = is_record_path(path)
        if record and self._record_keys and self._digest(key) in self._record_keys:
            return True
        if key in self._folder_keys:
            return False
        derived = key == default_key(path)
        if self._other_keys or not derived or record:
            digest = self._digest(key)
            if digest in self._other_keys:
                return False
            if record:
                self._record_keys.add(digest)
            if not derived:
                if self._written_this_run(key):
                    return False
                self._other_keys.add(digest)
        self._folder_keys.add(key)
        return True

    @staticmethod
    def _digest(key: str) -> int:
        return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")

    def _written_this_run(self, key: str) -> bool:
        if self._started_ns is None:
            raise RuntimeError("OutputWriter.start() was not called before claiming keys")
        for fmt in self.extensions:
            try:
                if os.stat(self.target(key, fmt)).st_mtime_ns >= self._started_ns:
                    return True
            except OSError:
                continue
        return False

    def keep(self, result: FileResult) -> FileResult:
        """An unchanged input keeps its outputs, and its key: a later same-key input collides."""
        key = result.document_key
        if key is None or self.claim(key, result.path):
            return result
        error = OutputError(
            f"another input in this run has the same key {key!r}, so both would write "
            "the same output; rename one of them",
            code="OUTPUT_COLLISION",
        )
        return output_failure(result, error)

    def commit(self, result: FileResult) -> FileResult:
        """Rename staged outputs into place, unless another input already took the key."""
        key = result.document_key
        if not result.staged or key is None:
            return result
        try:
            if not self.claim(key, result.path):
                raise OutputError(
                    f"another input in this run has the same key {key!r}, so both would write "
                    "the same output; rename one of them",
                    code="OUTPUT_COLLISION",
                )
            targets = {fmt: self.target(key, fmt) for fmt in result.staged}
            for target in targets.values():
                if target in self._reserved:
                    raise OutputError(
                        f"output {target} would overwrite this run's report; rename the input, "
                        "or write the report elsewhere with --report",
                        code="RESERVED_NAME",
                    )
            done: list[str] = []
            try:
                for fmt, tmp in result.staged.items():
                    os.replace(tmp, targets[fmt])
                    done.append(targets[fmt])
            except OSError:
                for target in done:  # all of a document's outputs, or none of them
                    unlink_quietly(target)
                raise
            for target in done:
                self._sweep(target.rpartition(os.sep)[0])
        except (CorpusError, OSError) as exc:
            for tmp in result.staged.values():
                unlink_quietly(tmp)
            return output_failure(result.with_outputs({}), exc)
        return result.with_outputs({}, written=len(result.staged))


def quarantine_file(item: InputFile, result: FileResult, folder: str) -> None:
    """Copy a rejected input into ``folder`` with a ``.rejected.json`` sidecar saying why."""
    target = Path(folder) / result.path
    target.parent.mkdir(parents=True, exist_ok=True)
    if item.offset is not None and item.data is not None:
        write_atomic(target, item.data)  # a record of an archive: the record, not the archive
    else:
        with contextlib.suppress(OSError):  # unreadable or vanished: the sidecar still says why
            shutil.copyfile(item.path, target)
    sidecar = target.with_name(target.name + ".rejected.json")
    write_atomic(
        sidecar,
        (json.dumps(result.to_report(), ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
    )

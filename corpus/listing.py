"""Listing inputs: every file under the sources, lazily, in a stable order.

Problems met while listing (unreadable folders, broken links, link loops, file names that are
not UTF-8) become findings on the listed entry, so the report accounts for every file seen.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import attrs

from .model import Finding, Severity


@attrs.frozen
class InputFile:
    """One listed input: where it is, its root, and its path relative to that root."""

    path: str
    root: str
    rel: str
    problem: Finding | None = None
    #: The file's bytes when the parent already read them (to check the store), so they are
    #: not read twice; None means the processing side reads the file.
    data: bytes | None = attrs.field(default=None, repr=False, eq=False)
    #: For a record of an archive (see corpus.archives): the reader of its bytes, and the
    #: record's byte offset in the archive at ``path``. None for an ordinary file.
    reader: str | None = None
    offset: int | None = None


def _display(name: str) -> str:
    """A file name that JSON and terminals can carry (undecodable bytes become U+FFFD)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def iter_inputs(sources: Sequence[str]) -> Iterator[InputFile]:
    """Every file under ``sources``, sorted, lazily; problems become rejected entries.

    Within a folder, files come first (sorted by name), then each subfolder in turn.
    A file given directly has its folder as root. Hidden entries (names starting with ".") are
    skipped, as version-control folders are. Symbolic links are followed, but a link back to a
    folder already being walked is reported (SYMLINK_LOOP), never followed forever.
    """
    for source in sources:
        src = Path(source)
        if src.is_dir():
            root = str(src)
            st = src.stat()
            yield from _walk(root, root, "", {(st.st_dev, st.st_ino)})
        else:
            yield InputFile(str(src), str(src.parent), _display(src.name))


def _walk(root: str, folder: str, prefix: str, active: set[tuple[int, int]]) -> Iterator[InputFile]:
    """Files under ``folder``; ``prefix`` is its path relative to ``root`` plus ``/`` (or "")."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        rel = prefix.rstrip("/") or "."
        yield InputFile(folder, root, rel, _problem("FOLDER_UNREADABLE", exc, rel))
        return
    subfolders: list[tuple[str, str, tuple[int, int]]] = []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        name = entry.name if entry.name.isascii() else _display(entry.name)
        rel = prefix + name
        problem = None
        if name != entry.name:
            problem = Finding(
                "FILENAME_NOT_UTF8",
                Severity.WARNING,
                "file name is not valid UTF-8; undecodable bytes are shown as U+FFFD in keys "
                "and outputs: rename the file",
                path=rel,
            )
        try:
            is_dir = entry.is_dir(follow_symlinks=True)
        except OSError as exc:
            yield InputFile(entry.path, root, rel, _problem("FILE_UNREADABLE", exc, rel))
            continue
        if is_dir:
            try:
                st = entry.stat(follow_symlinks=True)
            except OSError as exc:
                yield InputFile(entry.path, root, rel, _problem("FOLDER_UNREADABLE", exc, rel))
                continue
            ident = (st.st_dev, st.st_ino)
            if ident in active:
                yield InputFile(
                    entry.path,
                    root,
                    rel,
                    Finding(
                        "SYMLINK_LOOP",
                        Severity.ERROR,
                        "symbolic link leads back to a folder already being read; remove the "
                        "link or ingest its target directly",
                        path=rel,
                    ),
                )
                continue
            subfolders.append((entry.path, rel + "/", ident))
            continue
        if entry.is_symlink() and not os.path.exists(entry.path):
            yield InputFile(
                entry.path,
                root,
                rel,
                Finding(
                    "BROKEN_SYMLINK",
                    Severity.ERROR,
                    "symbolic link points to nothing; fix or remove the link",
                    path=rel,
                ),
            )
            continue
        yield InputFile(entry.path, root, rel, problem)
    # Files of a folder come before its subfolders, so one folder's outputs are claimed
    # together (see OutputWriter) and memory stays bounded by the largest folder.
    for path, sub_prefix, ident in subfolders:
        active.add(ident)
        yield from _walk(root, path, sub_prefix, active)
        active.discard(ident)


def _problem(code: str, exc: OSError, rel: str) -> Finding:
    return Finding(
        code,
        Severity.ERROR,
        f"cannot read: {exc.strerror or exc}; check permissions and that the path exists",
        path=rel,
    )

"""Listing inputs: every file under the sources, lazily, in a stable order.

Problems met while listing (unreadable folders, broken links, link loops, file names that are
not UTF-8) become findings on the listed entry, so the report accounts for every file seen.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from .items import InputFile as InputFile  # re-exported: born here
from .model import Finding, Severity


def _display(name: str) -> str:
    """A file name that JSON and terminals can carry (undecodable bytes become U+FFFD)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def iter_inputs(sources: Sequence[str]) -> Iterator[InputFile]:
    """Every file under ``sources``, sorted, lazily; problems become rejected entries.

    Within a folder, files come first (sorted by name), then each subfolder in turn.
    A file given directly has its folder as root. Hidden entries (names starting with ".") are
    not read, as version-control folders are not, but each is listed as skipped (one entry
    for a hidden folder). Symbolic links are followed, but a link back to a folder already
    being walked is reported (SYMLINK_LOOP), never followed forever. Anything that is not a
    regular file (a FIFO, a socket, a device) is rejected without being opened.
    """
    for source in sources:
        src = Path(source)
        if src.is_dir():
            root = str(src)
            st = src.stat()
            yield from _walk(root, root, "", {(st.st_dev, st.st_ino)})
        else:
            rel = _display(src.name)
            try:
                mode = os.stat(src).st_mode
            except OSError as exc:
                yield InputFile(
                    str(src), str(src.parent), rel, _problem("FILE_UNREADABLE", exc, rel)
                )
                continue
            problem = None if stat.S_ISREG(mode) else _not_regular(mode, rel)
            yield InputFile(str(src), str(src.parent), rel, problem)


def _walk(root: str, folder: str, prefix: str, active: set[tuple[int, int]]) -> Iterator[InputFile]:
    """Files under ``folder``; ``prefix`` is its path relative to ``root`` plus ``/`` (or "")."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        rel = prefix.rstrip("/") or "."
        yield InputFile(folder, root, rel, _problem("FOLDER_UNREADABLE", exc, rel))
        return
    subfolders: list[tuple[str, str, tuple[int, int]]] = []
    shown: dict[str, str] = {}  # name as reported -> the entry's real name
    for entry in entries:
        name = entry.name if entry.name.isascii() else _display(entry.name)
        rel = prefix + name
        if entry.name.startswith("."):
            yield InputFile(entry.path, root, rel, _hidden(entry, rel), skipped=True)
            continue
        problem = None
        if shown.setdefault(name, entry.name) != entry.name:
            yield InputFile(
                entry.path,
                root,
                rel,
                Finding(
                    "FILENAME_COLLISION",
                    Severity.ERROR,
                    "file name differs from another in this folder only in bytes that are not "
                    f"UTF-8, so both show as {name!r} and would share a key: rename one",
                    path=rel,
                ),
            )
            continue
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
        try:
            regular = entry.is_file(follow_symlinks=True)  # no system call for most entries
            mode = 0 if regular else os.stat(entry.path).st_mode
        except FileNotFoundError:
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
        except OSError as exc:
            yield InputFile(entry.path, root, rel, _problem("FILE_UNREADABLE", exc, rel))
            continue
        if not regular:
            yield InputFile(entry.path, root, rel, _not_regular(mode, rel))
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


_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _not_regular(mode: int, rel: str) -> Finding:
    """A FIFO, socket or device: reading it could block forever or never end."""
    kind = next((what for test, what in _KINDS if test(mode)), "of an unknown kind")
    return Finding(
        "NOT_A_REGULAR_FILE",
        Severity.ERROR,
        f"is {kind}, not a regular file; it was not opened. Remove it from the input folder",
        path=rel,
    )


def _hidden(entry: os.DirEntry, rel: str) -> Finding:
    try:
        folder = entry.is_dir(follow_symlinks=False)
    except OSError:
        folder = False
    what = (
        "hidden folder (name starts with '.'); nothing in it was read"
        if folder
        else ("hidden file (name starts with '.'); not read")
    )
    return Finding("HIDDEN", Severity.INFO, what, path=rel)

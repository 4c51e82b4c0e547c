"""``corpus diff DIR_A DIR_B``: how a whole corpus changed between two snapshots.

Documents are paired by key (path relative to the folder, without extension, or what a
``document_key`` plugin says). Keys only in A and only in B are then paired by content: the
same content hash, or word similarity at least ``rename_threshold``, is a rename.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs

from ..errors import CorpusError
from ..model import Document
from .engine import diff_documents
from .filter import without_cosmetic
from .model import DocumentDiff
from .similarity import WordEncoder, similarity

ADDED = "added"
REMOVED = "removed"
CHANGED = "changed"
UNCHANGED = "unchanged"
RENAMED = "renamed"

#: Above this many (removed x added) pairs, renames are found by identical content only.
_MAX_RENAME_PAIRS = 1_000_000


@attrs.frozen
class CorpusEntry:
    """One document's fate: added, removed, changed, unchanged or renamed (maybe changed)."""

    status: str
    key: str
    old_key: str | None = None
    old_path: str | None = None
    new_path: str | None = None
    diff: DocumentDiff | None = None
    similarity: float | None = None

    @property
    def changed(self) -> bool:
        return self.diff is not None and not self.diff.is_empty

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "key": self.key}
        if self.old_key is not None and self.old_key != self.key:
            out["old_key"] = self.old_key
        out["old_path"] = self.old_path
        out["new_path"] = self.new_path
        if self.similarity is not None:
            out["similarity"] = self.similarity
        if self.diff is not None:
            out["changed"] = self.changed
            out["summary"] = self.diff.summary.to_dict()
            out["summary_line"] = self.diff.summary_line()
        return out


@attrs.frozen
class ReadError:
    path: str
    code: str
    message: str
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    def __str__(self) -> str:
        where = self.path + (f":{self.line}" if self.line else "")
        return f"{where}: {self.code}: {self.message}"


@attrs.frozen
class CorpusDiff:
    """Every document of two snapshots, classified, plus the files that could not be read."""

    old_root: str
    new_root: str
    entries: tuple[CorpusEntry, ...] = attrs.field(converter=tuple)
    errors: tuple[ReadError, ...] = attrs.field(default=(), converter=tuple)

    def count(self, status: str) -> int:
        return sum(1 for e in self.entries if e.status == status)

    @property
    def counts(self) -> dict[str, int]:
        return {s: self.count(s) for s in (CHANGED, ADDED, REMOVED, RENAMED, UNCHANGED)}

    @property
    def is_empty(self) -> bool:
        return all(e.status == UNCHANGED for e in self.entries)

    def summary_line(self) -> str:
        c = self.counts
        line = ", ".join(f"{n} {s}" for s, n in c.items())
        if self.errors:
            line += f"; {len(self.errors)} unreadable"
        return line

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": self.old_root,
            "new": self.new_root,
            "empty": self.is_empty,
            "counts": self.counts,
            "entries": [e.to_dict() for e in self.entries],
            "errors": [e.to_dict() for e in self.errors],
        }


def _walk(root: Path, extensions: set[str]) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            if any(name.lower().endswith(ext) for ext in extensions):
                yield Path(dirpath) / name


def list_files(root: str | os.PathLike[str], plugins) -> list[tuple[str, Path]]:
    """(relative path, path) of every file under ``root`` a reader takes, in walk order."""
    root = Path(root)
    return [
        (path.relative_to(root).as_posix(), path)
        for path in _walk(root, plugins.readers.extensions())
    ]


def duplicate_key(rel: str, key: str, first: str) -> ReadError:
    return ReadError(rel, "DUPLICATE_KEY", f"same key {key!r} as {first}; rename one of them")


def read_folder(
    root: str | os.PathLike[str], plugins
) -> tuple[dict[str, tuple[str, Document]], list[ReadError]]:
    """key -> (relative path, document) for every readable file under ``root``."""
    from ..pipeline import read_path

    root = Path(root)
    docs: dict[str, tuple[str, Document]] = {}
    errors: list[ReadError] = []
    for rel, path in list_files(root, plugins):
        try:
            document = read_path(path, root=root, plugins=plugins).document
        except CorpusError as exc:
            errors.append(ReadError(exc.path or rel, exc.code, exc.message, exc.line))
            continue
        if document.key in docs:
            errors.append(duplicate_key(rel, document.key, docs[document.key][0]))
            continue
        docs[document.key] = (rel, document)
    return docs, errors


def find_renames(
    removed: dict[str, tuple[str, Document]],
    added: dict[str, tuple[str, Document]],
    threshold: float,
) -> list[tuple[str, str, float]]:
    pairs: list[tuple[str, str, float]] = []
    by_hash: dict[str, list[str]] = {}
    for key, (_, doc) in added.items():
        by_hash.setdefault(doc.content_hash, []).append(key)
    taken: set[str] = set()
    left: list[str] = []
    for key, (_, doc) in removed.items():
        same = [k for k in by_hash.get(doc.content_hash, []) if k not in taken]
        if same:
            taken.add(same[0])
            pairs.append((key, same[0], 1.0))
        else:
            left.append(key)
    right = [k for k in added if k not in taken]
    if not left or not right or len(left) * len(right) > _MAX_RENAME_PAIRS:
        return pairs
    encoder = WordEncoder()
    enc_old = {k: encoder.encode(_full_text(removed[k][1])) for k in left}
    enc_new = {k: encoder.encode(_full_text(added[k][1])) for k in right}
    scored = []
    for a in left:
        for b in right:
            sim = similarity(enc_old[a], enc_new[b], threshold)
            if sim >= threshold:
                scored.append((-sim, a, b))
    scored.sort()
    used_a: set[str] = set()
    for neg, a, b in scored:
        if a in used_a or b in taken:
            continue
        used_a.add(a)
        taken.add(b)
        pairs.append((a, b, round(-neg, 4)))
    return pairs


def _full_text(doc: Document) -> str:
    return doc.title + "\n\n" + doc.body_text


def diff_corpora(
    old_root: str | os.PathLike[str],
    new_root: str | os.PathLike[str],
    *,
    plugins,
    rename_threshold: float = 0.8,
    ignore_cosmetic: bool = False,
    executor: str | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    **options: Any,
) -> CorpusDiff:
    """Compare two folders of articles; options go to :func:`diff_documents`.

    With ``executor`` (``dask``, or another registered one; not ``local``), files are read
    and changed documents diffed in shards there (:mod:`corpus.diff.sharded`); the result is
    the same.
    """
    if executor not in (None, "local"):
        from .sharded import diff_corpora_sharded

        return diff_corpora_sharded(
            old_root,
            new_root,
            plugins=plugins,
            rename_threshold=rename_threshold,
            ignore_cosmetic=ignore_cosmetic,
            executor=executor,
            scheduler=scheduler,
            workers=workers,
            options=options,
        )
    old_docs, errors = read_folder(old_root, plugins)
    new_docs, more = read_folder(new_root, plugins)
    errors += more

    def _diff(a: Document, b: Document) -> DocumentDiff:
        d = diff_documents(a, b, **options)
        return without_cosmetic(d) if ignore_cosmetic else d

    entries: list[CorpusEntry] = []
    for key in sorted(old_docs.keys() & new_docs.keys()):
        (pa, a), (pb, b) = old_docs[key], new_docs[key]
        if a.content_hash == b.content_hash:
            entries.append(CorpusEntry(UNCHANGED, key, key, pa, pb))
            continue
        d = _diff(a, b)
        status = UNCHANGED if d.is_empty else CHANGED
        entries.append(CorpusEntry(status, key, key, pa, pb, diff=d))
    removed = {k: v for k, v in old_docs.items() if k not in new_docs}
    added = {k: v for k, v in new_docs.items() if k not in old_docs}
    return finish_corpus_diff(
        old_root, new_root, entries, removed, added, _diff, rename_threshold, errors
    )


def finish_corpus_diff(
    old_root: str | os.PathLike[str],
    new_root: str | os.PathLike[str],
    entries: list[CorpusEntry],
    removed: dict[str, tuple[str, Document]],
    added: dict[str, tuple[str, Document]],
    diff: Callable[[Document, Document], DocumentDiff],
    rename_threshold: float,
    errors: list[ReadError],
) -> CorpusDiff:
    """The result once shared keys are compared (``entries``): documents only in the old
    folder (``removed``) and only in the new one (``added``) are paired as renames where
    similar enough, the rest listed as removed or added, all in the one report order. Both
    the in-process and the sharded corpus diff end here.
    """
    for a_key, b_key, sim in find_renames(removed, added, rename_threshold):
        (pa, a), (pb, b) = removed.pop(a_key), added.pop(b_key)
        d = diff(a, b)
        entries.append(CorpusEntry(RENAMED, b_key, a_key, pa, pb, diff=d, similarity=sim))
    entries += [CorpusEntry(REMOVED, k, k, p, None) for k, (p, _) in removed.items()]
    entries += [CorpusEntry(ADDED, k, None, None, p) for k, (p, _) in added.items()]
    order = {CHANGED: 0, RENAMED: 1, REMOVED: 2, ADDED: 3, UNCHANGED: 4}
    entries.sort(key=lambda e: (order[e.status], e.key))
    return CorpusDiff(str(old_root), str(new_root), entries, errors)


def render_corpus_text(result: CorpusDiff, *, verbose: bool = False) -> str:
    """One line per document that differs (and per unreadable file), then the counts."""
    lines = []
    for e in result.entries:
        if e.status == CHANGED and e.diff is not None:
            ratio = e.diff.summary.changed_ratio
            lines.append(f"changed   {e.key}: {e.diff.summary_line()} ({ratio:.1%} of text)")
        elif e.status == RENAMED:
            what = e.diff.summary_line() if e.diff is not None else ""
            lines.append(f"renamed   {e.old_key} -> {e.key} ({e.similarity:.0%} similar; {what})")
        elif e.status == REMOVED:
            lines.append(f"removed   {e.key}")
        elif e.status == ADDED:
            lines.append(f"added     {e.key}")
        elif verbose:
            lines.append(f"unchanged {e.key}")
    for err in result.errors:
        lines.append(f"error     {err}")
    lines.append(result.summary_line())
    return "\n".join(lines) + "\n"

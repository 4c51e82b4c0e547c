"""Recording one ingest run: versions, tombstones and the run's file log.

An ingest calls :meth:`IngestRun.known_unchanged` before reading a file (a hit means the file
can be skipped), :meth:`IngestRun.record` for each processed file, and :meth:`IngestRun.finish`
at the end. Writes are committed in batches for speed; every batch leaves the store consistent,
so a run killed part way loses at most its last batch, and running the same ingest again
completes it without duplicate versions (an unchanged document never adds a version).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import operator
import os
import socket
import sqlite3
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import StoreError
from ..model import Finding
from . import pairs, payload
from .lock import WriterLock
from .prepared import PreparedVersion, prepare_version
from .records import document_from_stored, findings_from_json
from .timeutil import captured_stamp, now_stamp, short

if TYPE_CHECKING:  # pragma: no cover
    from ..pipeline import FileResult
    from .store import Store

#: Records per transaction: large enough to be fast, small enough to lose little on a crash.
BATCH_SIZE = 500
#: Source files looked up in one query by :meth:`IngestRun.unchanged_by_stat`.
_LOOKUP_CHUNK = 500

#: A source file's ``(size, mtime_ns, inode)``, as re-ingest compares them.
FileStat = tuple[int, int, int]

#: How an index change of the batch is written (the index is contentless: a removal carries
#: the very values that were indexed).
_INDEX_SQL = {
    "delete": "INSERT INTO search (search, rowid, title, body) VALUES ('delete', ?, ?, ?)",
    "insert": "INSERT INTO search (rowid, title, body) VALUES (?, ?, ?)",
}

NEW = "new"
CHANGED = "changed"
UNCHANGED = "unchanged"
REJECTED = "rejected"
REMOVED = "removed"
OUTCOMES = (NEW, CHANGED, UNCHANGED, REMOVED, REJECTED)


F = TypeVar("F", bound=Callable[..., Any])


def _coded(method: F) -> F:
    """SQLite failures of a run's method become coded :class:`StoreError` (STORE_FULL...)."""

    @functools.wraps(method)
    def wrapper(self: IngestRun, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            from .store import store_error

            raise store_error(exc, self.store.path) from exc

    return wrapper  # type: ignore[return-value]


def _findings_json(result: FileResult) -> str:
    return json.dumps([f.to_dict() for f in result.findings], ensure_ascii=False)


class IngestRun:
    """One ingest run writing to a store. Made by :meth:`Store.begin_run`."""

    def __init__(
        self,
        store: Store,
        run_id: int,
        lock: WriterLock,
        scopes: list[tuple],
        pipeline: str | None = None,
    ) -> None:
        self.store = store
        self.run_id = run_id
        #: Fingerprint of this run's pipeline (``corpus.fingerprint``), None when not given.
        self.pipeline = pipeline
        self.finished = False
        self.counts: dict[str, int] = dict.fromkeys(OUTCOMES, 0)
        #: The counts as of the last commit: what a failed run keeps.
        self._committed: dict[str, int] = dict(self.counts)
        #: Files with unchanged bytes processed again because the pipeline is not the same.
        self.pipeline_changed = 0
        #: False for a run that saw only some files (``--include``/``--exclude``): files it
        #: did not see are not gone, so nothing is marked removed.
        self.tombstones = True
        self._conn = store.connection
        self._lock = lock
        self._scopes = scopes
        self._pending = 0
        #: Commit at the end of this record, whatever the batch's size (see _prepared).
        self._commit_soon = False
        self._roots: dict[str, str] = {}
        self._orphans: set[int] = set()
        # Full-text index changes wait for the batch's commit: written one by one, each would
        # flush FTS5's pending terms (every statement savepoint does), which is many times slower.
        # The index is contentless (it keeps no copy of the text), so a removal carries the
        # values that were indexed: ("delete", id, title, body) or ("insert", id, title, body).
        self._index: list[tuple[str, int, str, str]] = []
        #: The pair signatures (corpus.store.pairs) of the batch's new versions: (id, *ints).
        self._signatures: list[tuple[int, ...]] = []
        #: The store's dictionaries: a prepared payload must need none or one of these.
        self._dict_ids = [
            d for (d,) in self._conn.execute("SELECT dict_id FROM dictionaries ORDER BY id")
        ]
        self._encoder = payload.Encoder(self._dict_ids[-1] if self._dict_ids else None)
        #: The store's common words, once chosen, and what makes each document's signature.
        self._pairs: pairs.PairMaker | None = None
        common = pairs.read_common(self._conn)
        if common:
            self._pairs = pairs.PairMaker(common)
        # A store without a dictionary trains one on the JSON of its first versions, and one
        # without common words chooses them from the same versions' words.
        self._samples: list[PreparedVersion] | None = (
            None if self._dict_ids and self._pairs is not None else []
        )
        # Findings JSON -> parsed, for unchanged files (most share a few values such as "[]").
        self._parsed_findings: dict[str, tuple[Finding, ...]] = {}

    # -- starting --------------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        store: Store,
        *,
        roots: Sequence[str],
        arguments: Sequence[str],
        pipeline: str | None = None,
    ) -> IngestRun:
        """Take the writer lock (waiting up to the store's busy timeout) and open a run."""
        lock = WriterLock(store.path)
        if not lock.acquire(store.busy_timeout):
            raise StoreError(_busy_message(store), code="STORE_BUSY")
        try:
            conn = store.connection
            conn.execute("BEGIN IMMEDIATE")
            now = now_stamp()
            # The lock was free, so any run still marked as running died without finishing.
            conn.execute(
                "UPDATE runs SET status = 'abandoned' WHERE status = 'running'",
            )
            cursor = conn.execute(
                "INSERT INTO runs (started, status, roots, arguments, pid, host, pipeline) "
                "VALUES (?, 'running', ?, ?, ?, ?, ?)",
                (
                    now,
                    json.dumps([os.fspath(r) for r in roots], ensure_ascii=False),
                    json.dumps([str(a) for a in arguments], ensure_ascii=False),
                    os.getpid(),
                    socket.gethostname(),
                    pipeline,
                ),
            )
            run_id = int(cursor.lastrowid)
            conn.execute("COMMIT")
            conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            if store.connection.in_transaction:
                store.connection.execute("ROLLBACK")
            lock.release()
            raise
        return cls(store, run_id, lock, [_scope(r) for r in roots], pipeline)

    # -- per file --------------------------------------------------------------------------

    def _root(self, root: str) -> str:
        found = self._roots.get(root)
        if found is None:
            found = self._roots[root] = os.path.realpath(root)
        return found

    @_coded
    def known_unchanged(
        self, root: str, rel_path: str, sha256: str, *, any_version: bool = False
    ) -> str | None:
        """The key of the document this file made, if the file and that document are unchanged.

        True when the file's raw sha256 is the one last recorded for it, the version it made is
        still the document's latest, and the document is not removed: then the file need not be
        read or exported again (call :meth:`record_unchanged`). With ``any_version`` (records
        of an archive: a crawl holds earlier captures of a page next to later ones), the
        version it made may be any of the document's versions: reading it again would add an
        old version on top of newer ones And (when this run has a pipeline
        fingerprint) that version must have been made by the same pipeline. The fingerprint is
        kept per source and only when a version is recorded, so a file the new pipeline
        rejected is not later skipped on the strength of the old pipeline's verdict.
        """
        self._check_open()
        latest = "" if any_version else "AND d.content_hash = s.content_hash"
        row = self._conn.execute(
            "SELECT d.key, s.pipeline FROM sources s JOIN documents d ON d.id = s.doc_id "
            "WHERE s.root = ? AND s.rel_path = ? AND s.sha256 = ? "
            f"AND d.state = 'present' {latest}",
            (self._root(root), rel_path, sha256),
        ).fetchone()
        if row is None:
            return None
        if self.pipeline is not None and row[1] != self.pipeline:
            self.pipeline_changed += 1
            return None
        return row[0]

    @_coded
    def unchanged_by_stat(
        self, root: str, files: Sequence[tuple[str, FileStat]]
    ) -> dict[str, tuple[str, tuple[Finding, ...]]]:
        """Of ``files`` (``(rel_path, (size, mtime_ns, inode))`` under ``root``), those whose
        recorded size, modification time and inode are those given, with the document they
        made (still its latest version, present) made by this run's pipeline: ``rel_path ->
        (key, findings of that version)``. One query for all of them: re-ingest asks this for
        every file, so a query per file would be most of an unchanged run's time.

        A file not in the answer is hashed as before (:meth:`known_unchanged`).
        """
        self._check_open()
        found: dict[str, tuple[str, tuple[Finding, ...]]] = {}
        wanted = dict(files)
        rels = list(wanted)
        for start in range(0, len(rels), _LOOKUP_CHUNK):
            chunk = rels[start : start + _LOOKUP_CHUNK]
            rows = self._conn.execute(
                "SELECT s.rel_path, s.file_size, s.file_mtime_ns, s.file_inode, s.pipeline, "
                "d.key, v.findings FROM sources s JOIN documents d ON d.id = s.doc_id "
                "JOIN versions v ON v.doc_id = d.id AND v.n = d.latest "
                "WHERE s.root = ? AND d.state = 'present' AND d.content_hash = s.content_hash "
                f"AND s.file_size IS NOT NULL AND s.rel_path IN ({', '.join('?' * len(chunk))})",
                (self._root(root), *chunk),
            )
            for rel, size, mtime_ns, inode, pipeline, key, findings in rows:
                if (size, mtime_ns, inode) != wanted[rel]:
                    continue
                if self.pipeline is not None and pipeline != self.pipeline:
                    continue  # hashed next, and counted there as run again for the pipeline
                parsed = self._parsed_findings.get(findings)
                if parsed is None:
                    parsed = tuple(findings_from_json(findings))
                    if len(self._parsed_findings) < 1024:
                        self._parsed_findings[findings] = parsed
                found[rel] = (key, parsed)
        return found

    @_coded
    def recorded(self, root: str, rels: Sequence[str]) -> set[str]:
        """Of ``rels`` under ``root``, those the store holds a source for: the others are new
        files, which need not be read before they are processed (nothing to compare)."""
        self._check_open()
        found: set[str] = set()
        for start in range(0, len(rels), _LOOKUP_CHUNK):
            chunk = rels[start : start + _LOOKUP_CHUNK]
            found.update(
                rel
                for (rel,) in self._conn.execute(
                    "SELECT rel_path FROM sources WHERE root = ? "
                    f"AND rel_path IN ({', '.join('?' * len(chunk))})",
                    (self._root(root), *chunk),
                )
            )
        return found

    def previous_pipeline(self) -> str | None:
        """The pipeline fingerprint of the last run before this one (None if none or unknown)."""
        row = self._conn.execute(
            "SELECT pipeline FROM runs WHERE id < ? ORDER BY id DESC LIMIT 1", (self.run_id,)
        ).fetchone()
        return row[0] if row else None

    @_coded
    def findings_of(self, key: str) -> list[Finding]:
        """The findings stored with the latest version of ``key`` (a skipped file keeps them)."""
        row = self._conn.execute(
            "SELECT v.findings FROM documents d JOIN versions v ON v.doc_id = d.id "
            "AND v.n = d.latest WHERE d.key = ?",
            (key,),
        ).fetchone()
        return list(findings_from_json(row[0])) if row else []

    @_coded
    def record_unchanged(
        self, root: str, rel_path: str, key: str, *, stat: FileStat | None = None
    ) -> None:
        """Count a file skipped by :meth:`known_unchanged` as unchanged and seen in this run;
        ``stat`` is its ``(size, mtime_ns, inode)`` (see :meth:`unchanged_by_stat`)."""
        self._check_open()
        if stat is None:
            self._conn.execute(
                "UPDATE sources SET last_run = ?, present = 1 WHERE root = ? AND rel_path = ?",
                (self.run_id, self._root(root), rel_path),
            )
        else:
            self._conn.execute(
                "UPDATE sources SET last_run = ?, present = 1, file_size = ?, file_mtime_ns = ?,"
                " file_inode = ? WHERE root = ? AND rel_path = ?",
                (self.run_id, *stat, self._root(root), rel_path),
            )
        self.counts[UNCHANGED] += 1
        self._tick()

    @_coded
    def record(
        self,
        root: str,
        result: FileResult,
        *,
        any_version: bool = False,
        stat: FileStat | None = None,
    ) -> str:
        """Record one processed file; returns ``new``, ``changed``, ``unchanged`` or ``rejected``.

        A rejected file adds no version: it goes into the run's file log with its findings, and
        a document it made before stays as it was (present, at its last good version). With
        ``any_version`` (a record of an archive), a source whose bytes and content are those
        it last recorded is unchanged even when the document has moved on since (a later
        capture): re-reading it (``--force``) must not add an old version on top.
        """
        self._check_open()
        root_key = self._root(root)
        rel = result.path
        version = None if result.status == REJECTED else self._prepared(result)
        if version is None:
            self._conn.execute(
                "UPDATE sources SET last_run = ? WHERE root = ? AND rel_path = ?",
                (self.run_id, root_key, rel),
            )
            self._log(root_key, rel, result.document_key, REJECTED, None, result)
            self.counts[REJECTED] += 1
            self._tick()
            return REJECTED
        content_hash = version.content_hash
        if any_version and version.source_sha256 is not None:
            same = self._conn.execute(
                "SELECT 1 FROM sources s JOIN documents d ON d.id = s.doc_id WHERE s.root = ? "
                "AND s.rel_path = ? AND s.sha256 = ? AND s.content_hash = ? AND d.key = ? "
                "AND d.state = 'present'",
                (root_key, rel, version.source_sha256, content_hash, version.key),
            ).fetchone()
            if same is not None:
                self.record_unchanged(root, rel, version.key, stat=stat)
                return UNCHANGED
        outcome, doc_id, n = self._add_version(root_key, rel, version, result)
        before = self._conn.execute(
            "SELECT doc_id FROM sources WHERE root = ? AND rel_path = ?", (root_key, rel)
        ).fetchone()
        if before is not None and before[0] != doc_id:
            self._orphans.add(before[0])  # the file now makes another key (a plugin changed)
        self._conn.execute(
            "INSERT INTO sources (root, rel_path, doc_id, sha256, content_hash, last_run, present,"
            " pipeline, file_size, file_mtime_ns, file_inode) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?,"
            " ?) ON CONFLICT (root, rel_path) DO UPDATE SET "
            "doc_id = excluded.doc_id, sha256 = excluded.sha256, "
            "content_hash = excluded.content_hash, last_run = excluded.last_run, present = 1, "
            "pipeline = excluded.pipeline, file_size = excluded.file_size, "
            "file_mtime_ns = excluded.file_mtime_ns, file_inode = excluded.file_inode",
            (root_key, rel, doc_id, version.source_sha256, content_hash, self.run_id)
            + (self.pipeline,)
            + (stat or (None, None, None)),
        )
        if outcome != UNCHANGED:
            self._log(root_key, rel, version.key, outcome, n, result)
        self.counts[outcome] += 1
        self._tick()
        return outcome

    def _prepared(self, result: FileResult) -> PreparedVersion | None:
        """The result's version as the store keeps it: made by the worker that processed the
        file (``result.version``), or here from the document (None when there is neither)."""
        version = result.version
        if version is None:
            if result.document is None:
                return None
            version = prepare_version(result.document, self._encoder)
        else:
            needs = payload.dictionary_of(version.payload)
            if needs and needs not in self._dict_ids:  # it could never be read back
                raise StoreError(
                    f"the version of {version.key!r} was compressed with zstd dictionary "
                    f"{needs}, which this store does not hold",
                    code="STORE_ERROR",
                )
        if self._samples is not None:  # a new store: it learns from its first versions
            self._samples.append(version)
            if len(self._samples) >= payload.DICT_SAMPLES:
                self._learn()
                # Committed with this record, not at the batch's end, so that workers
                # preparing versions find the dictionary at once.
                self._commit_soon = True
        return version

    def _add_version(
        self, root: str, rel: str, version: PreparedVersion, result: FileResult
    ) -> tuple[str, int, int]:
        """Add a version when the content is new; returns (outcome, document id, version)."""
        row = self._conn.execute(
            "SELECT id, state, latest, content_hash FROM documents WHERE key = ?",
            (version.key,),
        ).fetchone()
        now = now_stamp()
        if row is not None and row[1] == "present" and row[3] == version.content_hash:
            # Processed again (a changed pipeline, --force): its findings are now the ones a
            # later run that skips the file reports.
            self._conn.execute(
                "UPDATE versions SET findings = ? WHERE doc_id = ? AND n = ?",
                (_findings_json(result), row[0], row[2]),
            )
            return UNCHANGED, row[0], row[2]
        # A capture (a WARC record) is dated by when it was captured, not when it was ingested.
        created = captured_stamp(version.captured) or now
        summary = None  # version 1 has none: `corpus log` says "first version"
        if row is None:
            outcome, n = NEW, 1
            doc_id = int(
                self._conn.execute(
                    "INSERT INTO documents (key, state, latest, content_hash, title, date, root, "
                    "rel_path, first_seen, updated) VALUES (?, 'present', 1, ?, ?, ?, ?, ?, ?, ?)",
                    (version.key, version.content_hash, version.title, version.date, root, rel)
                    + (now, now),
                ).lastrowid
            )
        else:
            doc_id, n = row[0], row[2] + 1
            outcome = NEW if row[1] == "removed" else CHANGED  # a removed document came back
            previous = self._conn.execute(
                "SELECT document FROM versions WHERE doc_id = ? AND n = ?", (doc_id, n - 1)
            ).fetchone()
            if previous is not None:
                summary = self._summary(previous[0], version.payload)
                self._index.append(("delete", doc_id, *payload.search_text(previous[0])))
            self._conn.execute(
                "UPDATE documents SET state = 'present', latest = ?, content_hash = ?, title = ?, "
                "date = ?, root = ?, rel_path = ?, updated = ?, removed_at = NULL WHERE id = ?",
                (n, version.content_hash, version.title, version.date, root, rel, now, doc_id),
            )
        self._conn.execute(
            "INSERT INTO versions (doc_id, n, run_id, created, content_hash, source_sha256, "
            "size, document, findings, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                doc_id,
                n,
                self.run_id,
                created,
                version.content_hash,
                version.source_sha256,
                version.source_size,
                version.payload,
                _findings_json(result),
                summary,
            ),
        )
        self._index.append(("insert", doc_id, version.title, version.body_text))
        if self._pairs is not None:
            made = version.signature  # by the worker, when it knew the common words
            if made is None:
                made = self._pairs.packed(version.title, version.body_text)
            self._signatures.append((doc_id, *pairs.unpack(made)))
        return outcome, doc_id, n

    def _learn(self) -> None:
        """What a store learns from its first versions: a zstd dictionary to compress later
        ones with, and its common words (each document's signature is stored from now on)."""
        samples, self._samples = self._samples or [], None
        if not self._dict_ids:
            self._train([version.text.encode("utf-8") for version in samples])
        if self._pairs is None:  # signs the documents recorded so far, too
            self._pairs = pairs.save_common(self._conn, ((v.title, v.body_text) for v in samples))

    def _train(self, samples: list[bytes]) -> None:
        """Train the store's dictionary on ``samples``; later versions are compressed with it."""
        trained = payload.train_dictionary(samples)
        if trained is None:
            return
        dict_id = payload.register_dictionary(trained)
        self._conn.execute(
            "INSERT OR IGNORE INTO dictionaries (dict_id, data, created) VALUES (?, ?, ?)",
            (dict_id, trained, now_stamp()),
        )
        self._dict_ids.append(dict_id)
        self._encoder = payload.Encoder(dict_id)

    def _summary(self, previous: bytes | str, new: bytes) -> str | None:
        """What changed from the ``previous`` version to the new one (both stored payloads).

        Both sides are parsed from their stored JSON, as ``corpus log`` would parse them, so
        the stored line is the one it would work out. Any failure gives None, never a lost
        version: ``log`` then works the line out when asked.
        """
        from .summary import engine_summary  # loads the diff engine on the first change only

        try:
            old, new = document_from_stored(previous), document_from_stored(new)
        except Exception:
            return None
        return engine_summary(old, new)

    def _log(
        self,
        root: str,
        rel: str,
        key: str | None,
        outcome: str,
        version: int | None,
        result: FileResult | None,
    ) -> None:
        self._conn.execute(
            "INSERT INTO file_log (run_id, root, rel_path, key, outcome, version, findings) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                self.run_id,
                root,
                rel,
                key,
                outcome,
                version,
                _findings_json(result) if result is not None else "[]",
            ),
        )

    def _tick(self) -> None:
        self._pending += 1
        if self._pending >= BATCH_SIZE or self._commit_soon:
            self._commit()
            self._conn.execute("BEGIN IMMEDIATE")

    def _flush_index(self) -> None:
        # In order (a changed document's old text leaves before its new text comes in), one
        # statement per run of the same kind: a first ingest is one executemany per batch.
        for what, group in itertools.groupby(self._index, key=operator.itemgetter(0)):
            self._conn.executemany(_INDEX_SQL[what], (values[1:] for values in group))
        self._index.clear()
        # A document changed twice in a batch: its last signature stays (OR REPLACE).
        self._conn.executemany(pairs.STORE_SQL, self._signatures)
        self._signatures.clear()

    def _commit(self) -> None:
        self._flush_index()
        self._write_counts()
        self._conn.execute("COMMIT")
        self._pending = 0
        self._commit_soon = False
        self._committed = dict(self.counts)

    def _write_counts(self, **extra: Any) -> None:
        sets = ", ".join(f"n_{name} = :{name}" for name in OUTCOMES)
        more = "".join(f", {name} = :{name}" for name in extra)
        self._conn.execute(
            f"UPDATE runs SET {sets}{more} WHERE id = :id",
            {**self.counts, **extra, "id": self.run_id},
        )

    def _check_open(self) -> None:
        if self.finished:
            raise StoreError(f"run {self.run_id} is already finished", code="STORE_ERROR")

    # -- finishing -------------------------------------------------------------------------

    @_coded
    def finish(self, *, interrupted: bool = False) -> dict[str, int]:
        """Close the run: tombstone what was not seen (unless interrupted), record the end.

        Returns the counts ``new``, ``changed``, ``unchanged``, ``removed``, ``rejected``.
        """
        if self.finished:
            return dict(self.counts)
        try:
            if not interrupted and self.tombstones:
                self._tombstone()
            self._flush_index()
            self._write_counts(
                finished=now_stamp(), status="interrupted" if interrupted else "finished"
            )
            self._conn.execute("COMMIT")
        except BaseException:
            self._mark_failed()  # the tombstones and the end were not recorded
            raise
        finally:
            self._end()
        return dict(self.counts)

    def fail(self) -> dict[str, int]:
        """Close the run as ``failed``: the batch in progress is undone, nothing is tombstoned.

        A run that stopped on an error (a full disk, an unwritable folder, a bug) did not see
        every file, so it must not mark the unseen ones removed. Batches it committed before
        are kept, as after ``kill -9``: each is a consistent set of real versions. When even
        the status cannot be written (the disk is still full), the run stays ``running`` and
        the next run marks it ``abandoned``. Returns the counts that were kept.
        """
        if self.finished:
            return dict(self.counts)
        try:
            self._mark_failed()
        finally:
            self._end()
        return dict(self.counts)

    def _end(self) -> None:
        """The run is over: give back the store's lock and the signature maker's own
        in-memory database (a connection left to the collector warns on newer Pythons)."""
        self.finished = True
        self._lock.release()
        if self._pairs is not None:
            self._pairs.close()

    def _mark_failed(self) -> None:
        """Undo the open batch and record the run as failed, if the store still can."""
        try:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            self._index.clear()
            self._signatures.clear()
            self._orphans.clear()
            self.counts = dict(self._committed)
            self._conn.execute("BEGIN IMMEDIATE")
            self._write_counts(finished=now_stamp(), status="failed")
            self._conn.execute("COMMIT")
        except sqlite3.Error:
            if self._conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")

    def _tombstone(self) -> None:
        """Mark sources under this run's roots that it did not see as gone, and documents left
        with no source as removed."""
        gone: set[int] = set(self._orphans)
        for where, params in self._scopes:
            cond = f"WHERE present = 1 AND last_run <> ? AND ({where})"
            args = (self.run_id, *params)
            gone.update(
                d for (d,) in self._conn.execute(f"SELECT doc_id FROM sources {cond}", args)
            )
            self._conn.execute(f"UPDATE sources SET present = 0 {cond}", args)
        now = now_stamp()
        for doc_id in sorted(gone):
            row = self._conn.execute(
                "SELECT key, latest, root, rel_path FROM documents WHERE id = ? AND state = "
                "'present' AND NOT EXISTS (SELECT 1 FROM sources WHERE doc_id = ? AND present = 1)",
                (doc_id, doc_id),
            ).fetchone()
            if row is None:
                continue
            key, latest, root, rel = row
            self._conn.execute(
                "UPDATE documents SET state = 'removed', removed_at = ?, updated = ? WHERE id = ?",
                (now, now, doc_id),
            )
            self._conn.execute(
                "INSERT OR IGNORE INTO removals (doc_id, after_version, run_id, removed_at) "
                "VALUES (?, ?, ?, ?)",
                (doc_id, latest, self.run_id, now),
            )
            self._log(root or "", rel or "", key, REMOVED, latest, None)
            self.counts[REMOVED] += 1

    def __enter__(self) -> IngestRun:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if self.finished:
            return
        if exc_type is None:
            self.finish()
        elif issubclass(exc_type, KeyboardInterrupt):
            self.finish(interrupted=True)
        else:
            self.fail()


def _scope(root: str | os.PathLike[str]) -> tuple[str, tuple[str, ...]]:
    """The SQL condition selecting the sources a root covers (a folder, or a single file)."""
    real = os.path.realpath(root)
    if os.path.isdir(real):
        return "root = ?", (real,)
    parent, name = os.path.split(real)
    return "root = ? OR (root = ? AND rel_path = ?)", (real, parent, name)


def _busy_message(store: Store) -> str:
    try:
        active = store.active_run()
    except sqlite3.Error:
        active = None
    what = f"run {active.id}, started {short(active.started)}" if active else "a run starting"
    return (
        f"another ingest is writing to {store.path} ({what}); waited "
        f"{store.busy_timeout:g} s. Run again when it has finished"
    )

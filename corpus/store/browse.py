"""Read-only access to a store, and the browsing queries the web view needs.

``corpus serve`` (and ``datasette corpus.db``) must never write the store: not a migration,
not a journal-mode switch. :func:`open_read_only` opens the file with SQLite's ``mode=ro`` and
refuses, rather than migrates, a store of another schema version; :func:`read_only_view` wraps a
read-only connection someone else opened (Datasette's) in a :class:`Store`, so the pages read
through the same library API as the commands.

The queries here read only the metadata columns of ``documents``, ``versions``, ``runs`` and
``file_log``; documents themselves are loaded with :meth:`Store.version`, whatever form the
stored payload takes.
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
from collections.abc import Sequence
from typing import Any

import attrs

from ..errors import StoreError
from ..model import Finding
from .payload import register_dictionaries
from .records import DocumentInfo, VersionInfo, findings_from_json
from .schema import APPLICATION_ID, SCHEMA_VERSION, newer_schema, user_tables
from .store import CHECK_ADVICE, REQUIRED_TABLES, Store

_VERSION_COLUMNS = (
    "d.key, v.n, v.run_id, v.created, v.content_hash, v.source_sha256, v.size, v.findings, "
    "v.summary"
)
_DOC_COLUMNS = (
    "d.key, d.state, d.latest, d.title, d.date, d.first_seen, d.updated, d.removed_at, d.root, "
    "d.rel_path"
)


@attrs.frozen
class ChangedVersion:
    """A version as a list of changes shows it: the version, and its document's title and state."""

    version: VersionInfo
    title: str
    state: str


@attrs.frozen
class LoggedFile:
    """One line of a run's file log: a file that was new, changed, removed or rejected."""

    root: str
    rel_path: str
    key: str | None
    outcome: str
    version: int | None
    findings: tuple[Finding, ...] = attrs.field(converter=tuple)


def read_only_uri(path: str) -> str:
    """The SQLite URI that opens ``path`` read only (its name quoted: `?` and `#` are kept)."""
    return "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro"


def _unreadable(path: str, exc: BaseException) -> StoreError:
    return StoreError(
        f"{path} is not a readable corpus store ({exc}); restore it from a backup or give "
        "another --store path",
        code="STORE_CORRUPT",
    )


def check_readable(conn: sqlite3.Connection, path: str) -> None:
    """Refuse a file that is not a corpus store of this schema version (never migrate it)."""
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        found = conn.execute("PRAGMA user_version").fetchone()[0]
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    except sqlite3.OperationalError as exc:
        if "unable to open" not in str(exc):
            raise _unreadable(path, exc) from None
        # The file is there (checked before): SQLite could not open it, or could not make the
        # -shm file it keeps beside a store in WAL mode (a read-only folder or medium).
        raise StoreError(
            f"cannot open {path} ({exc}): check that it, and {path}-shm beside it, can be "
            "opened; a store on a read-only folder or medium must be copied somewhere writable",
            code="STORE_ERROR",
        ) from None
    except sqlite3.DatabaseError as exc:
        raise _unreadable(path, exc) from None
    if app_id != APPLICATION_ID:
        raise StoreError(
            f"{path} is not a corpus store (SQLite application_id {app_id}); give another "
            "--store path",
            code="STORE_SCHEMA",
        )
    if found > SCHEMA_VERSION:
        raise newer_schema(path, found)
    if found < SCHEMA_VERSION:
        raise StoreError(
            f"{path} has store schema version {found}; this corpus reads {SCHEMA_VERSION}. "
            f"Upgrade it once with `corpus stats --store {path}` (reading it here never writes)",
            code="STORE_SCHEMA",
        )
    missing = sorted(set(REQUIRED_TABLES) - set(user_tables(conn)))
    if missing:  # as Store.open says it: every page would fail on it later
        raise StoreError(
            f"{path} is damaged: table {', '.join(missing)} is missing: {CHECK_ADVICE}",
            code="STORE_CORRUPT",
        )


def is_corpus_store(path: str) -> bool:
    """Whether ``path`` is an SQLite file marked as a corpus store (any schema version)."""
    try:
        conn = sqlite3.connect(read_only_uri(path), uri=True)
    except sqlite3.Error:
        return False
    try:
        return conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    except sqlite3.Error:
        return False
    finally:
        conn.close()


def open_read_only(path: str | os.PathLike[str], *, busy_timeout: float = 5.0) -> Store:
    """Open an existing store read-only (``mode=ro``): no migration, no write, ever.

    Raises :class:`StoreError`: ``STORE_MISSING``, ``STORE_CORRUPT`` (not SQLite, or damaged),
    ``STORE_SCHEMA`` (not a corpus store, or another schema version).
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise StoreError(f"{path} is a folder; --store wants a file", code="STORE_ERROR")
    if not os.path.exists(path):
        raise StoreError(
            f"no store at {path}; run `corpus ingest SOURCES --store {path}` first, "
            "or point --store / CORPUS_STORE at an existing store",
            code="STORE_MISSING",
        )
    try:
        conn = sqlite3.connect(
            read_only_uri(path), uri=True, timeout=busy_timeout, isolation_level=None,
            check_same_thread=False,
        )  # fmt: skip
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the store {path}: {exc}", code="STORE_ERROR") from exc
    try:
        check_readable(conn, path)
        register_dictionaries(conn)
    except BaseException:
        conn.close()
        raise
    return Store(conn, path, busy_timeout)


def read_only_view(conn: sqlite3.Connection, path: str) -> Store:
    """A :class:`Store` over a connection opened read-only elsewhere (do not close it here)."""
    register_dictionaries(conn)
    return Store(conn, path, 0.0)


def _version(row: Sequence[Any]) -> VersionInfo:
    return VersionInfo(*row[:7], findings=findings_from_json(row[7]), summary=row[8])


def recently_updated(store: Store, *, limit: int = 20) -> list[DocumentInfo]:
    """The documents changed (or removed) most recently, newest first."""
    rows = store.connection.execute(
        f"SELECT {_DOC_COLUMNS} FROM documents d ORDER BY d.updated DESC, d.id DESC LIMIT ?",
        (limit,),
    )
    return [DocumentInfo(*row) for row in rows]


def recent_versions(
    store: Store,
    *,
    key: str | None = None,
    changes_only: bool = True,
    limit: int = 50,
) -> list[ChangedVersion]:
    """Versions newest first (of one document when ``key``); ``changes_only``: N > 1."""
    where = ["v.n > 1"] if changes_only else []
    params: list[Any] = []
    if key is not None:
        where.append("d.key = ?")
        params.append(key)
    clause = f"WHERE {' AND '.join(where)} " if where else ""
    rows = store.connection.execute(
        f"SELECT {_VERSION_COLUMNS}, d.title, d.state FROM versions v "
        f"JOIN documents d ON d.id = v.doc_id {clause}ORDER BY v.id DESC LIMIT ?",
        (*params, limit),
    )
    return [ChangedVersion(_version(row[:9]), row[9], row[10]) for row in rows]


def run_files(
    store: Store, run_id: int, *, outcome: str | None = None, limit: int = 1000
) -> list[LoggedFile]:
    """What run ``run_id`` changed: its file log (new, changed, removed, rejected), in order.

    ``outcome``: only the files with that outcome. Raises :class:`NotFound` for an unknown run.
    """
    store.run(run_id)
    where = "run_id = ?" + (" AND outcome = ?" if outcome else "")
    params = (run_id, outcome) if outcome else (run_id,)
    rows = store.connection.execute(
        "SELECT root, rel_path, key, outcome, version, findings FROM file_log "
        f"WHERE {where} ORDER BY id LIMIT ?",
        (*params, limit),
    )
    return [LoggedFile(*row[:5], findings=findings_from_json(row[5])) for row in rows]


def has_document(store: Store, key: str) -> bool:
    """Whether the store knows ``key`` (present or removed)."""
    row = store.connection.execute("SELECT 1 FROM documents WHERE key = ?", (key,)).fetchone()
    return row is not None

"""The store's schema and its migration path.

``PRAGMA user_version`` holds the schema version and ``PRAGMA application_id`` marks the file
as a corpus store. Opening a store runs every migration step between its version and
:data:`SCHEMA_VERSION` in one transaction; a newer or foreign database is refused with
``STORE_SCHEMA``. To change the schema, append a step to :data:`MIGRATIONS`, never edit one.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable

from ..errors import StoreError

#: ``PRAGMA application_id`` of a corpus store: the bytes ``ncsp`` (newscorpus store).
APPLICATION_ID = int.from_bytes(b"ncsp", "big")

_V1 = """
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    started     TEXT NOT NULL,
    finished    TEXT,
    status      TEXT NOT NULL
                CHECK (status IN ('running', 'finished', 'interrupted', 'abandoned')),
    roots       TEXT NOT NULL,
    arguments   TEXT NOT NULL,
    pid         INTEGER,
    host        TEXT,
    n_new       INTEGER NOT NULL DEFAULT 0,
    n_changed   INTEGER NOT NULL DEFAULT 0,
    n_unchanged INTEGER NOT NULL DEFAULT 0,
    n_removed   INTEGER NOT NULL DEFAULT 0,
    n_rejected  INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE documents (
    id           INTEGER PRIMARY KEY,
    key          TEXT NOT NULL UNIQUE,
    state        TEXT NOT NULL CHECK (state IN ('present', 'removed')),
    latest       INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    title        TEXT NOT NULL,
    date         TEXT,
    root         TEXT,
    rel_path     TEXT,
    first_seen   TEXT NOT NULL,
    updated      TEXT NOT NULL,
    removed_at   TEXT
);
CREATE INDEX documents_updated ON documents (updated);
CREATE TABLE versions (
    id            INTEGER PRIMARY KEY,
    doc_id        INTEGER NOT NULL REFERENCES documents (id),
    n             INTEGER NOT NULL,
    run_id        INTEGER NOT NULL REFERENCES runs (id),
    created       TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    source_sha256 TEXT,
    size          INTEGER NOT NULL,
    document      TEXT NOT NULL,
    findings      TEXT NOT NULL,
    UNIQUE (doc_id, n)
);
CREATE TABLE removals (
    id            INTEGER PRIMARY KEY,
    doc_id        INTEGER NOT NULL REFERENCES documents (id),
    after_version INTEGER NOT NULL,
    run_id        INTEGER NOT NULL REFERENCES runs (id),
    removed_at    TEXT NOT NULL,
    UNIQUE (doc_id, after_version)
);
CREATE TABLE sources (
    root         TEXT NOT NULL,
    rel_path     TEXT NOT NULL,
    doc_id       INTEGER NOT NULL REFERENCES documents (id),
    sha256       TEXT,
    content_hash TEXT,
    last_run     INTEGER NOT NULL,
    present      INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (root, rel_path)
) WITHOUT ROWID;
CREATE INDEX sources_doc ON sources (doc_id);
CREATE TABLE file_log (
    id       INTEGER PRIMARY KEY,
    run_id   INTEGER NOT NULL REFERENCES runs (id),
    root     TEXT NOT NULL,
    rel_path TEXT NOT NULL,
    key      TEXT,
    outcome  TEXT NOT NULL,
    version  INTEGER,
    findings TEXT NOT NULL
);
CREATE INDEX file_log_run ON file_log (run_id);
"""

_V2 = """
CREATE VIRTUAL TABLE search USING fts5 (title, body, tokenize = 'unicode61 remove_diacritics 2');
"""


def _to_v1(conn: sqlite3.Connection) -> None:
    """Runs, documents, versions, removals (tombstones), sources and the per-run file log."""
    _script(conn, _V1)


def _to_v2(conn: sqlite3.Connection) -> None:
    """The full-text index over each document's latest title and body, filled from the rows."""
    _script(conn, _V2)
    _fill_search(conn)


def _fill_search(conn: sqlite3.Connection) -> None:
    rows = conn.execute(
        "SELECT d.id, v.document FROM documents d "
        "JOIN versions v ON v.doc_id = d.id AND v.n = d.latest"
    )
    from .payload import search_text  # local: the codec loads only when there are rows

    conn.executemany(
        "INSERT INTO search (rowid, title, body) VALUES (?, ?, ?)",
        ((doc_id, *search_text(stored)) for doc_id, stored in rows),
    )


_V3 = """
DROP TABLE search;
CREATE VIRTUAL TABLE search USING fts5 (
    title, body, tokenize = 'porter unicode61 remove_diacritics 2'
);
"""


def _to_v3(conn: sqlite3.Connection) -> None:
    """A stemmed full-text index (``vote`` finds ``voted``), rebuilt from the latest versions."""
    _script(conn, _V3)
    _fill_search(conn)


_V4 = """
ALTER TABLE versions ADD COLUMN summary TEXT;
"""


def _to_v4(conn: sqlite3.Connection) -> None:
    """Each version's one-line change summary, stored at ingest so ``corpus log`` needs no diff.

    Versions already stored keep NULL (``log`` works theirs out when asked): diffing every
    version here would make opening a large store slow.
    """
    _script(conn, _V4)


def _to_v5(conn: sqlite3.Connection) -> None:
    """Runs may end ``failed``: a run that stopped on an error tombstones nothing.

    SQLite cannot alter a CHECK constraint, so the runs table is rebuilt from its own stored
    definition (whatever columns other steps added), keeping every row and id. Other tables
    reference runs: with foreign keys on, dropping the old table counts their rows as deferred
    violations, and inserting the same ids into the new table counts them off again.
    """
    (sql,) = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'runs'"
    ).fetchone()
    widened = re.sub(r"('abandoned')(\s*\))", r"\1, 'failed'\2", sql, count=1)
    if widened == sql:
        raise sqlite3.DatabaseError("the runs table has no status check this step knows")
    create = re.sub(r"^CREATE TABLE\s+\"?runs\"?", "CREATE TABLE runs_v5", widened, count=1)
    conn.execute("PRAGMA defer_foreign_keys = ON")  # reset by SQLite at commit
    conn.execute("CREATE TEMP TABLE runs_copy AS SELECT * FROM main.runs")
    conn.execute(create)
    conn.execute("DROP TABLE main.runs")
    conn.execute("ALTER TABLE runs_v5 RENAME TO runs")
    conn.execute("INSERT INTO main.runs SELECT * FROM temp.runs_copy")
    conn.execute("DROP TABLE temp.runs_copy")


_V6 = """
DROP TABLE search;
CREATE VIRTUAL TABLE search USING fts5 (
    title, body, content = '', tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TABLE dictionaries (
    id      INTEGER PRIMARY KEY,
    dict_id INTEGER NOT NULL UNIQUE,
    data    BLOB NOT NULL,
    created TEXT NOT NULL
);
"""

#: Versions compressed per statement batch while migrating to version 6.
_V6_BATCH = 500


def _to_v6(conn: sqlite3.Connection) -> None:
    """Compact stores: version payloads compressed (zstd, with a dictionary trained on the
    store's first versions when it has enough), a full-text index without its own copy of the
    text (FTS5 contentless: search snippets are made from the shown documents).

    Payloads are compressed in batches by id, so memory stays flat on a large store. The pages
    freed stay in the file for later ingests to reuse; ``VACUUM`` gives them back to the disk.
    """
    from . import payload  # local: the codec loads only when a store is migrated

    _script(conn, _V6)
    samples = [
        text.encode("utf-8") if isinstance(text, str) else payload.decode(text).encode("utf-8")
        for (text,) in conn.execute(
            "SELECT document FROM versions ORDER BY id LIMIT ?", (payload.DICT_SAMPLES,)
        )
    ]
    trained = payload.train_dictionary(samples) if len(samples) >= payload.DICT_SAMPLES else None
    encoder = payload.Encoder()
    if trained is not None:
        dict_id = payload.register_dictionary(trained)
        conn.execute(
            "INSERT INTO dictionaries (dict_id, data, created) "
            "VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            (dict_id, trained),
        )
        encoder = payload.Encoder(dict_id)
    del samples
    last = 0
    while True:
        rows = conn.execute(
            "SELECT id, document FROM versions WHERE id > ? ORDER BY id LIMIT ?",
            (last, _V6_BATCH),
        ).fetchall()
        if not rows:
            break
        conn.executemany(
            "UPDATE versions SET document = ? WHERE id = ?",
            [(encoder.encode(text), vid) for vid, text in rows if isinstance(text, str)],
        )
        last = rows[-1][0]
    _fill_search(conn)


_V7 = """
ALTER TABLE runs ADD COLUMN pipeline TEXT;
ALTER TABLE sources ADD COLUMN pipeline TEXT;
"""


def _to_v7(conn: sqlite3.Connection) -> None:
    """Pipeline fingerprints (plugins, versions, settings, formats): each run's, and, per
    source file, that of the pipeline that made its recorded version.

    Re-ingest skips an unchanged file only when its version was made by the pipeline now
    running. Sources recorded before this step have none, so they are processed once more.
    """
    _script(conn, _V7)


_V8 = """
DROP TABLE search;
CREATE VIRTUAL TABLE search USING fts5 (
    title, body, content = '', detail = column,
    tokenize = 'porter unicode61 remove_diacritics 2'
);
"""


def _to_v8(conn: sqlite3.Connection) -> None:
    """A full-text index without token positions (FTS5 ``detail=column``): about half the size
    of the one with them, and cheaper to write at ingest. It still knows which column a term
    is in (``title:word``, ranking titles first); phrases, ``NEAR`` and ``^`` are checked on
    the text of the candidate documents (:mod:`corpus.store.query`). Rebuilt from the latest
    versions.
    """
    from . import payload  # local: the codec loads only when a store is migrated

    for (data,) in conn.execute("SELECT data FROM dictionaries"):
        payload.register_dictionary(data)  # the versions read back may need one
    _script(conn, _V8)
    _fill_search(conn)


_V9 = """
ALTER TABLE sources ADD COLUMN file_size INTEGER;
ALTER TABLE sources ADD COLUMN file_mtime_ns INTEGER;
ALTER TABLE sources ADD COLUMN file_inode INTEGER;
"""


def _to_v9(conn: sqlite3.Connection) -> None:
    """Each source file's size, modification time (ns) and inode when last ingested.

    Re-ingest trusts a file whose three values are unchanged without reading it (as rsync and
    git do); any difference means it is hashed as before. Sources recorded before this step
    have none, so the next ingest hashes them once and records their values.
    """
    _script(conn, _V9)


_V10 = f"""
CREATE TABLE common_words (rank INTEGER PRIMARY KEY, stem TEXT NOT NULL UNIQUE);
CREATE TABLE pair_signatures (
    id INTEGER PRIMARY KEY,
    {", ".join(f"s{i} INTEGER NOT NULL" for i in range(32))}
);
"""


def _to_v10(conn: sqlite3.Connection) -> None:
    """A signature of the pairs of adjacent common words of each document's latest version,
    so that a phrase of common words is checked only on the documents whose signature holds
    its pairs (:mod:`corpus.store.pairs`). A store with enough documents chooses its common
    words now and signs every document; a smaller one does so when an ingest has seen enough.
    """
    from .pairs import choose_and_index  # local: loads only when a store is migrated

    _script(conn, _V10)
    choose_and_index(conn)


def _script(conn: sqlite3.Connection, sql: str) -> None:
    # executescript() would COMMIT the migration transaction; run statement by statement.
    for statement in sql.split(";"):
        if statement.strip():
            conn.execute(statement)


#: Step N turns a version N-1 store into a version N store.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _to_v1,
    2: _to_v2,
    3: _to_v3,
    4: _to_v4,
    5: _to_v5,
    6: _to_v6,
    7: _to_v7,
    8: _to_v8,
    9: _to_v9,
    10: _to_v10,
}
SCHEMA_VERSION = max(MIGRATIONS)


def user_tables(conn: sqlite3.Connection) -> list[str]:
    return [
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]


def _versions(conn: sqlite3.Connection) -> tuple[int, int]:
    return (
        conn.execute("PRAGMA user_version").fetchone()[0],
        conn.execute("PRAGMA application_id").fetchone()[0],
    )


def newer_schema(path: str, found: int) -> StoreError:
    """The error for a store written by a newer corpus (whoever opens it, however)."""
    return StoreError(
        f"{path} has store schema version {found}, newer than this corpus knows "
        f"({SCHEMA_VERSION}); upgrade newscorpus to read it",
        code="STORE_SCHEMA",
    )


def migrate(conn: sqlite3.Connection, path: str, *, target: int = SCHEMA_VERSION) -> int:
    """Bring the store at ``path`` up to schema ``target``; returns the version found.

    ``conn`` must be in autocommit mode (``isolation_level=None``). The check and every step
    run in one ``BEGIN IMMEDIATE`` transaction, so two processes opening a new store at once
    cannot both create it, and a crash part way leaves the old version intact.
    """
    found, app_id = _versions(conn)
    if found == target and app_id == APPLICATION_ID:
        return found  # the usual case: a plain read, so it never waits for a running ingest
    conn.execute("BEGIN IMMEDIATE")
    try:
        found, app_id = _versions(conn)
        if found == 0 and app_id == 0:
            if user_tables(conn):
                raise StoreError(
                    f"{path} is an SQLite database but not a corpus store; give another "
                    "--store path",
                    code="STORE_SCHEMA",
                )
        elif app_id != APPLICATION_ID:
            raise StoreError(
                f"{path} is an SQLite database of another application "
                f"(application_id {app_id}); give another --store path",
                code="STORE_SCHEMA",
            )
        if found > SCHEMA_VERSION:
            raise newer_schema(path, found)
        if found < 0 or (found == 0 and app_id == APPLICATION_ID):
            raise StoreError(
                f"{path} is damaged: its schema version record is {found}, which no corpus "
                "store has; restore the store from a backup, or re-ingest into a new store",
                code="STORE_CORRUPT",
            )
        for step in range(found + 1, target + 1):
            try:
                MIGRATIONS[step](conn)
            except sqlite3.Error as exc:
                raise StoreError(
                    f"{path} is damaged: it says schema version {found}, but its tables do "
                    f"not match ({exc}); restore the store from a backup, or re-ingest into "
                    "a new store",
                    code="STORE_CORRUPT",
                ) from exc
        if found < target:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {int(target)}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return found

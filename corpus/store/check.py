"""``corpus store check``: is the store intact, and which documents does damage touch?

SQLite's ``PRAGMA integrity_check`` says what is broken in its own terms (pages, indexes);
a user needs to know which documents to restore or re-ingest. So every stored version is also
read back, one document at a time, and the documents whose rows cannot be read or parsed are
named. Reading document by document keeps going past a damaged page.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

import attrs

from .pairs import PairMaker, read_common
from .records import document_from_stored, findings_from_json
from .schema import user_tables

if TYPE_CHECKING:  # pragma: no cover
    from .store import Store

#: At most this many lines of SQLite's integrity report are kept.
MAX_INTEGRITY_LINES = 100


@attrs.frozen
class Damage:
    """One document (or table) that cannot be read back, and why."""

    key: str
    version: int | None
    problem: str

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class CheckResult:
    """What ``corpus store check`` found; ``ok`` when nothing at all."""

    store: str
    integrity: tuple[str, ...]
    missing_tables: tuple[str, ...]
    damaged: tuple[Damage, ...]
    documents_checked: int

    @property
    def ok(self) -> bool:
        return self.integrity == ("ok",) and not self.missing_tables and not self.damaged

    def to_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "ok": self.ok,
            "integrity": list(self.integrity),
            "missing_tables": list(self.missing_tables),
            "damaged": [d.to_dict() for d in self.damaged],
            "documents_checked": self.documents_checked,
        }


def check_store(store: Store, required: tuple[str, ...]) -> CheckResult:
    """Run SQLite's integrity check and read every stored version back."""
    conn = store.connection
    try:
        rows = conn.execute(f"PRAGMA integrity_check({MAX_INTEGRITY_LINES})").fetchall()
        integrity = tuple(str(r[0]) for r in rows)
    except sqlite3.Error as exc:
        integrity = (f"integrity check failed: {exc}",)
    try:
        tables = set(user_tables(conn))
    except sqlite3.Error:
        tables = set()
    missing = tuple(t for t in required if t not in tables)
    damaged: list[Damage] = []
    checked = 0
    if "documents" not in missing:
        common = read_common(conn)
        signer = PairMaker(common) if common else None
        try:
            for doc_id, key in _documents(conn, damaged):
                checked += 1
                damaged.extend(_check_document(conn, doc_id, key, signer))
        finally:
            if signer is not None:
                signer.close()
    return CheckResult(store.path, integrity, missing, tuple(damaged), checked)


def _documents(conn: sqlite3.Connection, damaged: list[Damage]) -> list[tuple[int, str]]:
    """(id, key) of every document; past a damaged page, found one id at a time."""
    try:
        return [(i, str(k)) for i, k in conn.execute("SELECT id, key FROM documents ORDER BY id")]
    except sqlite3.Error:
        pass
    highest = 0
    for sql in ("SELECT max(id) FROM documents", "SELECT max(doc_id) FROM versions"):
        try:
            highest = max(highest, conn.execute(sql).fetchone()[0] or 0)
        except sqlite3.Error:
            continue
    found = []
    for doc_id in range(1, highest + 1):
        try:
            row = conn.execute("SELECT key FROM documents WHERE id = ?", (doc_id,)).fetchone()
        except sqlite3.Error as exc:
            damaged.append(Damage(f"#{doc_id}", None, _short(f"its record cannot be read: {exc}")))
            continue
        if row is not None:
            found.append((doc_id, str(row[0])))
    return found


def _check_document(
    conn: sqlite3.Connection, doc_id: int, key: str, signer: PairMaker | None
) -> list[Damage]:
    try:
        rows = conn.execute(
            "SELECT n, document, findings FROM versions WHERE doc_id = ? ORDER BY n", (doc_id,)
        ).fetchall()
    except sqlite3.Error as exc:
        return [Damage(key, None, _short(f"its versions cannot be read: {exc}"))]
    found = []
    latest = None
    for n, text, findings in rows:
        try:
            latest = document_from_stored(text)
            findings_from_json(findings)
        except Exception as exc:  # whatever a damaged record makes the parser raise
            latest = None
            found.append(Damage(key, n, _short(f"{type(exc).__name__}: {exc}")))
    if not rows:
        found.append(Damage(key, None, "it has no stored versions"))
    elif signer is not None and latest is not None:
        found.extend(_check_signature(conn, doc_id, key, rows[-1][0], latest, signer))
    return found


def _check_signature(
    conn: sqlite3.Connection, doc_id: int, key: str, n: int, latest: Any, signer: PairMaker
) -> list[Damage]:
    """A wrong or missing pair signature (corpus.store.pairs) would make phrase searches
    miss the document without a word, so it is made again from the latest version."""
    try:
        row = conn.execute("SELECT * FROM pair_signatures WHERE id = ?", (doc_id,)).fetchone()
    except sqlite3.Error as exc:
        return [Damage(key, n, _short(f"its pair signature cannot be read: {exc}"))]
    if row is None:
        return [Damage(key, n, "it has no pair signature: phrase searches would miss it")]
    if tuple(row[1:]) != signer.signature(latest.title, latest.body_text):
        return [
            Damage(key, n, "its pair signature does not fit its text: phrase searches may miss it")
        ]
    return []


def _short(text: str, limit: int = 200) -> str:
    """A problem on one line: SQLite quotes whole damaged records in its messages."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."

"""The store: one SQLite file holding every version of every document, and the runs that saw them.

Readers (``ls``, ``show``, ``log``, ``search``, ``export``) use the query methods here; an
ingest writes through :meth:`Store.begin_run` (see :mod:`corpus.store.recorder`). The database
is in WAL mode, so readers work while an ingest writes.
"""

from __future__ import annotations

import functools
import heapq
import inspect
import itertools
import json
import math
import operator
import os
import re
import sqlite3
from collections.abc import Callable, Collection, Generator, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, CorpusError, NotFound, StoreError
from .pairs import phrase_bits, ranks_of, read_common, signature_join
from .payload import register_dictionaries
from .query import Analysis, analyse
from .records import (
    DocumentInfo,
    RemovalInfo,
    RunInfo,
    SearchHit,
    StoredVersion,
    VersionInfo,
    document_from_stored,
    findings_from_json,
    search_text,
)
from .schema import migrate, user_tables
from .snippets import make_snippets, matching

if TYPE_CHECKING:  # pragma: no cover
    from .check import CheckResult
    from .recorder import IngestRun

#: The store used when neither ``--store`` nor ``CORPUS_STORE`` names one.
DEFAULT_STORE = "corpus.db"
#: Environment variable naming the default store.
STORE_ENV = "CORPUS_STORE"

#: Page size of new stores. A compressed version is 1 to 3 KiB: with SQLite's default 4 KiB
#: pages most would take a page of their own (two do not fit), wasting a third of the file.
PAGE_SIZE = 16384

#: Page cache per connection, in KiB (fixed, so memory does not grow with the corpus).
CACHE_KIB = 32 * 1024

#: The largest version number SQLite can hold (a 64-bit signed integer).
MAX_VERSION = 2**63 - 1
#: What to do about a damaged store, in every STORE_CORRUPT message.
CHECK_ADVICE = (
    "`corpus store check` lists the damaged documents; restore the store from a backup, or "
    "re-ingest into a new store"
)
#: Tables every store has; a store without one of them is damaged.
REQUIRED_TABLES = ("runs", "documents", "versions", "removals", "sources", "file_log")

_VERSION_SPEC = re.compile(r"^(?P<key>.+)@(?P<n>\d+)$")
_DOC_COLUMNS = "key, state, latest, title, date, first_seen, updated, removed_at, root, rel_path"
_VERSION_COLUMNS = (
    "d.key, v.n, v.run_id, v.created, v.content_hash, v.source_sha256, v.size, v.findings, "
    "v.summary"
)


def default_store_path() -> str:
    """``$CORPUS_STORE``, or ``corpus.db`` in the current folder."""
    return os.environ.get(STORE_ENV) or DEFAULT_STORE


def parse_spec(spec: str) -> tuple[str, int | None]:
    """``KEY`` -> (KEY, None) for the latest version; ``KEY@N`` -> (KEY, N)."""
    match = _VERSION_SPEC.match(spec)
    if match:
        digits = match["n"]
        # Longer than any 64-bit number: no such version (and int() of 4,300+ digits raises).
        return match["key"], int(digits) if len(digits) <= 19 else MAX_VERSION + 1
    return spec, None


def store_error(exc: sqlite3.Error, path: str) -> StoreError:
    """The coded error for an SQLite failure on the store at ``path``."""
    text = str(exc)
    if "full" in text:  # SQLITE_FULL: "database or disk is full"
        return StoreError(
            f"{path}: the disk holding the store is full ({text}); free some space and run "
            "again (nothing after the last committed batch was recorded)",
            code="STORE_FULL",
        )
    if "locked" in text or "busy" in text:
        return StoreError(
            f"{path} stayed locked by another process; try again when it has finished",
            code="STORE_BUSY",
        )
    if isinstance(exc, sqlite3.DatabaseError) and (
        "not a database" in text or "malformed" in text or "corrupt" in text or "decode" in text
    ):
        return StoreError(
            f"{path} is damaged ({text}): {CHECK_ADVICE}, or give another --store path",
            code="STORE_CORRUPT",
        )
    return StoreError(f"cannot use the store {path}: {text}", code="STORE_ERROR")


#: Up to this many query terms, title matches stream tier by tier (Store._title_tiers):
#: one query per set of terms a title may hold, 2^n - 1 of them.
_TIERED_TERMS = 4


class Store:
    """An open store. Use :meth:`open`; close it (or use ``with``) when done."""

    def __init__(self, connection: sqlite3.Connection, path: str, busy_timeout: float) -> None:
        self.connection = connection
        self.path = path
        self.busy_timeout = busy_timeout
        self._run: IngestRun | None = None
        #: The ranks of the store's common words (read on the first phrase search once it
        #: has chosen them; they never change after).
        self._pair_ranks: dict[str, int] = {}

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        create: bool = True,
        busy_timeout: float = 30.0,
        check_tables: bool = True,
    ) -> Store:
        """Open (or create) the store at ``path``, migrating an older schema.

        Raises :class:`StoreError` with code ``STORE_MISSING`` (no store and ``create`` is
        false), ``STORE_SCHEMA`` (newer or foreign schema), ``STORE_CORRUPT`` or ``STORE_BUSY``.
        """
        path = os.fspath(path)
        if os.path.isdir(path):
            raise StoreError(f"{path} is a folder; --store wants a file", code="STORE_ERROR")
        if not os.path.exists(path):
            if not create:
                raise StoreError(
                    f"no store at {path}; run `corpus ingest SOURCES --store {path}` first, "
                    "or point --store / CORPUS_STORE at an existing store",
                    code="STORE_MISSING",
                )
            parent = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(parent):
                raise StoreError(
                    f"cannot create the store {path}: folder {parent} does not exist",
                    code="STORE_ERROR",
                )
        try:
            conn = sqlite3.connect(
                path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise store_error(exc, path) from exc
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            # Only a new, empty file takes it (WAL fixes the page size of an existing one).
            conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            # A batch of 500 versions is a few MiB: keep it in memory rather than spill early.
            conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            migrate(conn, path)
            if check_tables:
                missing = sorted(set(REQUIRED_TABLES) - set(user_tables(conn)))
                if missing:
                    raise StoreError(
                        f"{path} is damaged: table {', '.join(missing)} is missing: {CHECK_ADVICE}",
                        code="STORE_CORRUPT",
                    )
            register_dictionaries(conn)
        except StoreError:
            conn.close()
            raise
        except sqlite3.Error as exc:
            conn.close()
            raise store_error(exc, path) from exc
        return cls(conn, path, busy_timeout)

    def close(self) -> None:
        """Close the store; an unfinished run is finished as interrupted first."""
        if self._run is not None and not self._run.finished:
            self._run.finish(interrupted=True)
        self.connection.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------

    def begin_run(
        self, *, roots: Sequence[str], arguments: Sequence[str], pipeline: str | None = None
    ) -> IngestRun:
        """Start recording an ingest run; waits for (then refuses) a concurrent writer."""
        from .recorder import IngestRun

        if self._run is not None and not self._run.finished:
            raise StoreError(
                f"run {self._run.run_id} is still writing to {self.path}; finish it first",
                code="STORE_BUSY",
            )
        try:
            self._run = IngestRun.start(self, roots=roots, arguments=arguments, pipeline=pipeline)
        except sqlite3.Error as exc:
            raise store_error(exc, self.path) from exc
        return self._run

    # -- reading ---------------------------------------------------------------------------

    def schema_version(self) -> int:
        return self.connection.execute("PRAGMA user_version").fetchone()[0]

    def integrity_check(self) -> str:
        """``ok``, or SQLite's description of what is broken."""
        rows = self.connection.execute("PRAGMA integrity_check").fetchall()
        return "\n".join(r[0] for r in rows)

    def check(self) -> CheckResult:
        """SQLite's integrity check, and every stored version read back (``store check``)."""
        from .check import check_store

        return check_store(self, REQUIRED_TABLES)

    def _doc_row(self, key: str) -> tuple:
        row = self.connection.execute(
            f"SELECT id, {_DOC_COLUMNS} FROM documents WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            raise NotFound(
                f"no document {key!r} in the store {self.path}; `corpus ls` lists the keys",
                code="NOT_FOUND",
            )
        return row

    def document(self, key: str) -> DocumentInfo:
        """The document ``key`` (raises :class:`NotFound`)."""
        return DocumentInfo(*self._doc_row(key)[1:])

    def documents(self, *, since: str | None = None) -> Iterator[DocumentInfo]:
        """Every document, removed ones too, by key; ``since``: changed at or after then."""
        if since is None:
            cursor = self.connection.execute(f"SELECT {_DOC_COLUMNS} FROM documents ORDER BY key")
        else:
            cursor = self.connection.execute(
                f"SELECT {_DOC_COLUMNS} FROM documents WHERE updated >= ? ORDER BY key", (since,)
            )
        for row in cursor:
            yield DocumentInfo(*row)

    def versions(self, key: str) -> list[VersionInfo]:
        """Every version of ``key``, oldest first."""
        doc_id = self._doc_row(key)[0]
        rows = self.connection.execute(
            f"SELECT {_VERSION_COLUMNS} FROM versions v JOIN documents d ON d.id = v.doc_id "
            "WHERE v.doc_id = ? ORDER BY v.n",
            (doc_id,),
        )
        return [_version_info(row) for row in rows]

    def removals(self, key: str) -> list[RemovalInfo]:
        """The tombstones of ``key``, oldest first."""
        doc_id = self._doc_row(key)[0]
        rows = self.connection.execute(
            "SELECT after_version, run_id, removed_at FROM removals WHERE doc_id = ? "
            "ORDER BY removed_at",
            (doc_id,),
        )
        return [RemovalInfo(key, *row) for row in rows]

    def version(self, key: str, n: int | None = None) -> StoredVersion:
        """Version ``n`` of ``key`` (the latest when None), with its document."""
        row = self._doc_row(key)
        doc_id, latest = row[0], row[3]
        n = latest if n is None else n
        found = None
        if 0 < n <= MAX_VERSION:  # SQLite integers are 64-bit: larger numbers cannot exist
            found = self.connection.execute(
                f"SELECT {_VERSION_COLUMNS}, v.document FROM versions v "
                "JOIN documents d ON d.id = v.doc_id WHERE v.doc_id = ? AND v.n = ?",
                (doc_id, n),
            ).fetchone()
        if found is None:
            shown = n if n <= MAX_VERSION else "that large"  # parse_spec caps longer numbers
            raise NotFound(
                f"{key!r} has versions 1 to {latest}; there is no version {shown}",
                code="NOT_FOUND",
            )
        return _stored_version(found)

    def load(self, spec: str) -> StoredVersion:
        """The version named by ``KEY`` (latest) or ``KEY@N``."""
        key, n = parse_spec(spec)
        if n is not None and not self._has_key(key) and self._has_key(spec):
            key, n = spec, None  # a key that itself ends in @digits
        return self.version(key, n)

    def _has_key(self, key: str) -> bool:
        return (
            self.connection.execute("SELECT 1 FROM documents WHERE key = ?", (key,)).fetchone()
            is not None
        )

    def runs(self, *, limit: int | None = None) -> list[RunInfo]:
        """Ingest runs, newest first."""
        sql = (
            "SELECT id, started, finished, status, roots, arguments, n_new, n_changed, "
            "n_unchanged, n_removed, n_rejected FROM runs ORDER BY id DESC"
        )
        params: tuple[Any, ...] = ()
        if limit is not None:
            sql += " LIMIT ?"
            params = (limit,)
        return [_run_info(row) for row in self.connection.execute(sql, params)]

    def run(self, run_id: int) -> RunInfo:
        row = self.connection.execute(
            "SELECT id, started, finished, status, roots, arguments, n_new, n_changed, "
            "n_unchanged, n_removed, n_rejected FROM runs WHERE id = ?",
            (run_id,),
        ).fetchone()
        if row is None:
            raise NotFound(f"no run {run_id} in the store {self.path}", code="NOT_FOUND")
        return _run_info(row)

    def active_run(self) -> RunInfo | None:
        """The run marked as writing, if any (it may have died; see the writer lock)."""
        row = self.connection.execute(
            "SELECT id FROM runs WHERE status = 'running' ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return self.run(row[0]) if row else None

    def search(
        self,
        query: str,
        *,
        limit: int = 20,
        offset: int = 0,
        state: str | None = None,
        since: str | None = None,
    ) -> list[SearchHit]:
        """Documents whose latest title or body match the FTS5 ``query``, best first.

        Paged by ``limit`` and ``offset``; ``state`` (``present`` or ``removed``) and ``since``
        (updated at or after that time) filter. Snippets are made from the shown documents
        only (the index keeps no text; see :mod:`corpus.store.snippets`). Raises
        :class:`ConfigError` (code ``BAD_QUERY``) when the query is not valid FTS5.
        """
        if not query.strip():
            raise ConfigError("the search query is empty", code="BAD_QUERY")
        if state not in (None, "present", "removed"):
            raise ConfigError(f"unknown state {state!r}: present or removed", code="BAD_QUERY")
        join, params = "", {"q": query, "n": limit, "o": offset}
        if state is not None:
            join += " AND f.state = :state"
            params["state"] = state
        if since is not None:
            join += " AND f.updated >= :since"
            params["since"] = since
        if join:  # filters need the documents table; ranking alone does not
            join = f"JOIN documents f ON f.id = search.rowid{join}"
        analysis = analyse(query)
        try:
            if analysis.relaxed is not None:
                params["q"] = analysis.relaxed
                return self._search_checked(analysis, query, join, params, limit, offset)
            idf = self._idf(analysis.terms)
            rank = self._rank(analysis.terms, idf, params, body=analysis.alternatives)
            if analysis.terms and not analysis.alternatives:
                # Every match holds every word: those with one in the title first, the rest
                # tie, newest first, streamed from the index (no sort of every match).
                candidates = self._candidates(analysis, (rank, idf), join, params)
                try:
                    page = list(itertools.islice(candidates, offset, offset + limit))
                finally:
                    candidates.close()
                rows = self._fetch(page)
            else:
                rows = self._ranked_page(rank, join, params)
        except sqlite3.OperationalError as exc:
            error = self._query_error(query, exc)
            raise error from (None if isinstance(error, ConfigError) else exc)
        texts = _search_texts(rows)
        snippets = make_snippets(query, texts)
        return [
            SearchHit(key, latest, doc_state, title, snippet, rank)
            for (key, latest, doc_state, title, _, rank), snippet in zip(
                rows, snippets, strict=True
            )
        ]

    def _ranked_page(self, rank: str, join: str, params: dict[str, Any]) -> list[Any]:
        """The page ``params`` asks for, every match ranked (a query with OR)."""
        # Rank first, then fetch documents for the page only: joining every match (a
        # common word matches most of the corpus) costs more than the ranking itself.
        return self.connection.execute(
            f"WITH top AS (SELECT search.rowid AS id, {rank} AS rank FROM search {join} "
            "  WHERE search MATCH :q ORDER BY rank, search.rowid DESC LIMIT :n OFFSET :o) "
            "SELECT d.key, d.latest, d.state, d.title, v.document, top.rank FROM top "
            "JOIN documents d ON d.id = top.id "
            "JOIN versions v ON v.doc_id = d.id AND v.n = d.latest "
            "ORDER BY top.rank, top.id DESC",
            params,
        ).fetchall()

    def _fetch(self, candidates: Sequence[tuple[int, float]]) -> list[tuple[Any, ...]]:
        """(key, latest, state, title, stored payload, rank) of each (document id, rank)."""
        ids = [doc_id for doc_id, _ in candidates]
        found = {
            row[0]: row[1:]
            for row in self.connection.execute(
                "SELECT d.id, d.key, d.latest, d.state, d.title, v.document "
                "FROM documents d JOIN versions v ON v.doc_id = d.id AND v.n = d.latest "
                f"WHERE d.id IN ({', '.join('?' * len(ids))})",
                ids,
            )
        }
        return [(*found[i], score) for i, score in candidates if i in found]

    def _idf(self, terms: Sequence[str]) -> list[float]:
        """Each term's weight in :meth:`_rank`: its idf, or 1.0 for a one-term query."""
        idf = [1.0] * len(terms)
        if len(terms) > 1:
            one = self.connection.execute
            (total,) = one("SELECT coalesce(max(id), 0) FROM documents").fetchone()
            for i, term in enumerate(terms):
                (n,) = self.connection.execute(
                    "SELECT count(*) FROM search WHERE search MATCH ?", (term,)
                ).fetchone()
                idf[i] = max(math.log((total - n + 0.5) / (n + 0.5)), 1e-6)
        return idf

    def _rank(
        self, terms: Sequence[str], idf: Sequence[float], params: dict[str, Any], *, body: bool
    ) -> str:
        """The SQL rank of a search hit (lower is better), adding its parameters to ``params``.

        FTS5's bm25 needs token positions (or the text) that the index keeps no longer
        (schema 8), so hits are ranked on what it does keep, which column each term is in:
        the sum over the query's terms of idf x (10 if in the title, + 1 if in the body), as
        bm25 weighted titles 10 to 1 but counting a term once per column; ties go to the most
        recently added document. The body is looked up only with ``body`` (a query with OR):
        otherwise every match holds every word, nearly always in the body, and looking up
        which of a common word's documents have it in the body would cost more than all the
        rest. With one term, idf changes nothing either.
        """
        if not terms:
            return "0"
        parts = []
        member = "search.rowid IN (SELECT rowid FROM search WHERE search MATCH :{})"
        for i, (term, weight) in enumerate(zip(terms, idf, strict=True)):
            params[f"rank_t{i}"] = f"title : {term}"
            part = "10.0 * (" + member.format(f"rank_t{i}") + ")"
            if body:
                params[f"rank_b{i}"] = f"body : {term}"
                part += " + (" + member.format(f"rank_b{i}") + ")"
            parts.append(f"{weight!r} * ({part})")
        return "-(" + " + ".join(parts) + ")"

    def _search_checked(
        self,
        analysis: Analysis,
        query: str,
        join: str,
        params: dict[str, Any],
        limit: int,
        offset: int,
    ) -> list[SearchHit]:
        """A search whose query needs token positions (phrases, ``NEAR``, ``^``), which the
        index does not keep (schema 8): the relaxed query (``params["q"]``, from
        :func:`corpus.store.query.analyse`) ranks candidates, and each is checked against
        ``query`` on its text, best first, until the page is full. A phrase of rare words
        checks few documents; one of common words that seldom stand together checks every
        document holding all of them, but when the store keeps signatures of pairs of common
        words (:mod:`corpus.store.pairs`), only those whose signature holds the phrase's
        pairs are candidates; and a regular expression over their text rules out most of the
        rest (:class:`corpus.store.query.PhraseFilter`) before the check proper.
        """
        signed = self._signature_join(analysis)
        few = self._few_candidates(analysis, join + signed, params) if signed else None
        if few is not None:
            ranked: Iterator[tuple[int, float]] = iter(few)
        else:
            idf = self._idf(analysis.terms)
            rank = self._rank(analysis.terms, idf, params, body=False)
            ranked = self._candidates(analysis, (rank, idf), join + signed, params)
        phrases = analysis.phrase_filter
        want = offset + limit
        hits: list[tuple[tuple[Any, ...], tuple[str, str]]] = []
        chunk = max(want, _CHECK_FIRST)
        try:
            while len(hits) < want:
                candidates = list(itertools.islice(ranked, chunk))
                if not candidates:
                    break
                chunk = min(chunk * 2, _CHECK_MOST)
                rows = self._fetch(candidates)
                texts = _search_texts(rows)
                if phrases is not None:  # most candidates of a rare phrase end here
                    kept = [
                        i for i, (title, body) in enumerate(texts) if phrases.admits(title, body)
                    ]
                    if 2 * len(kept) > len(texts):
                        phrases = None  # a frequent phrase: the test would save next to nothing
                    rows, texts = [rows[i] for i in kept], [texts[i] for i in kept]
                reducer = analysis.reducer
                checked = (
                    [(reducer.reduce(t), reducer.reduce(b)) for t, b in texts] if reducer else texts
                )
                for at in sorted(matching(query, checked)):
                    hits.append((rows[at], texts[at]))
        finally:
            if isinstance(ranked, Generator):
                ranked.close()
        page = hits[offset:want]
        snippets = make_snippets(query, [text for _, text in page])
        return [
            SearchHit(key, latest, doc_state, title, snippet, rank)
            for ((key, latest, doc_state, title, _, rank), _), snippet in zip(
                page, snippets, strict=True
            )
        ]

    def _signature_join(self, analysis: Analysis) -> str:
        """A join keeping only the candidates whose pair signature holds every pair of
        adjacent common words of the query's phrases (:mod:`corpus.store.pairs`): only they
        can match. Empty when no phrase has such a pair (or the store has not chosen its
        common words yet): every candidate is checked."""
        if not analysis.phrases:
            return ""
        if not self._pair_ranks:
            self._pair_ranks = ranks_of(read_common(self.connection))
        wanted: dict[int, int] = {}
        for phrase in analysis.phrases:
            for block, mask in phrase_bits(phrase, self._pair_ranks).items():
                wanted[block] = wanted.get(block, 0) | mask
        return " " + signature_join(wanted) if wanted else ""

    def _few_candidates(
        self, analysis: Analysis, join: str, params: dict[str, Any]
    ) -> list[tuple[int, float]] | None:
        """The candidates of :meth:`_candidates`, in its order and with its ranks, when the
        signatures (in ``join``) leave at most :data:`_FEW_CANDIDATES` of them; else None.

        One pass over the index instead of one per set of title terms: which query terms
        each few candidate's title holds is then looked up for those candidates alone, and
        the terms' weights (:meth:`_idf`, a count over the index each) only when one does.
        """
        terms = analysis.terms
        if not terms or len(terms) > _TIERED_TERMS:
            return None
        found = self.connection.execute(
            f"SELECT search.rowid FROM search {join} WHERE search MATCH :q "
            f"ORDER BY search.rowid DESC LIMIT {_FEW_CANDIDATES + 1}",
            params,
        ).fetchall()
        if len(found) > _FEW_CANDIDATES:
            return None
        ids = [rowid for (rowid,) in found]
        held: dict[int, set[int]] = {rowid: set() for rowid in ids}
        if ids:
            # The title each was indexed with is the documents table's (latest version's);
            # FTS5 looks a term up in the index for one rowid at a time only, so the few
            # titles are matched in memory instead, with the same tokenizer.
            among = ", ".join(map(str, ids))  # integers from the index: inlined
            titles = self.connection.execute(
                f"SELECT id, coalesce(title, '') FROM documents WHERE id IN ({among})"
            ).fetchall()
            for i, term in enumerate(terms):
                for at in matching(f"title : {term}", [(title, "") for _, title in titles]):
                    held[titles[at][0]].add(i)
        if not any(held.values()):
            return [(rowid, 0.0) for rowid in ids]
        idf = self._idf(terms)
        ranked = []
        for rowid in ids:
            ranked.append((rowid, _title_rank(idf, held[rowid]) if held[rowid] else 0.0))
        return sorted(ranked, key=lambda pair: (pair[1], -pair[0]))

    def _candidates(
        self,
        analysis: Analysis,
        rank: tuple[str, Sequence[float]],
        join: str,
        params: dict[str, Any],
    ) -> Generator[tuple[int, float], None, None]:
        """Matches of ``params["q"]`` (a query without OR, or a relaxed one), best first:
        those with a query word in the title, ranked; then the rest (every word in the body
        only: their ranks tie) by most recent, streamed from the index in rowid order, so no
        sort of what may be most of the store comes before the first page. (A relaxed query
        with ``OR`` takes the rest in that order too, where a full ranking would put those
        holding more of the words first.)

        ``rank`` is the SQL rank of :meth:`_rank` and the term weights it was made with.
        """
        relaxed = params["q"]
        terms = analysis.terms
        if terms:
            in_title = "title : (" + " OR ".join(terms) + ")"
            if len(terms) <= _TIERED_TERMS:
                yield from self._title_tiers(terms, rank[1], relaxed, join, params)
            else:
                yield from self.connection.execute(
                    f"SELECT search.rowid, {rank[0]} AS rank FROM search {join} "
                    "WHERE search MATCH :q ORDER BY rank, search.rowid DESC",
                    {**params, "q": f"({relaxed}) AND {in_title}"},
                )
            rest = f"({relaxed}) NOT {in_title}"
        else:
            rest = relaxed
        yield from self.connection.execute(
            f"SELECT search.rowid, 0.0 FROM search {join} WHERE search MATCH :q "
            "ORDER BY search.rowid DESC",
            {**params, "q": rest},
        )

    def _title_tiers(
        self,
        terms: Sequence[str],
        idf: Sequence[float],
        relaxed: str,
        join: str,
        params: dict[str, Any],
    ) -> Iterator[tuple[int, float]]:
        """Title matches in the order of :meth:`_rank` (rank, then newest first), without
        ranking and sorting them all: a document's rank depends only on which of the terms
        its title holds, so each such set of terms is one query streamed newest first, the
        sets taken best first (sets of equal rank merged by rowid). A common word can be in
        the title of a tenth of the store; this yields the first page at once.
        """
        tiers: dict[float, list[str]] = {}
        every = range(len(terms))
        for size in range(1, len(terms) + 1):
            for held in itertools.combinations(every, size):
                query = f"({relaxed}) AND " + " AND ".join(f"(title : {terms[i]})" for i in held)
                others = [terms[i] for i in every if i not in held]
                if others:
                    query = f"({query}) NOT (title : (" + " OR ".join(others) + "))"
                tiers.setdefault(_title_rank(idf, held), []).append(query)
        for rank in sorted(tiers):
            streams = [
                self.connection.execute(
                    f"SELECT search.rowid FROM search {join} WHERE search MATCH :q "
                    "ORDER BY search.rowid DESC",
                    {**params, "q": query},
                )
                for query in tiers[rank]
            ]
            for (rowid,) in heapq.merge(*streams, key=lambda row: -row[0]):
                yield rowid, rank

    def _query_error(self, query: str, exc: sqlite3.OperationalError) -> CorpusError:
        text = str(exc)
        if not any(w in text for w in ("locked", "busy", "disk", "I/O", "memory")):
            return ConfigError(
                f"cannot search for {query!r}: {text}. Quote words with special "
                'characters ("e-mail"), and use AND, OR, NOT, NEAR() and prefix* '
                "as in SQLite FTS5",
                code="BAD_QUERY",
            )
        return store_error(exc, self.path)

    def as_of(self, stamp: str | None = None) -> Iterator[StoredVersion]:
        """The documents present at time ``stamp`` (now when None), each at its version then.

        Streams one row at a time, so memory stays flat however large the store is.
        """
        if stamp is None:
            cursor = self.connection.execute(
                f"SELECT {_VERSION_COLUMNS}, v.document FROM documents d "
                "JOIN versions v ON v.doc_id = d.id AND v.n = d.latest "
                "WHERE d.state = 'present' ORDER BY d.key"
            )
        else:
            cursor = self.connection.execute(
                f"SELECT {_VERSION_COLUMNS}, v.document FROM documents d "
                "JOIN versions v ON v.doc_id = d.id AND v.n = ("
                "  SELECT max(n) FROM versions WHERE doc_id = d.id AND created <= :t) "
                "WHERE NOT EXISTS (SELECT 1 FROM removals r WHERE r.doc_id = d.id "
                "  AND r.after_version = v.n AND r.removed_at <= :t) "
                "ORDER BY d.key",
                {"t": stamp},
            )
        for row in cursor:
            yield _stored_version(row)

    def all_versions(self, stamp: str | None = None) -> Iterator[StoredVersion]:
        """Every version, by key then number; only those created at or before ``stamp`` when
        given. Streams one row at a time (for ``export --all-versions``)."""
        sql = (
            f"SELECT {_VERSION_COLUMNS}, v.document FROM versions v "
            "JOIN documents d ON d.id = v.doc_id"
        )
        params: dict[str, str] = {}
        if stamp is not None:
            sql += " WHERE v.created <= :t"
            params["t"] = stamp
        for row in self.connection.execute(sql + " ORDER BY d.key, v.n", params):
            yield StoredVersion(_version_info(row[:-1]), document_from_stored(row[-1]))

    def stats(self) -> dict[str, Any]:
        """Counts and sizes for ``corpus stats``."""
        one = self.connection.execute
        present, removed = one(
            "SELECT coalesce(sum(state = 'present'), 0), coalesce(sum(state = 'removed'), 0) "
            "FROM documents"
        ).fetchone()
        # Versions of a document are numbered 1..latest, so no scan of the versions table.
        versions, multi = one(
            "SELECT coalesce(sum(latest), 0), coalesce(sum(latest > 1), 0) FROM documents"
        ).fetchone()
        runs = self.runs(limit=1)
        run_count = one("SELECT count(*) FROM runs").fetchone()[0]
        first = one("SELECT min(started), max(coalesce(finished, started)) FROM runs").fetchone()
        page_count = one("PRAGMA page_count").fetchone()[0]
        page_size = one("PRAGMA page_size").fetchone()[0]
        return {
            "store": self.path,
            "schema_version": self.schema_version(),
            "documents": present + removed,
            "present": present,
            "removed": removed,
            "versions": versions,
            "documents_with_history": multi,
            "runs": run_count,
            "last_run": runs[0].to_dict() if runs else None,
            "first_run_at": first[0],
            "last_run_at": first[1],
            "store_bytes": page_count * page_size,
        }


#: Candidates left by the pair signatures up to which they are ranked in one pass.
_FEW_CANDIDATES = 1000
#: Candidates of a position-checked search looked at first, and at most at once.
_CHECK_FIRST = 50
_CHECK_MOST = 2000


def _title_rank(idf: Sequence[float], held: Collection[int]) -> float:
    """The rank (:meth:`Store._rank`'s value, lower is better) of a match whose title holds
    the query terms at indexes ``held``, exactly as SQL computes it (same order of sums)."""
    score = functools.reduce(
        operator.add, (weight * (10.0 * (i in held)) for i, weight in enumerate(idf))
    )
    return -score


def _search_texts(rows: Sequence[Sequence[Any]]) -> list[tuple[str, str]]:
    """The (title, body) of each search row (stored payload at index 4)."""
    texts = []
    for row in rows:
        try:
            texts.append(search_text(row[4]))
        except (ValueError, TypeError, KeyError, AttributeError, CorpusError) as exc:
            raise _unreadable(row, "document", exc) from exc
    return texts


def _version_info(row: Sequence[Any]) -> VersionInfo:
    try:
        findings = findings_from_json(row[7])
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise _unreadable(row, "findings", exc) from exc
    return VersionInfo(*row[:7], findings=findings, summary=row[8])


def _stored_version(row: Sequence[Any]) -> StoredVersion:
    """A version row with its document; a record that does not parse is STORE_CORRUPT."""
    info = _version_info(row[:-1])
    try:
        document = document_from_stored(row[-1])
    except (ValueError, TypeError, KeyError, AttributeError, CorpusError) as exc:
        raise _unreadable(row, "document", exc) from exc
    return StoredVersion(info, document)


def _unreadable(row: Sequence[Any], what: str, exc: BaseException) -> StoreError:
    return StoreError(
        f"the stored {what} of {row[0]}@{row[1]} cannot be read ({type(exc).__name__}: {exc}); "
        f"the store is damaged: {CHECK_ADVICE}",
        code="STORE_CORRUPT",
    )


_TRANSLATED = (
    "schema_version",
    "integrity_check",
    "document",
    "documents",
    "versions",
    "removals",
    "version",
    "load",
    "runs",
    "run",
    "active_run",
    "search",
    "as_of",
    "stats",
)


def _translating(method: Callable[..., Any]) -> Callable[..., Any]:
    """SQLite failures of a query method become coded errors (STORE_CORRUPT, STORE_BUSY...)."""
    if inspect.isgeneratorfunction(method):

        @functools.wraps(method)
        def generator(self: Store, *args: Any, **kwargs: Any) -> Iterator[Any]:
            try:
                yield from method(self, *args, **kwargs)
            except sqlite3.Error as exc:
                raise store_error(exc, self.path) from exc

        return generator

    @functools.wraps(method)
    def wrapper(self: Store, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise store_error(exc, self.path) from exc

    return wrapper


for _name in _TRANSLATED:
    setattr(Store, _name, _translating(getattr(Store, _name)))


def _run_info(row: Sequence[Any]) -> RunInfo:
    names = ("new", "changed", "unchanged", "removed", "rejected")
    return RunInfo(
        id=row[0],
        started=row[1],
        finished=row[2],
        status=row[3],
        roots=json.loads(row[4]),
        arguments=json.loads(row[5]),
        counts=dict(zip(names, row[6:11], strict=True)),
    )

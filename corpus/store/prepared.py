"""A version made ready for the store where its document was made: in a worker process.

An ingest has one writer of the store (the driver process), and at a million articles that
writer, not the workers, set the pace. What a version needs besides the writer (the content
hash, the canonical JSON, its zstd compression) is therefore done beside the document, in the
worker, and only what the store keeps crosses back: a :class:`PreparedVersion`, a few strings
and the compressed payload, instead of the whole pickled document.

Payloads are compressed with the store's dictionary once the store has one, and signatures of
pairs of common words (:mod:`corpus.store.pairs`) made once it has chosen those: a worker looks for
both in the store (read only) until they appear, since a new store learns them from its
first versions while the workers are already running (:class:`VersionPreparer`). A payload
compressed before that, without a dictionary, stays readable (each frame names its
dictionary), and the writer makes the signature of a version that comes without one.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from typing import Any

import attrs

from ..model import Document, canonical_json, document_to_dict
from . import payload
from .browse import read_only_uri
from .pairs import PairMaker, read_common

#: Seconds between a worker's looks for the store's dictionary while it has none.
DICTIONARY_POLL = 0.25


@attrs.frozen(slots=True)
class PreparedVersion:
    """What the store records of a document's version, without the document itself."""

    key: str
    content_hash: str
    title: str
    #: The document's date (ISO), as the ``documents`` table keeps it.
    date: str | None
    #: What goes into the full-text index with the title (``Document.body_text``).
    body_text: str
    #: The canonical JSON of the document (:func:`corpus.model.document_to_dict`), zstd.
    payload: bytes
    #: The source's raw sha256, size and capture time (None without a source).
    source_sha256: str | None = None
    source_size: int | None = None
    captured: str | None = None
    #: Its signature of pairs of common words (:meth:`corpus.store.pairs.PairMaker.packed`),
    #: when the store had chosen them.
    signature: bytes | None = None

    @property
    def text(self) -> str:
        """The canonical JSON, decompressed (for a change summary, or dictionary samples)."""
        return payload.decode(self.payload)


def prepare_version(
    document: Document, encoder: payload.Encoder, maker: PairMaker | None = None
) -> PreparedVersion:
    """``document`` as the store keeps it, compressed by ``encoder``, with its signature of
    pairs of common words when ``maker`` (of the store's common words) is given."""
    text = canonical_json(document_to_dict(document))
    source = document.source
    body = document.body_text
    return PreparedVersion(
        key=document.key,
        content_hash=document.content_hash,
        title=document.title,
        date=document.date.isoformat() if document.date else None,
        body_text=body,
        payload=encoder.encode(text),
        source_sha256=source.sha256 if source else None,
        source_size=source.size if source else len(text.encode("utf-8")),
        captured=source.captured if source else None,
        signature=maker.packed(document.title, body) if maker is not None else None,
    )


class VersionPreparer:
    """Prepares versions in a worker process, with the store's dictionary once it has one.

    ``store`` is the store's path: it is opened read only, and only to find the dictionary
    (SQLite's WAL lets readers work beside the one writer). A store that cannot be read from
    here (another machine, say) just means payloads without a dictionary, which the writer
    takes as they are; it is looked for again every :data:`DICTIONARY_POLL` seconds (a failed
    open costs next to nothing, and giving up on a store busy for a moment would leave every
    later payload without its dictionary).
    """

    def __init__(self, store: str | os.PathLike[str] | None) -> None:
        self._path = os.fspath(store) if store is not None else None
        #: Where to look for the dictionary and common words; None once found (or unreadable).
        self._store = self._path
        self._encoder: payload.Encoder | None = None
        self._conn: sqlite3.Connection | None = None
        self._maker: PairMaker | None = None
        self._next_look = 0.0

    def __reduce__(self) -> tuple[Any, ...]:
        # Sent to spawned workers by its path alone: encoders and connections do not pickle.
        return (VersionPreparer, (self._path,))

    def prepare(self, document: Document) -> PreparedVersion:
        if self._encoder is None:
            self._encoder = payload.Encoder()
        if self._store is not None and (self._encoder.dict_id is None or self._maker is None):
            self._look_in_store()
        return prepare_version(document, self._encoder, self._maker)

    def _look_in_store(self) -> None:
        """Take up the store's dictionary and common words, once it has them."""
        now = time.monotonic()
        if now < self._next_look or self._store is None:
            return
        self._next_look = now + DICTIONARY_POLL
        try:
            if self._conn is None:
                self._conn = sqlite3.connect(read_only_uri(self._store), uri=True)
            row = self._conn.execute(
                "SELECT data FROM dictionaries ORDER BY id DESC LIMIT 1"
            ).fetchone()
            common = read_common(self._conn)
        except sqlite3.Error:  # busy for a moment, or not readable from here: look later
            self.close()
            return
        if row is not None and self._encoder is not None and self._encoder.dict_id is None:
            self._encoder = payload.Encoder(payload.register_dictionary(row[0]))
        if common and self._maker is None:
            self._maker = PairMaker(common)
        if self._encoder is not None and self._encoder.dict_id is not None and self._maker:
            self._store = None  # all found: no more looking
            self.close()

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None

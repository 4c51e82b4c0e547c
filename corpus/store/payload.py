"""How a version's document is kept in the store: its canonical JSON, compressed with zstd.

A version payload is the largest thing in a store, and JSON of news text compresses well.
zstd level 3 was chosen over zlib after measuring both on generated ~5 KB articles
(``bench/scale.py``'s generator): zlib level 6 is about as small (0.45x of the input bytes
against zstd's 0.47x) but compresses 4x slower and decompresses 2.5x slower, and an ingest
compresses every version in the one process that writes the store.

Articles are short, so most of what zstd could learn from one is lost at its end. A store
therefore trains a zstd *dictionary* on its first :data:`DICT_SAMPLES` versions and compresses
later ones with it (0.35x of the input bytes instead of 0.48x on the same articles). The
dictionary is kept in the store (table ``dictionaries``) and its id is in each frame's
header, so :func:`decode` finds it; :meth:`corpus.store.Store.open` registers a store's
dictionaries. Payloads from before schema 6 are TEXT, and :func:`decode` still reads them.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from typing import Any

import zstandard

from ..errors import StoreError

#: zstd's level: 3 is its default, the knee of its size/speed curve for documents this small.
LEVEL = 3
#: Versions a store's dictionary is trained on (their JSON is held in memory until then).
DICT_SAMPLES = 2000
#: Dictionary size: 64 KiB was as good as 110 KiB and better than 32 KiB on news-sized JSON.
DICT_SIZE = 64 * 1024

_dictionaries: dict[int, zstandard.ZstdCompressionDict] = {}
_local = threading.local()


def register_dictionary(data: bytes) -> int:
    """Make a stored dictionary known to :func:`decode` (in this process); returns its id."""
    dictionary = zstandard.ZstdCompressionDict(bytes(data))
    _dictionaries.setdefault(dictionary.dict_id(), dictionary)
    return dictionary.dict_id()


def is_registered(dict_id: int) -> bool:
    """Whether :func:`register_dictionary` has been given the dictionary ``dict_id``."""
    return dict_id in _dictionaries


def train_dictionary(samples: Sequence[bytes]) -> bytes | None:
    """A dictionary trained on ``samples``, or None when zstd cannot make one of them."""
    try:
        trained = zstandard.train_dictionary(DICT_SIZE, list(samples))
    except zstandard.ZstdError:
        return None
    # Frames name their dictionary by id; id 0 means "none", so such a one is of no use.
    return trained.as_bytes() if trained.dict_id() else None


def dictionary_of(stored: bytes) -> int:
    """The id of the dictionary a compressed payload needs (0: none)."""
    return zstandard.get_frame_parameters(stored).dict_id


class Encoder:
    """Compresses payloads for one writer, with a dictionary (by id) or without."""

    def __init__(self, dict_id: int | None = None) -> None:
        self.dict_id = dict_id
        if dict_id is None:
            self._compressor = zstandard.ZstdCompressor(level=LEVEL)
        else:
            dictionary = _dictionaries[dict_id]
            dictionary.precompute_compress(level=LEVEL)
            self._compressor = zstandard.ZstdCompressor(level=LEVEL, dict_data=dictionary)

    def encode(self, text: str) -> bytes:
        return self._compressor.compress(text.encode("utf-8"))


def encode(text: str) -> bytes:
    """The stored form of a version's canonical JSON ``text`` (no dictionary)."""
    encoder = getattr(_local, "encoder", None)
    if encoder is None:
        encoder = _local.encoder = Encoder()
    return encoder.encode(text)


def _decompressor(dict_id: int) -> Any:
    # Decompressors are not thread-safe; a store may be read from several threads (a web
    # view), so each thread keeps its own, one per dictionary.
    cache = getattr(_local, "decompressors", None)
    if cache is None:
        cache = _local.decompressors = {}
    found = cache.get(dict_id)
    if found is None:
        if dict_id == 0:
            found = zstandard.ZstdDecompressor()
        else:
            dictionary = _dictionaries.get(dict_id)
            if dictionary is None:
                raise StoreError(
                    f"a stored version needs zstd dictionary {dict_id}, which this store "
                    "does not hold; open the store with corpus.store.Store.open",
                    code="STORE_CORRUPT",
                )
            found = zstandard.ZstdDecompressor(dict_data=dictionary)
        cache[dict_id] = found
    return found


def decode(stored: bytes | str) -> str:
    """The canonical JSON of a stored payload (compressed BLOB, or TEXT from before schema 6).

    Raises ValueError when the payload is damaged (what readers of the store report as
    ``STORE_CORRUPT``).
    """
    if isinstance(stored, str):
        return stored
    try:
        data = bytes(stored)
        dict_id = zstandard.get_frame_parameters(data).dict_id
        return _decompressor(dict_id).decompress(data).decode("utf-8")
    except zstandard.ZstdError as exc:  # a damaged page: readers report it as STORE_CORRUPT
        raise ValueError(f"the compressed payload cannot be read ({exc})") from exc


def search_text(stored: bytes | str) -> tuple[str, str]:
    """The title and body that go into the full-text index, from a stored payload.

    Exactly what ingest indexes (``Document.title`` and ``Document.body_text``): the index keeps
    no copy of the text, so removing a document from it needs the very values it was given.
    """
    data = json.loads(decode(stored))
    return data.get("title") or "", "\n\n".join(b.get("text", "") for b in data.get("blocks", ()))


def register_dictionaries(conn: sqlite3.Connection) -> None:
    """Make the store's zstd dictionaries known to the payload decoder (see payload.py).

    Cheap to call per connection: only dictionaries this process has not seen are read.
    """
    for (dict_id,) in conn.execute("SELECT dict_id FROM dictionaries").fetchall():
        if not is_registered(dict_id):
            (data,) = conn.execute(
                "SELECT data FROM dictionaries WHERE dict_id = ?", (dict_id,)
            ).fetchone()
            register_dictionary(data)

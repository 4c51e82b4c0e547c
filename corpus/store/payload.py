"""How a version's document is kept in the store: its canonical JSON, compressed with zstd.

A version payload is the largest thing in a store, and JSON of news text compresses to under
half. zstd level 3 was chosen over zlib after measuring both on generated ~4.7 KB articles:
zlib level 6 is about as small (0.45x of the input bytes against zstd's 0.47x) but compresses
4x slower and decompresses 2.5x slower, and an ingest compresses every version in the one
process that writes the store. Payloads written before compression (schema 4 and older) are
TEXT; step 5 of the migration compresses them, and :func:`decode` still reads either.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import zstandard

#: zstd's level: 3 is its default, the knee of its size/speed curve for documents this small.
LEVEL = 3

_local = threading.local()


def _codecs() -> tuple[Any, Any]:
    # Compressor objects are not thread-safe; a store may be read from several threads
    # (a web view), so each thread keeps its own pair.
    pair = getattr(_local, "pair", None)
    if pair is None:
        pair = _local.pair = (
            zstandard.ZstdCompressor(level=LEVEL),
            zstandard.ZstdDecompressor(),
        )
    return pair


def encode(text: str) -> bytes:
    """The stored form of a version's canonical JSON ``text``."""
    return _codecs()[0].compress(text.encode("utf-8"))


def decode(stored: bytes | str) -> str:
    """The canonical JSON of a stored payload (compressed BLOB, or TEXT from before schema 6).

    Raises ValueError when the payload is damaged (what readers of the store report as
    ``STORE_CORRUPT``).
    """
    if isinstance(stored, str):
        return stored
    try:
        return _codecs()[1].decompress(bytes(stored)).decode("utf-8")
    except zstandard.ZstdError as exc:  # a damaged page: readers report it as STORE_CORRUPT
        raise ValueError(f"the compressed payload cannot be read ({exc})") from exc


def search_text(stored: bytes | str) -> tuple[str, str]:
    """The title and body that go into the full-text index, from a stored payload.

    Exactly what ingest indexes (``Document.title`` and ``Document.body_text``): the index keeps
    no copy of the text, so removing a document from it needs the very values it was given.
    """
    data = json.loads(decode(stored))
    return data.get("title") or "", "\n\n".join(b.get("text", "") for b in data.get("blocks", ()))

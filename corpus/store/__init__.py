"""The document store: every version of every document in one SQLite file.

Library use, without the command line::

    from corpus.store import Store, load_version

    with Store.open("corpus.db") as store:
        with store.begin_run(roots=["articles"], arguments=["articles"]) as run:
            outcome = run.record("articles", file_result)   # "new", "changed", ...
    doc = load_version("world/duma@2")

See ``docs/store.md`` for the schema, the guarantees and the figures.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..lazy import lazy_attributes

if TYPE_CHECKING:  # pragma: no cover
    from ..model import Document
    from .prepared import PreparedVersion, VersionPreparer
    from .recorder import BATCH_SIZE, IngestRun
    from .records import (
        DocumentInfo,
        RemovalInfo,
        RunInfo,
        SearchHit,
        StoredVersion,
        VersionInfo,
    )
    from .schema import SCHEMA_VERSION
    from .store import DEFAULT_STORE, STORE_ENV, Store, default_store_path, parse_spec

# Loaded on first use: the built-in store plugin (``corpus.store.plugin``) lives in this
# package and every ``corpus`` command loads it, so nothing here may import sqlite3 up front.
_LAZY = {
    "BATCH_SIZE": "recorder",
    "IngestRun": "recorder",
    "PreparedVersion": "prepared",
    "VersionPreparer": "prepared",
    "DocumentInfo": "records",
    "RemovalInfo": "records",
    "RunInfo": "records",
    "SearchHit": "records",
    "StoredVersion": "records",
    "VersionInfo": "records",
    "SCHEMA_VERSION": "schema",
    "DEFAULT_STORE": "store",
    "STORE_ENV": "store",
    "Store": "store",
    "default_store_path": "store",
    "parse_spec": "store",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)


def load_version(spec: str, store_path: str | os.PathLike[str] | None = None) -> Document:
    """The document named by ``KEY`` (its latest version) or ``KEY@N``.

    Raises :class:`corpus.errors.NotFound` for an unknown key or version and
    :class:`corpus.errors.StoreError` (``STORE_MISSING``) when there is no store.
    """
    from .store import Store, default_store_path

    with Store.open(store_path or default_store_path(), create=False) as store:
        return store.load(spec).document


def load_last_two(
    key: str, store_path: str | os.PathLike[str] | None = None
) -> tuple[Document, Document]:
    """The previous and the latest version of ``key`` (for ``corpus diff KEY``)."""
    from ..errors import NotFound
    from .store import Store, default_store_path

    with Store.open(store_path or default_store_path(), create=False) as store:
        latest = store.document(key).latest
        if latest < 2:
            raise NotFound(
                f"{key!r} has only one version, so there is nothing to compare; "
                f"`corpus show {key}` prints it",
                code="NOT_FOUND",
            )
        return store.version(key, latest - 1).document, store.version(key, latest).document


__all__ = [
    "BATCH_SIZE",
    "DEFAULT_STORE",
    "SCHEMA_VERSION",
    "STORE_ENV",
    "DocumentInfo",
    "IngestRun",
    "PreparedVersion",
    "RemovalInfo",
    "RunInfo",
    "SearchHit",
    "Store",
    "StoredVersion",
    "VersionInfo",
    "VersionPreparer",
    "default_store_path",
    "load_last_two",
    "load_version",
    "parse_spec",
]

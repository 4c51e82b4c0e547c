"""``corpus export --to parquet``: the store as one Parquet file, for analysis at corpus scale.

One row per document version, written in row groups as the store streams them, so memory
stays flat however large the store is. pandas, DuckDB, Polars, Spark and Hugging Face
``datasets`` read the file as it is. Needs pyarrow (``pip install 'newscorpus[parquet]'``).
The file is written under a temporary name and renamed into place.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from typing import Any

from ..errors import ConfigError, OutputError
from .records import StoredVersion

#: Rows per row group: large enough for good compression and fast scans, small enough that
#: one group of ~5 KB articles (held as Python rows, then as Arrow columns) stays small.
ROW_GROUP_SIZE = 1000


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError as exc:
        raise ConfigError(
            f"--to parquet needs pyarrow ({exc}); install it with pip install 'newscorpus[parquet]'"
        ) from None
    return pyarrow


def schema(pa: Any) -> Any:
    """The columns: identity and provenance, the dates, the text, and annotations as JSON."""
    return pa.schema(
        [
            ("key", pa.string()),
            ("version", pa.int32()),
            ("run", pa.int64()),
            ("created", pa.timestamp("us", tz="UTC")),
            ("content_hash", pa.string()),
            ("date", pa.date32()),
            ("issued", pa.string()),  # ISO 8601 as read: its offset, if any, is kept
            ("title", pa.string()),
            ("byline", pa.string()),
            ("dateline", pa.string()),
            ("abstract", pa.string()),
            ("language", pa.string()),
            ("keywords", pa.list_(pa.string())),
            ("body", pa.string()),
            ("paragraphs", pa.list_(pa.string())),
            ("annotations", pa.string()),  # JSON text: plugins' annotations have any shape
            ("source_path", pa.string()),
        ]
    )


def _created(stamp: str) -> dt.datetime:
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def row(stored: StoredVersion) -> dict[str, Any]:
    doc, info = stored.document, stored.info
    return {
        "key": doc.key,
        "version": info.n,
        "run": info.run_id,
        "created": _created(info.created),
        "content_hash": info.content_hash,
        "date": doc.date,
        "issued": doc.issued.isoformat() if doc.issued else None,
        "title": doc.title,
        "byline": doc.byline,
        "dateline": doc.dateline,
        "abstract": doc.abstract,
        "language": doc.language,
        "keywords": list(doc.keywords),
        "body": doc.body_text,
        "paragraphs": [b.text for b in doc.blocks],
        "annotations": json.dumps(doc.annotations, ensure_ascii=False, sort_keys=True),
        "source_path": doc.source.path if doc.source else None,
    }


def write_parquet(
    versions: Iterable[StoredVersion],
    path: str | os.PathLike[str],
    *,
    row_group_size: int | None = None,
    on_row: Callable[[str], None] | None = None,
) -> int:
    """Write ``versions`` to the Parquet file ``path``; returns the number of rows."""
    row_group_size = row_group_size or ROW_GROUP_SIZE
    pa = _pyarrow()
    import pyarrow.parquet as pq

    target = os.path.abspath(os.fspath(path))
    if os.path.isdir(target):
        raise OutputError(f"{path} is a folder; --to parquet writes one file", code="OUTPUT_ERROR")
    folder = os.path.dirname(target)
    cols = schema(pa)
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".corpus-tmp-{os.getpid()}-", suffix=".parquet", dir=folder
        )
    except OSError as exc:
        raise OutputError(
            f"cannot write {path}: {exc.strerror or exc}", code="OUTPUT_ERROR"
        ) from None
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # an export is for others to read, unlike a temporary file
    rows = 0
    try:
        with pq.ParquetWriter(tmp, cols, compression="zstd") as writer:
            batch: list[dict[str, Any]] = []
            for stored in versions:
                batch.append(row(stored))
                rows += 1
                if on_row is not None:
                    on_row(stored.info.key)
                if len(batch) >= row_group_size:
                    writer.write_table(pa.Table.from_pylist(batch, schema=cols))
                    batch = []
            if batch or rows == 0:
                writer.write_table(pa.Table.from_pylist(batch, schema=cols))
        os.replace(tmp, target)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise OutputError(
                f"cannot write {path}: {exc.strerror or exc}", code="OUTPUT_ERROR"
            ) from None
        raise
    return rows

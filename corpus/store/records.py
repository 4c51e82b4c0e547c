"""Plain value objects the store hands out: documents, versions, runs, search hits.

They carry what the commands show and what ``--json`` prints (``to_dict``), never a database
cursor, so callers can keep them after the store is closed.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

from ..model import Document, Finding, document_from_json
from . import payload


@attrs.frozen
class DocumentInfo:
    """One document as ``corpus ls`` lists it: its latest version and its state."""

    key: str
    state: str
    latest: int
    title: str
    date: str | None
    first_seen: str
    updated: str
    removed_at: str | None
    root: str | None
    rel_path: str | None

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class VersionInfo:
    """One stored version: which run saw it, when, how big, and what was found in it.

    ``summary`` is the diff engine's line for what changed from the version before, stored at
    ingest; None for version 1, for versions stored before schema version 4, and when the engine
    was missing or failed (``corpus log`` works those out when asked).
    """

    key: str
    n: int
    run_id: int
    created: str
    content_hash: str
    source_sha256: str | None
    size: int
    findings: tuple[Finding, ...] = attrs.field(converter=tuple)
    summary: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "version": self.n,
            "run": self.run_id,
            "created": self.created,
            "content_hash": self.content_hash,
            "source_sha256": self.source_sha256,
            "size": self.size,
            "findings": [f.to_dict() for f in self.findings],
            "summary": self.summary,
        }


@attrs.frozen
class StoredVersion:
    """A version with its document (parsed from the stored canonical JSON)."""

    info: VersionInfo
    document: Document


@attrs.frozen
class RemovalInfo:
    """A tombstone: the document was missing from run ``run_id`` after version ``after``."""

    key: str
    after: int
    run_id: int
    removed_at: str

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class RunInfo:
    """One ingest run: when, over what, with which arguments, and its counts."""

    id: int
    started: str
    finished: str | None
    status: str
    roots: tuple[str, ...] = attrs.field(converter=tuple)
    arguments: tuple[str, ...] = attrs.field(converter=tuple)
    counts: dict[str, int] = attrs.field(factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "started": self.started,
            "finished": self.finished,
            "status": self.status,
            "roots": list(self.roots),
            "arguments": list(self.arguments),
            "counts": dict(self.counts),
        }


@attrs.frozen
class SearchHit:
    """A search result: the document, its rank (lower is better; see Store.search) and a snippet."""

    key: str
    version: int
    state: str
    title: str
    snippet: str
    rank: float

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def findings_from_json(text: str) -> tuple[Finding, ...]:
    return tuple(Finding.from_dict(item) for item in json.loads(text))


def document_from_stored(stored: bytes | str) -> Document:
    """The document of a stored version (its compressed canonical JSON, or the JSON itself)."""
    return document_from_json(payload.decode(stored))


def search_text(stored: bytes | str) -> tuple[str, str]:
    """The title and body that go into the full-text index, from a version's stored payload."""
    return payload.search_text(stored)

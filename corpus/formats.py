"""Readers and exporters: the two kinds of format objects plugins register.

A reader turns raw bytes into a :class:`~corpus.model.Document` plus findings; an exporter
turns a document into bytes. Both are plain objects with a name, so the registries below can
list them (``corpus formats``), pick one by file extension or content, and refuse duplicates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs

from .errors import PluginError, UnknownFormat
from .model import Document, Finding


@attrs.frozen
class ReadResult:
    """What a reader returns: the document and what it noticed while reading."""

    document: Document
    findings: tuple[Finding, ...] = attrs.field(default=(), converter=tuple)


class Reader:
    """Base class for readers. Subclasses set the class attributes and implement :meth:`read`.

    ``read`` raises :class:`~corpus.errors.InputRejected` (with code, path and line) when the
    bytes cannot become a document; anything else it noticed goes into ``ReadResult.findings``.
    """

    name: str = ""
    extensions: tuple[str, ...] = ()
    media_type: str = "application/octet-stream"
    description: str = ""

    def sniff(self, head: bytes) -> bool:
        """Whether the first bytes of a file look like this format (used to break ties)."""
        return True

    def read(self, data: bytes, *, path: str, key: str) -> ReadResult:
        raise NotImplementedError

    def configured(self, config: Any) -> Reader:
        """This reader with the run's settings applied (``config.plugin_settings``).

        Readers have no settings by default; one that has overrides this and returns a
        configured copy (or itself when nothing changes). Called once per file, so keep it
        cheap.
        """
        return self


@attrs.frozen
class ArchiveRecord:
    """What an archive reader lists: one record to read, records skipped, or a problem.

    ``offset`` is the record's byte offset in the archive (None for a count or a problem);
    ``data`` its raw bytes as stored, handed to the archive's ``record_reader``. ``skipped``
    says why ``count`` records are not documents; ``problem`` is a finding about one record
    (with an offset) or about the archive (without).
    """

    offset: int | None
    data: bytes | None = attrs.field(default=None, repr=False)
    skipped: str | None = None
    count: int = 1
    problem: Finding | None = None


class ArchiveReader(Reader):
    """A reader for files that hold many inputs (a WARC crawl archive).

    Ingest does not ``read`` such a file whole: it lists it with :meth:`records`, and every
    record becomes an input of its own, named ``<archive>#<offset>`` and read by the reader
    named ``record_reader``. Records come in the order they should be ingested in.
    """

    record_reader: str = ""

    def records(
        self, path: str, rel: str, *, max_record_size: int | None
    ) -> Iterator[ArchiveRecord]:
        """The archive's records; raises InputRejected when the file is no such archive."""
        raise NotImplementedError


class Exporter:
    """Base class for exporters: ``export`` returns the bytes of one output file."""

    name: str = ""
    extension: str = ""
    media_type: str = "application/octet-stream"
    description: str = ""

    def export(self, document: Document) -> bytes:
        raise NotImplementedError

    def dropped(self, document: Document) -> list[Finding]:
        """What ``export`` cannot carry of ``document``, as ``CONTENT_DROPPED`` warnings.

        The default is nothing. An exporter whose format cannot hold some content (markup,
        tables...) says so here, so a loss is reported, never silent.
        """
        return []


def _describe(obj: Any) -> dict[str, Any]:
    out = {
        "name": obj.name,
        "media_type": obj.media_type,
        "description": obj.description or (obj.__doc__ or "").strip().splitlines()[0:1],
    }
    if isinstance(out["description"], list):
        out["description"] = out["description"][0] if out["description"] else ""
    return out


class _Registry:
    kind = "format"

    def __init__(self) -> None:
        self._items: dict[str, Any] = {}
        self._owners: dict[str, str] = {}

    def register_from(self, plugin_name: str) -> Callable[[Any], None]:
        """A ``register`` callback bound to the plugin that calls it (for clear errors)."""

        def register(item: Any) -> None:
            name = getattr(item, "name", "")
            if not isinstance(name, str) or not name:
                raise PluginError(f"{plugin_name} registered a {self.kind} without a name")
            if name in self._items:
                raise PluginError(
                    f"{self.kind} {name!r} is registered twice: by {self._owners[name]} "
                    f"and by {plugin_name}",
                    plugin=plugin_name,
                )
            self._items[name] = item
            self._owners[name] = plugin_name

        return register

    def __contains__(self, name: str) -> bool:
        return name in self._items

    def __iter__(self):
        return iter(self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def names(self) -> list[str]:
        return list(self._items)

    def owner(self, name: str) -> str:
        return self._owners[name]

    def get(self, name: str) -> Any:
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "none"
            raise UnknownFormat(f"no {self.kind} named {name!r} (known: {known})") from None


class ReaderRegistry(_Registry):
    kind = "reader"

    def for_path(self, path: str, head: bytes = b"") -> Reader:
        """The reader for a file: by extension, then by sniffing the first bytes."""
        lower = path.lower()
        candidates = [
            r for r in self._items.values() if any(lower.endswith(ext) for ext in r.extensions)
        ]
        if len(candidates) > 1 and head:
            sniffed = [r for r in candidates if r.sniff(head)]
            candidates = sniffed or candidates
        if not candidates and head:
            # An extension no reader claims (``.php``, none at all): readers that say so may
            # recognize the file by its first bytes (an HTML page saved as ``article.php``).
            candidates = [
                r
                for r in self._items.values()
                if getattr(r, "sniff_unclaimed", False) and r.sniff(head)
            ]
        if not candidates:
            exts = sorted({e for r in self._items.values() for e in r.extensions})
            raise UnknownFormat(
                f"no reader for this file type (readers take: {', '.join(exts)}); "
                "rename the file or install a reader plugin",
                code="UNKNOWN_FORMAT",
                path=path,
            )
        return candidates[0]

    def extensions(self) -> set[str]:
        return {e for r in self._items.values() for e in r.extensions}

    def describe(self) -> list[dict[str, Any]]:
        return [
            {**_describe(r), "extensions": list(r.extensions), "plugin": self._owners[r.name]}
            for r in self._items.values()
        ]


class ExporterRegistry(_Registry):
    kind = "exporter"

    def describe(self) -> list[dict[str, Any]]:
        return [
            {**_describe(e), "extension": e.extension, "plugin": self._owners[e.name]}
            for e in self._items.values()
        ]


def findings_from(items: Iterable[Finding] | None) -> tuple[Finding, ...]:
    return tuple(items or ())

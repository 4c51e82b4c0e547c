"""WARC reader plugin: a crawl archive's HTML captures, each read by the HTML reader.

A ``.warc`` / ``.warc.gz`` file is an *archive*: ingest lists it record by record (see
:mod:`corpus.archives`). Every HTML ``response`` (or ``resource``) record becomes one input,
named ``<archive>#<offset>`` (the record's byte offset in the file, as CDX indexes give it),
read by the ``warc-record`` reader: key from the record's URL, capture time from
``WARC-Date``. Records are listed in ``WARC-Date`` order (then by offset), so repeated
captures of a page become its versions in time order. Every other record is counted in the
archive's own report entry (``WARC_RECORDS_SKIPPED``), never silently dropped.

warcio is imported on first use: every command loads this plugin, few read WARC.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from corpus.errors import InputRejected
from corpus.formats import ArchiveReader, ArchiveRecord, Reader, ReadResult
from corpus.hookspecs import hookimpl
from corpus.model import Finding, Severity

#: Records whose payload is one of these media types are read as web pages.
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
#: Record types that carry a fetched page.
PAGE_RECORDS = frozenset({"response", "resource"})


def _media_type(value: str | None) -> str:
    return (value or "").split(";")[0].strip().lower()


def _charset(value: str | None) -> str | None:
    for part in (value or "").split(";")[1:]:
        name, _, val = part.partition("=")
        if name.strip().lower() == "charset" and val.strip():
            return val.strip().strip("\"'")
    return None


def _page_headers(record: Any) -> tuple[int | None, str | None]:
    """HTTP status and Content-Type of a page record (resource records have no HTTP part)."""
    if record.http_headers is not None:
        try:
            status = int(record.http_headers.get_statuscode() or 0) or None
        except ValueError:
            status = None
        return status, record.http_headers.get_header("Content-Type")
    return None, record.rec_headers.get_header("Content-Type")


def skip_reason(record: Any) -> str | None:
    """Why a record is not a page to read (``request record``...), or None to read it."""
    if record.rec_type not in PAGE_RECORDS:
        return f"{record.rec_type} record"
    status, content_type = _page_headers(record)
    media = _media_type(content_type)
    if media not in HTML_TYPES:
        return f"{record.rec_type} of {media or 'unknown type'}"
    if status is not None and not 200 <= status < 300:
        return f"{record.rec_type} with HTTP status {status}"
    if not record.rec_headers.get_header("WARC-Target-URI"):
        return f"{record.rec_type} without WARC-Target-URI"
    return None


class WARCReader(ArchiveReader):
    """A WARC crawl archive: each HTML capture becomes a document (via ``warc-record``)."""

    name = "warc"
    extensions = (".warc", ".warc.gz")
    media_type = "application/warc"
    description = "WARC crawl archives (.warc, .warc.gz): every HTML capture, by WARC-Date"
    record_reader = "warc-record"

    def sniff(self, head: bytes) -> bool:
        return head.startswith((b"WARC/", b"\x1f\x8b"))

    def records(
        self, path: str, rel: str, *, max_record_size: int | None
    ) -> Iterator[ArchiveRecord]:
        from warcio.archiveiterator import ArchiveIterator
        from warcio.exceptions import ArchiveLoadFailed

        #: (WARC-Date, offset, stored length, size: the larger of stored and uncompressed)
        pages: list[tuple[str, int, int, int]] = []
        skipped: Counter[str] = Counter()
        problem: Finding | None = None
        end = 0
        with open(path, "rb") as fh:
            _check_start(fh, rel)
            size = _size(fh)
            it = ArchiveIterator(fh, check_digests=False)
            try:
                for record in it:
                    if not record.rec_type:
                        problem = _invalid(
                            rel, f"the record at offset {end} has no WARC-Type: it is damaged"
                        )
                        break
                    reason = skip_reason(record)
                    declared = _int(record.rec_headers.get_header("Content-Length"))
                    date = record.rec_headers.get_header("WARC-Date") or ""
                    it.read_to_end(record)
                    offset, length = it.get_record_offset(), it.get_record_length()
                    if offset < end or length <= 0:
                        problem = _invalid(
                            rel,
                            "the archive is gzip-compressed as a whole, not record by record, "
                            "so its records cannot be found by offset; recompress it "
                            "(`warcio recompress`)",
                        )
                        pages.clear()
                        break
                    end = offset + length
                    if reason is not None:
                        skipped[reason] += 1
                    else:
                        pages.append((date, offset, length, max(length, declared)))
            except (ArchiveLoadFailed, OSError, EOFError, ValueError) as exc:
                problem = _invalid(rel, f"unreadable after offset {end}: {exc}")
            if problem is None and end < size:
                fh.seek(end)
                if fh.read(4096).strip(b"\r\n\x00"):
                    problem = _invalid(
                        rel,
                        f"{size - end} bytes after the last readable record (offset {end}) "
                        "are not a WARC record: the archive is truncated or damaged",
                    )
            pages.sort()
            for _date, offset, length, block in pages:
                if max_record_size is not None and block > max_record_size:
                    yield ArchiveRecord(
                        offset,
                        problem=Finding(
                            "FILE_TOO_LARGE",
                            Severity.ERROR,
                            f"record is {block} bytes, over the limit of {max_record_size}; "
                            "raise --max-file-size if it is really an article",
                        ),
                    )
                    continue
                fh.seek(offset)
                yield ArchiveRecord(offset, data=fh.read(length))
        yield from (
            ArchiveRecord(None, skipped=reason, count=n) for reason, n in sorted(skipped.items())
        )
        if problem is not None:
            yield ArchiveRecord(None, problem=problem)

    def read(self, data: bytes, *, path: str, key: str) -> ReadResult:
        raise InputRejected(
            "a WARC archive holds many pages: ingest or validate it (`corpus ingest`), which "
            "reads it record by record",
            code="WARC_IS_ARCHIVE",
            path=path,
        )


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def _size(fh: Any) -> int:
    here = fh.tell()
    fh.seek(0, io.SEEK_END)
    size = fh.tell()
    fh.seek(here)
    return size


def _check_start(fh: Any, rel: str) -> None:
    """Refuse a file that does not start with a WARC record (warcio guesses at other text)."""
    import gzip
    import zlib

    head = fh.read(2)
    fh.seek(0)
    if not head:
        raise InputRejected("the archive is empty", code="WARC_INVALID", path=rel)
    try:
        first = gzip.GzipFile(fileobj=fh).read(5) if head == b"\x1f\x8b" else fh.read(5)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputRejected(
            f"not a WARC archive: cannot decompress it ({exc})", code="WARC_INVALID", path=rel
        ) from None
    finally:
        fh.seek(0)
    if first != b"WARC/":
        raise InputRejected(
            "not a WARC archive: it does not start with a WARC/1.x record",
            code="WARC_INVALID",
            path=rel,
        )


def _invalid(rel: str, message: str) -> Finding:
    return Finding("WARC_INVALID", Severity.ERROR, message, path=rel)


class WARCRecordReader(Reader):
    """One record of a WARC archive (its raw bytes, as stored), read as a web page."""

    name = "warc-record"
    extensions = ()
    media_type = "application/warc"
    description = "one HTML capture of a WARC archive (used by the warc reader)"

    def __init__(self, html_reader: Any = None) -> None:
        self._html = html_reader
        self._last: WARCRecordReader | None = None

    def configured(self, config: Any) -> WARCRecordReader:
        """A record reader whose HTML reader has the run's ``[plugins.html-reader]`` settings."""
        html = _html_reader().configured(config)
        if html is self._html:
            return self
        if self._last is None or self._last._html is not html:
            self._last = WARCRecordReader(html)
        return self._last

    def read(self, data: bytes, *, path: str, key: str) -> ReadResult:
        import hashlib

        from warcio.archiveiterator import ArchiveIterator
        from warcio.exceptions import ArchiveLoadFailed

        from corpus.readers.html_read import PageInfo, read_html

        html = self._html or _html_reader()
        try:
            record = next(iter(ArchiveIterator(io.BytesIO(data), check_digests=False)), None)
            if record is None:
                raise ArchiveLoadFailed("no record")
            reason = skip_reason(record)
            payload = record.content_stream().read()
        except (ArchiveLoadFailed, OSError, EOFError, ValueError) as exc:
            raise InputRejected(
                f"cannot read this WARC record: {exc}", code="WARC_INVALID", path=path
            ) from None
        if reason is not None:
            raise InputRejected(
                f"this record is not an HTML capture ({reason})", code="WARC_NOT_HTML", path=path
            )
        headers = record.rec_headers
        url = headers.get_header("WARC-Target-URI").strip().strip("<>")
        date = headers.get_header("WARC-Date")
        status, content_type = _page_headers(record)
        archive, _, offset = path.rpartition("#")
        extra = {
            "warc": {
                "archive": archive,
                "offset": int(offset) if offset.isdigit() else None,
                "record_id": headers.get_header("WARC-Record-ID"),
                "target_uri": url,
                "date": date,
                "http_status": status,
                "record_sha256": hashlib.sha256(data).hexdigest(),
            }
        }
        page = PageInfo(
            url=url, key_from_url=True, charset=_charset(content_type), captured=date, extra=extra
        )
        result = read_html(
            payload, path=path, key=key, settings=html.settings, page=page, reader=self.name
        )
        # The raw input is the record as stored: its hash is what re-ingest compares.
        source = attrs.evolve(
            result.document.source,
            sha256=extra["warc"]["record_sha256"],
            size=len(data),
            captured=date or None,
        )
        return ReadResult(attrs.evolve(result.document, source=source), result.findings)


def _html_reader() -> Any:
    from corpus.readers.html import HTMLReader

    return _DEFAULT_HTML.setdefault("reader", HTMLReader())


_DEFAULT_HTML: dict[str, Any] = {}


@hookimpl
def register_readers(register: Callable[[Any], None]) -> None:
    register(WARCReader())
    register(WARCRecordReader())

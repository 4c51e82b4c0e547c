"""The delimited article format (``.txt``): reader and writer. Spec: ``docs/format.md``.

A file is an optional header line `` date YYYY-MM-DD <title>``, then blocks of text separated
by blank lines. Without the header the first paragraph is the title (the BBC News layout).
Everything the reader decides (how wrapped lines are joined, which blocks are bylines,
credits or time stamps, what each date problem is worth) is written down in the spec; every
decision that loses or changes information is reported as a finding with a stable code.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import attrs

from corpus.errors import InputRejected
from corpus.formats import Exporter, Reader, ReadResult
from corpus.hookspecs import hookimpl
from corpus.model import Block, Document, Finding, Severity, Source

FORMAT = "article"

#: Lines of a block no longer than this may be hard-wrapped prose (see docs/format.md).
WRAP_WIDTH = 100
#: In a wrapped block, a sentence-final line shorter than this share of the block's widest
#: line ends a paragraph instead of wrapping into the next line.
SHORT_LINE_SHARE = 0.7
#: Only this many paragraphs after the title are searched for a byline.
BYLINE_WINDOW = 3
#: Longer blocks are never bylines, credits, captions or time stamps.
MAX_META_LENGTH = 200
#: Dates outside these years are treated as placeholders, not publication days.
MIN_YEAR, MAX_YEAR = 1700, 2199

_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019\u00bb)\]]*$")
#: A list item's marker: wikitext ``*``/``#`` runs, bullets, dashes, ``1.``, ``2)``, ``(a)``.
_LIST_ITEM = re.compile(r"(?:[*#\u2022\u00b7\u25aa\u2013\u2014-]+|\d{1,3}[.)]|\(\w{1,3}\))\s+\S")
_ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_ISO_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6})\d*)?)?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2})?)?"
)
_LOOSE_YMD = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_BASIC = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DMY = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")
_BYLINE = re.compile(r"(?:By|BY|by)\s+(\S.*)")
_BYLINE_CONNECTORS = frozenset(
    {
        *("and", "&", "of", "the", "for", "in", "at", "with", "y", "e", "und", "et"),
        *("de", "del", "della", "der", "den", "van", "von", "da", "di", "du", "la", "le"),
        *("al", "el", "bin", "ibn"),
    }
)
_TIMESTAMP = re.compile(
    r"(?:(?:First|Last)\s+)?(?:[Pp]ublished|[Uu]pdated|[Pp]osted|[Mm]odified)"
    r"(?:\s*:|\s+(?:on\s+|at\s+)?\d)"
)
_CAPTION = re.compile(r"[(\[]?(?:Image|Photo|Picture|Video)\s+caption\b", re.IGNORECASE)
_CREDIT = re.compile(
    r"[(\[]?(?:Image|Photo(?:graph)?|Picture|Pic|Video)s?(?:\s+(?:source|credit|copyright))?"
    r"\s*[:,]"
    r"|[(\[]?(?:Photo(?:graph)?|Picture|Image)s?\s+by\s"
    r"|(?:Credit|Copyright)\s*:"
    r"|\u00a9",
    re.IGNORECASE,
)


class Paragraph(NamedTuple):
    """One paragraph as found in the file: text and 1-based inclusive line span."""

    text: str
    line_start: int
    line_end: int


#: First characters a timestamp, caption or credit block can start with (a cheap pre-check).
_META_INITIALS = frozenset("FfLlPpUuMmIiVvCc([\u00a9")


@attrs.frozen
class DateValue:
    """The outcome of reading the header's date token."""

    date: dt.date | None = None
    issued: dt.datetime | None = None
    code: str | None = None
    severity: Severity = Severity.WARNING
    message: str = ""


# --- text structure -------------------------------------------------------------------------


def iter_blocks(lines: list[str], start: int) -> Iterator[list[tuple[int, str]]]:
    """Runs of non-blank lines from index ``start``, as (1-based line, stripped text) pairs.

    A line is blank when it holds only white space (NBSP and other Unicode spaces included).
    """
    block: list[tuple[int, str]] = []
    for index in range(start, len(lines)):
        stripped = lines[index].strip()
        if stripped:
            block.append((index + 1, stripped))
        elif block:
            yield block
            block = []
    if block:
        yield block


def split_paragraphs(block: list[tuple[int, str]]) -> list[Paragraph]:
    """Tell hard-wrapped lines from single-newline-separated paragraphs (docs/format.md).

    A block with two or more list items (lines starting ``*``, ``#``, ``-``, ``•``, ``1.``,
    ``(a)``...) is a list: one paragraph per line, so two versions of a list read the same
    whatever their line widths. Otherwise a block is wrapped prose when all its lines fit in
    :data:`WRAP_WIDTH`, at most half of its lines (the last one aside) end a sentence, and at
    least half of the others are full (:func:`_mostly_full`). Its
    lines are joined with one space (no space after a hyphen that ends a word), except after a
    line that ends a sentence and is clearly short, which ends a paragraph. In any other block
    each line is a paragraph.
    """
    if len(block) == 1:
        line, text = block[0]
        return [Paragraph(text, line, line)]
    widest = max(len(text) for _, text in block)
    ends = sum(1 for _, text in block[:-1] if _SENTENCE_END.search(text))
    items = sum(1 for _, text in block if _LIST_ITEM.match(text))
    if (
        items >= 2
        or widest > WRAP_WIDTH
        or ends * 2 > len(block) - 1
        or not _mostly_full(block, widest)
    ):
        return [Paragraph(text, line, line) for line, text in block]
    short = widest * SHORT_LINE_SHARE
    out: list[Paragraph] = []
    parts: list[str] = []
    first = block[0][0]
    for index, (line, text) in enumerate(block):
        if parts:
            previous = parts[-1]
            if len(previous) >= 2 and previous[-1] == "-" and previous[-2].isalpha():
                parts.append(text)
            else:
                parts.append(" ")
                parts.append(text)
        else:
            parts.append(text)
            first = line
        last = index == len(block) - 1
        if last or (len(text) < short and _SENTENCE_END.search(text)):
            out.append(Paragraph("".join(parts), first, line))
            parts = []
    return out


#: A wrapped line is "full" when the next line's first word would not have fitted after it
#: within this share of the block's widest line (the slack allows for a ragged wrap width).
FULL_LINE_SHARE = 0.9
#: Text is not wrapped narrower than this: a block of shorter lines is lines (names, scores).
MIN_WRAP_WIDTH = 40


def _mostly_full(block: list[tuple[int, str]], widest: int) -> bool:
    """Most lines that do not end a sentence were cut because the next word did not fit.

    True of hard-wrapped prose; not of one-item-per-line text (names, results, listings),
    whose short lines would have had room for the next line's first word. So such a block is
    read as lines in every version, instead of being joined whenever its lines are short.
    """
    if widest < MIN_WRAP_WIDTH:
        return False
    cuts = full = 0
    for (_, text), (_, after) in zip(block, block[1:], strict=False):
        if _SENTENCE_END.search(text):
            continue
        cuts += 1
        if len(text) + 1 + len(after.split(None, 1)[0]) > widest * FULL_LINE_SHARE:
            full += 1
    return full * 2 >= cuts


def block_kind(text: str) -> str:
    """``timestamp``, ``caption``, ``credit`` or ``paragraph`` for a body block's text."""
    if len(text) > MAX_META_LENGTH or text[0] not in _META_INITIALS:
        return "paragraph"
    if _TIMESTAMP.match(text):
        return "timestamp"
    if _CAPTION.match(text):
        return "caption"
    if _CREDIT.match(text):
        return "credit"
    return "paragraph"


def byline_of(text: str) -> str | None:
    """The name(s) in a byline paragraph such as ``By  AFP``, or None if it is not one."""
    if len(text) > MAX_META_LENGTH:
        return None
    match = _BYLINE.fullmatch(text)
    if match is None:
        return None
    name = match.group(1).strip()
    words = name.split()
    if len(words) > 12 or name[-1] in ".!?" and len(words[-1]) > 3:
        return None
    for word in words:
        if word[0].islower() and word.lower() not in _BYLINE_CONNECTORS:
            return None
    return " ".join(words)


# --- the header -----------------------------------------------------------------------------


def split_header(line: str) -> tuple[str | None, str] | None:
    """``(date token or None, title)`` if the stripped line is a ``date`` header, else None.

    The token is the first word after ``date`` when it starts with a digit; otherwise the
    header has no date and everything after ``date`` is the title.
    """
    if not line.startswith("date"):
        return None
    rest = line[4:]
    if rest and not rest[0].isspace():
        return None
    rest = rest.strip()
    if not rest or not rest[0].isdigit():
        return None, rest
    parts = rest.split(None, 1)
    return parts[0], parts[1] if len(parts) > 1 else ""


def parse_date(raw: str) -> DateValue:
    """Read a header's date token; see the table in docs/format.md for every outcome."""
    match = _ISO_DAY.fullmatch(raw)
    if match:
        return _calendar_day(raw, *match.groups())
    match = _ISO_DATETIME.fullmatch(raw)
    if match:
        return _date_time(raw, match)
    for pattern in (_LOOSE_YMD, _BASIC):
        match = pattern.fullmatch(raw)
        if match:
            value = _calendar_day(raw, *match.groups())
            if value.date is None:
                return value
            return DateValue(
                value.date,
                code="DATE_NONSTANDARD",
                message=f"date {raw!r} read as {value.date.isoformat()}; write dates as YYYY-MM-DD",
            )
    match = _DMY.fullmatch(raw)
    hint = ""
    if match:
        day, month, year = (int(g) for g in match.groups())
        if day > 12 >= month:
            hint = f" (did you mean {year:04d}-{month:02d}-{day:02d}?)"
        elif month > 12 >= day:
            hint = f" (did you mean {year:04d}-{day:02d}-{month:02d}?)"
        else:
            hint = " (day and month order is ambiguous)"
    return DateValue(
        code="DATE_MALFORMED",
        message=f"date {raw!r} is not YYYY-MM-DD{hint}; the document has no date: fix the header",
    )


def _calendar_day(raw: str, year: str, month: str, day: str) -> DateValue:
    try:
        value = dt.date(int(year), int(month), int(day))
    except ValueError:
        return DateValue(
            code="DATE_INVALID",
            message=f"date {raw!r} is not a day of the calendar; the document has no date: "
            "fix the header",
        )
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        return DateValue(
            code="DATE_IMPLAUSIBLE",
            message=f"date {raw!r} is outside {MIN_YEAR}-{MAX_YEAR}, so it is taken for a "
            "placeholder and not used; fix the header if it is real",
        )
    return DateValue(value)


def _date_time(raw: str, match: re.Match[str]) -> DateValue:
    year, month, day, hour, minute, second, fraction, zulu, sign, tzh, tzm = match.groups()
    day_value = _calendar_day(raw, year, month, day)
    if day_value.date is None:
        return day_value
    tz: dt.tzinfo | None = None
    try:
        if zulu:
            tz = dt.timezone.utc
        elif sign:
            offset = dt.timedelta(hours=int(tzh), minutes=int(tzm or 0))
            tz = dt.timezone(-offset if sign == "-" else offset)  # ValueError from 24 hours
        issued = dt.datetime(
            day_value.date.year,
            day_value.date.month,
            day_value.date.day,
            int(hour),
            int(minute),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")),
            tzinfo=tz,
        )
    except ValueError:
        return DateValue(
            day_value.date,
            code="DATE_INVALID",
            message=f"the time or zone in {raw!r} is impossible; only the day was kept: fix "
            "the header",
        )
    zone = "" if tz else " (no time zone given)"
    return DateValue(
        day_value.date,
        issued,
        code="DATE_WITH_TIME",
        severity=Severity.INFO,
        message=f"the header date {raw!r} has a time{zone}; kept as the document's issue time",
    )


def _paragraphs(lines: list[str], start: int) -> list[Paragraph]:
    """:func:`iter_blocks` then :func:`split_paragraphs`, in one pass.

    Most blocks are one line (one paragraph): those skip the block list and the wrap test.
    """
    out: list[Paragraph] = []
    block: list[tuple[int, str]] = []
    number = start
    for line in lines[start:]:
        number += 1
        stripped = line.strip()
        if stripped:
            block.append((number, stripped))
        elif block:
            if len(block) == 1:
                out.append(Paragraph(block[0][1], block[0][0], block[0][0]))
            else:
                out += split_paragraphs(block)
            block = []
    if block:
        out += split_paragraphs(block)
    return out


# --- reader ---------------------------------------------------------------------------------


class ArticleReader(Reader):
    """Delimited article text: optional `` date YYYY-MM-DD title`` line, blank-line blocks."""

    name = "article"
    extensions = (".txt", ".article")
    media_type = "text/plain"
    description = "delimited article text (date header, title, blank-line paragraphs)"

    def sniff(self, head: bytes) -> bool:
        from corpus.encoding import binary_kind

        return binary_kind(head) is None

    def read(self, data: bytes, *, path: str, key: str) -> ReadResult:
        # Imported on the first read, not with the plugin: every command loads the plugin.
        import hashlib

        from corpus.encoding import decode
        from corpus.textscan import clean_text, normalize_newlines

        if not data:
            raise InputRejected(
                "the file is empty (0 bytes); remove it or fill it in",
                code="EMPTY_FILE",
                path=path,
            )
        decoded = decode(data, path=path)
        findings: list[Finding] = list(decoded.findings)
        text, cleaned = clean_text(normalize_newlines(decoded.text), path=path)
        findings.extend(cleaned)
        if not text.strip():
            raise InputRejected(
                "the file holds only white space; remove it or fill it in",
                code="EMPTY_FILE",
                path=path,
            )
        source = Source(
            path=path,
            sha256=hashlib.sha256(data).hexdigest(),
            encoding=decoded.encoding,
            size=len(data),
            format=FORMAT,
        )
        return ReadResult(self._parse(text, source, key, findings), findings)

    def _parse(self, text: str, source: Source, key: str, findings: list[Finding]) -> Document:
        path = source.path
        lines = text.split("\n")
        first = next(i for i, line in enumerate(lines) if line.strip())
        header = split_header(lines[first].strip())
        notes: dict[str, object] = {}
        date = issued = None
        if header is not None:
            paragraphs = _paragraphs(lines, first + 1)
            raw, title = header
            notes.update(layout="header", title_line=first + 1)
            date, issued = self._date(raw, first + 1, path, findings, notes)
            # An empty title is the built-in validators' MISSING_TITLE, for every format.
        else:
            lead, *paragraphs = _paragraphs(lines, first)
            title = lead.text
            notes.update(layout="headline-first", title_line=first + 1)
            findings.append(
                Finding(
                    "DATE_MISSING",
                    Severity.WARNING,
                    "no ' date YYYY-MM-DD' header: the first paragraph is taken as the title "
                    "and the document has no date; add the header if the date is known",
                    path=path,
                    line=first + 1,
                )
            )
        byline = None
        blocks: list[Block] = []
        body = False
        for index, (ptext, line_start, line_end) in enumerate(paragraphs):
            if byline is None and index < BYLINE_WINDOW:
                name = byline_of(ptext)
                if name:
                    byline = name
                    notes["byline_line"] = line_start
                    continue
            kind = block_kind(ptext)
            body = body or kind == "paragraph"
            blocks.append(Block(ptext, kind, line_start, line_end))
        if not body:
            extra = f" ({len(blocks)} credit/caption/time-stamp block(s) only)" if blocks else ""
            raise InputRejected(
                f"the file has a title but no body paragraphs{extra}; add the article text "
                "after a blank line, or remove the file",
                code="NO_BODY",
                path=path,
                line=notes["title_line"],  # type: ignore[arg-type]
            )
        return Document(
            key=key,
            title=title,
            date=date,
            issued=issued,
            byline=byline,
            blocks=tuple(blocks),
            source=source,
            annotations={FORMAT: notes},
        )

    @staticmethod
    def _date(
        raw: str | None, line: int, path: str, findings: list[Finding], notes: dict[str, object]
    ) -> tuple[dt.date | None, dt.datetime | None]:
        if raw is None:
            findings.append(
                Finding(
                    "DATE_EMPTY",
                    Severity.WARNING,
                    "the 'date' header has no date value; the document has no date: write "
                    "' date YYYY-MM-DD title'",
                    path=path,
                    line=line,
                )
            )
            return None, None
        value = parse_date(raw)
        if value.date is None or raw != value.date.isoformat():
            notes["raw_date"] = raw
        if value.code:
            findings.append(Finding(value.code, value.severity, value.message, path, line))
        return value.date, value.issued


# --- writer ---------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(text.split("\n")).strip()


def write_article(document: Document) -> str:
    """The document in the delimited format: header (or bare headline), byline, paragraphs.

    Only title, date (and issue time), byline and block texts are written; the format has no
    place for the rest. Line breaks inside a text become spaces (the format cannot hold them).
    """
    title = _one_line(document.title)
    if document.date is not None:
        stamp = document.date.isoformat()
        issued = document.issued
        if (
            issued is not None
            and issued.date() == document.date
            and (issued.utcoffset() or dt.timedelta()).seconds % 60 == 0
        ):
            stamp = issued.isoformat()
        lines = [f"date {stamp} {title}".rstrip()]
    else:
        lines = [title or "date"]
    if document.byline and _one_line(document.byline):
        lines += ["", "By " + _one_line(document.byline)]
    for block in document.blocks:
        text = _one_line(block.text)
        if text:
            lines += ["", text]
    return "\n".join(lines) + "\n"


class ArticleExporter(Exporter):
    """Writes a document back as delimited article text (UTF-8, LF line endings)."""

    name = "article"
    extension = ".txt"
    media_type = "text/plain"
    description = "delimited article text (what the article reader reads)"

    def export(self, document: Document) -> bytes:
        return write_article(document).encode("utf-8")

    def dropped(self, document: Document) -> list[Finding]:
        """One ``CONTENT_DROPPED`` warning listing the content the format has no place for."""
        lost = [
            name
            for name, value in (
                ("abstract", document.abstract),
                ("keywords", document.keywords),
                ("urgency", document.urgency),
            )
            if value
        ]
        spans = sum(len(b.spans) + sum(len(c.spans) for r in b.rows for c in r.cells)
                    for b in document.blocks)  # fmt: skip
        if spans:
            lost.append(f"{spans} inline markup span(s)")
        tables = sum(1 for b in document.blocks if b.rows)
        if tables:
            lost.append(f"the rows and cells of {tables} table(s) (their text is kept)")
        if not lost:
            return []
        return [
            Finding(
                "CONTENT_DROPPED",
                Severity.WARNING,
                "article export: the format holds only title, date, byline and paragraph "
                f"text; not written: {'; '.join(lost)}",
                path=document.source.path if document.source else None,
            )
        ]


@hookimpl
def register_readers(register: Callable[[Any], None]) -> None:
    register(ArticleReader())


@hookimpl
def register_exporters(register: Callable[[Any], None]) -> None:
    register(ArticleExporter())

"""Built-in validators: problems worth a warning that the reader cannot see on its own.

Registered as the built-in plugin "validators"; thresholds come from ``[plugins.validators]``
in corpus.toml (``min_body_words``, ``future_days``). Each check yields findings with a stable code
and a message that says what to do.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from .config import Config
from .hookspecs import hookimpl
from .model import Document, Finding, Severity

PLUGIN = "validators"

#: Bodies with fewer words than this are flagged as stubs.
DEFAULT_MIN_BODY_WORDS = 40
#: Publication dates more than this many days after today are flagged (time zones, embargoes).
DEFAULT_FUTURE_DAYS = 1

# UTF-8 text that was decoded as Windows-1252/Latin-1 shows up as a lead byte character
# (Â..ô) followed by one or more continuation-byte characters (0x80-0xBF seen through cp1252).
_CP1252_HIGH = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"
_MOJIBAKE = re.compile(f"[\u00c2-\u00f4][\u0080-\u00bf{_CP1252_HIGH}]+")


def _finding(
    doc: Document, code: str, message: str, line: int | None = None, severity=Severity.WARNING
) -> Finding:
    path = doc.source.path if doc.source else doc.key
    return Finding(
        code=code, severity=severity, message=message, path=path, line=line, plugin=PLUGIN
    )


def looks_like_mojibake(text: str) -> str | None:
    """The first run of ``text`` that is UTF-8 mis-decoded as cp1252/Latin-1, if any."""
    for match in _MOJIBAKE.finditer(text):
        chunk = match.group()
        for codec in ("cp1252", "latin-1"):
            try:
                repaired = chunk.encode(codec).decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue
            if repaired != chunk:
                return chunk
    return None


def check_title(doc: Document) -> Iterator[Finding]:
    if not doc.title.strip():
        yield _finding(
            doc,
            "MISSING_TITLE",
            "document has no title (nothing after the date on the header line, or an empty "
            "title element); add the headline",
            line=1 if doc.source else None,
        )


#: At most this many DUPLICATE_PARAGRAPH findings per document; the last one counts the rest.
MAX_DUPLICATE_FINDINGS = 10


def check_paragraphs(doc: Document) -> Iterator[Finding]:
    seen: dict[str, int | None] = {}
    duplicates = 0
    for block in doc.blocks:
        text = block.text.strip()
        if not text:
            yield _finding(
                doc,
                "EMPTY_PARAGRAPH",
                "empty paragraph; remove it from the source",
                line=block.line_start,
            )
            continue
        if text in seen:
            duplicates += 1
            if duplicates < MAX_DUPLICATE_FINDINGS:
                first = seen[text]
                where = f" (first at line {first})" if first else ""
                yield _finding(
                    doc,
                    "DUPLICATE_PARAGRAPH",
                    f"paragraph repeats an earlier one{where}; a scraper often doubles blocks: "
                    "check the source page",
                    line=block.line_start,
                )
            elif duplicates == MAX_DUPLICATE_FINDINGS:
                rest = (
                    sum(1 for b in doc.blocks if b.text.strip())
                    - len({b.text.strip() for b in doc.blocks if b.text.strip()})
                    - duplicates
                    + 1
                )
                yield _finding(
                    doc,
                    "DUPLICATE_PARAGRAPH",
                    f"this paragraph and {rest - 1} more repeat earlier ones (not listed one by "
                    "one); the page was probably scraped several times over",
                    line=block.line_start,
                )
        else:
            seen[text] = block.line_start


def check_body_length(doc: Document, min_words: int) -> Iterator[Finding]:
    # Words are runs between white space; scripts written without spaces (Chinese, Japanese,
    # Thai) are judged by length instead, counting about five characters a word.
    chars = sum(len(block.text) for block in doc.blocks)
    if chars >= min_words * 5:  # long enough either way: skip counting words
        return
    words = sum(len(block.text.split()) for block in doc.blocks)
    if 0 < words < min_words:
        yield _finding(
            doc,
            "SHORT_BODY",
            f"body has only {words} words (threshold {min_words}); it may be a stub, a teaser "
            "or a failed scrape",
            line=doc.blocks[0].line_start if doc.blocks else None,
        )


def check_future_date(doc: Document, today: dt.date, days: int) -> Iterator[Finding]:
    if doc.date is not None and doc.date > today + dt.timedelta(days=days):
        yield _finding(
            doc,
            "FUTURE_DATE",
            f"date {doc.date.isoformat()} is in the future (today is {today.isoformat()}); "
            "check the date line",
            line=1 if doc.source else None,
        )


def check_mojibake(doc: Document) -> Iterator[Finding]:
    candidates = [(doc.title, 1 if doc.source else None)]
    candidates += [(b.text, b.line_start) for b in doc.blocks]
    for text, line in candidates:
        if text.isascii():  # mojibake is made of non-ASCII characters; isascii() is O(1)
            continue
        chunk = looks_like_mojibake(text)
        if chunk is not None:
            yield _finding(
                doc,
                "MOJIBAKE",
                f"text looks mis-decoded ({chunk!r}): it was probably saved as UTF-8 and read "
                "as Windows-1252 before it reached corpus; re-export it from the source",
                line=line,
            )
            return  # one finding per document is enough to act on


@hookimpl
def register_settings(register) -> None:
    from .settings import Setting

    register(
        PLUGIN,
        {
            "min_body_words": Setting(int, minimum=0, help="SHORT_BODY below this many words"),
            "future_days": Setting(int, minimum=0, help="FUTURE_DATE beyond today plus this"),
        },
    )


@hookimpl
def validate(document: Document, config: Config) -> list[Finding]:
    settings = config.plugin_settings(PLUGIN)
    today = dt.date.fromisoformat(config.today) if config.today else dt.date.today()
    findings: list[Finding] = []
    findings += check_title(document)
    findings += check_paragraphs(document)
    findings += check_body_length(
        document, int(settings.get("min_body_words", DEFAULT_MIN_BODY_WORDS))
    )
    findings += check_future_date(
        document, today, int(settings.get("future_days", DEFAULT_FUTURE_DAYS))
    )
    findings += check_mojibake(document)
    return findings

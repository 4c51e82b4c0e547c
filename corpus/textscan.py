"""Decoded text to clean text: line endings, and characters that XML or readers cannot take.

Text is kept exactly, with three exceptions, each reported with its line:
- characters XML 1.0 forbids (C0 controls other than tab/LF/CR, lone surrogates, U+FFFE,
  U+FFFF) do not survive: vertical tab and form feed become a space, surrogates and the two
  non-characters become U+FFFD, other C0 controls are removed (CONTROL_CHARACTER,
  INVALID_CHARACTER);
- C1 controls (U+0080-U+009F) are kept but reported: they are invisible and usually mean the
  text was decoded with the wrong encoding somewhere upstream (C1_CONTROL);
- bidi overrides/isolates are kept but reported (BIDI_CONTROL, "Trojan Source"), and
  invisible zero-width characters get an info finding (INVISIBLE_CHARACTER). Zero-width
  joiners and non-joiners are ordinary parts of Indic and Persian text and are left alone.

A clean text costs one regular-expression scan; the per-character work only happens for
files that contain something to report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .model import Finding, Severity

#: Everything this module cares about, in one character class: the fast path is one search.
_NOTABLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff"
    "\u202a-\u202e\u2066-\u2069\u200b\u2060\ufeff]"
)
#: The subset XML 1.0 forbids (tab, LF and CR are allowed; CR is gone after newline handling).
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

#: code, severity, what to tell the user. Keyed by a character class name.
_KINDS: dict[str, tuple[str, Severity, str]] = {
    "c0": (
        "CONTROL_CHARACTER",
        Severity.WARNING,
        "control character(s) that XML cannot hold were removed (vertical tab and form feed "
        "became a space); check the source converter",
    ),
    "invalid": (
        "INVALID_CHARACTER",
        Severity.WARNING,
        "lone surrogate(s) or non-characters (U+FFFE/U+FFFF) were replaced by U+FFFD; the "
        "text was damaged before it was saved: check the source",
    ),
    "c1": (
        "C1_CONTROL",
        Severity.WARNING,
        "invisible C1 control character(s) (U+007F-U+009F) kept; they usually mean the text "
        "was decoded with the wrong encoding upstream: check the source",
    ),
    "bidi": (
        "BIDI_CONTROL",
        Severity.WARNING,
        "bidirectional override/isolate character(s) kept; they can make text display in a "
        "different order than it is stored: check they are intended",
    ),
    "invisible": (
        "INVISIBLE_CHARACTER",
        Severity.INFO,
        "zero-width character(s) (U+200B, U+2060, U+FEFF) kept; they are invisible and can "
        "break search",
    ),
}


def normalize_newlines(text: str) -> str:
    """CRLF and lone CR become LF. Nothing else is a line break (not U+0085, U+2028, VT)."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _classify(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return "c0"
    if code <= 0x9F:
        return "c1"
    if 0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF):
        return "invalid"
    if 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
        return "bidi"
    return "invisible"


def _replacement(match: re.Match[str]) -> str:
    char = match.group()
    if char in "\x0b\x0c":
        return " "
    if char < " ":
        return ""
    return "\ufffd"


def clean_text(text: str, *, path: str | None = None) -> tuple[str, list[Finding]]:
    """Remove or replace what XML forbids and report notable characters, by line.

    ``text`` must already have LF line endings (:func:`normalize_newlines`). Returns the
    cleaned text (same line structure: no line breaks are added or removed) and findings,
    one per kind of character, naming the first line and the count.
    """
    first = _NOTABLE.search(text)
    if first is None:
        return text, []
    lines: dict[str, list[int]] = {}
    counts: dict[str, int] = {}
    line = text.count("\n", 0, first.start()) + 1
    pos = first.start()
    for match in _NOTABLE.finditer(text, first.start()):
        line += text.count("\n", pos, match.start())
        pos = match.start()
        kind = _classify(match.group())
        counts[kind] = counts.get(kind, 0) + 1
        seen = lines.setdefault(kind, [])
        if len(seen) < 6 and (not seen or seen[-1] != line):
            seen.append(line)
    findings = list(_findings(lines, counts, path))
    if "c0" in counts or "invalid" in counts:
        text = _FORBIDDEN.sub(_replacement, text)
    return text, findings


def _findings(
    lines: dict[str, list[int]], counts: dict[str, int], path: str | None
) -> Iterable[Finding]:
    for kind, (code, severity, advice) in _KINDS.items():
        if kind not in counts:
            continue
        where = lines[kind]
        shown = ", ".join(str(n) for n in where[:5]) + (", ..." if len(where) > 5 else "")
        label = "line" if len(where) == 1 else "lines"
        yield Finding(
            code,
            severity,
            f"{counts[kind]} {advice} ({label} {shown})",
            path=path,
            line=where[0],
        )

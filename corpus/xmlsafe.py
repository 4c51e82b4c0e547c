"""Make any Python string safe to put in an XML 1.0 document.

XML 1.0 allows only ``#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]``;
lxml raises on anything else (most C0 controls, lone surrogates, U+FFFE/U+FFFF), and a
document must never fail to export because a scraped page had a stray ``\\x0c`` in it. Each
forbidden code point is replaced by exactly one U+FFFD REPLACEMENT CHARACTER, so string lengths
and therefore stand-off span offsets are unchanged.

The check is one precompiled regex search; clean text (nearly all text) is returned as is,
without a per-character Python loop.
"""

from __future__ import annotations

import re

#: What forbidden characters become.
REPLACEMENT = "\ufffd"

_FORBIDDEN = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def has_forbidden(text: str) -> bool:
    """Whether ``text`` holds a character XML 1.0 does not allow."""
    return _FORBIDDEN.search(text) is not None


def xml_safe(text: str) -> str:
    """``text`` with every character XML 1.0 forbids replaced by U+FFFD (same length)."""
    if _FORBIDDEN.search(text) is None:
        return text
    return _FORBIDDEN.sub(REPLACEMENT, text)


def xml_safe_optional(text: str | None) -> str | None:
    """:func:`xml_safe` that passes None through."""
    return None if text is None else xml_safe(text)

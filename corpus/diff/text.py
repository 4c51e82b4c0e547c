"""Text units for diffing: sentences, tokens, and the fingerprint that tells cosmetic churn.

Tokens are runs of word characters, single punctuation marks and runs of white space, so a
change never cuts a word in two and offsets always fall on token boundaries.
"""

from __future__ import annotations

import re
import unicodedata

_TOKEN = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)
_WORD = re.compile(r"\w+", re.UNICODE)
# A sentence ends at . ! ? … or an ideographic full stop, plus closing quotes/brackets, before
# white space. Abbreviations ("Mr. Smith") split too: harmless, a split only narrows alignment.
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’»)\]]*(?=\s)")
_QUOTES = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "‚": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "«": '"',
        "»": '"',
        "`": "'",
        "´": "'",
    }
)


def tokens(text: str) -> list[str]:
    """The token list of ``text``; ``"".join(tokens(t)) == t``."""
    return _TOKEN.findall(text)


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def sentence_bounds(text: str) -> list[tuple[int, int]]:
    """Sentence ranges covering ``text`` exactly; white space after a sentence starts the next.

    Leading white space belongs to the following sentence, so appending a sentence at the end
    (the commonest edit) leaves every earlier sentence byte-equal.
    """
    bounds = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if end > start:
            bounds.append((start, end))
            start = end
    if start < len(text) or not bounds:
        bounds.append((start, len(text)))
    return bounds


_NUMBER_MARK = re.compile(r"(?<=\d)[.,](?=\d)")


def fingerprint(text: str) -> str:
    """Text without white space, punctuation, case or quote style: equal means cosmetic.

    A point or comma between digits stays significant ("3.5" is not "35").
    """
    text = unicodedata.normalize("NFKC", text.translate(_QUOTES)).casefold()
    text = _NUMBER_MARK.sub("#", text)
    return "".join(ch for ch in text if ch.isalnum() or ch == "#")


def is_cosmetic(old: str, new: str) -> bool:
    return fingerprint(old) == fingerprint(new)

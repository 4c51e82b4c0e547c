"""Text units for diffing: sentences, tokens, and the fingerprint that tells cosmetic churn.

Tokens are runs of word characters, single punctuation marks or symbols, and runs of white
space, so a change never cuts a word in two and offsets always fall on token boundaries.
"Word character" means anything that is not white space, punctuation or a symbol: combining
vowel signs (Malayalam, Tamil, Devanagari) stay inside their word, unlike with ``\\w``.
"""

from __future__ import annotations

import itertools
import re
import unicodedata

from .sentences import sentence_bounds

# Punctuation (P*) and symbols (S*) in the blocks where they occur in news text.
_RANGES = ((0x21, 0x2E80), (0x3000, 0x3040), (0xFE30, 0xFE70), (0xFF00, 0xFF66))
# Built with map/compress rather than a generator: ``corpus log`` imports this module, and the
# tables are 12,000 code points.
_CHARS = "".join(map(chr, itertools.chain.from_iterable(range(lo, hi) for lo, hi in _RANGES)))
_CATEGORIES = list(map(unicodedata.category, _CHARS))


def _of_category(major: str) -> str:
    """The characters of ``_CHARS`` whose Unicode category starts with ``major``."""
    flags = map(str.startswith, _CATEGORIES, itertools.repeat(major))
    return "".join(itertools.compress(_CHARS, flags))


_PUNCT = _of_category("P")
_SYMBOL = _of_category("S")


def _class_body(chars: str) -> str:
    """The inside of a regex character class matching ``chars``, runs written as ``a-z``.

    The same set as ``re.escape(chars)``, but a few hundred ranges instead of 3,000 single
    characters compile several times faster (this module is imported by ``corpus log``).
    """
    codes = sorted(set(map(ord, chars)))
    parts = []
    start = prev = codes[0]
    for code in [*codes[1:], -1]:
        if code == prev + 1:
            prev = code
            continue
        first, last = re.escape(chr(start)), re.escape(chr(prev))
        parts.append(first if start == prev else f"{first}-{last}")
        start = prev = code
    return "".join(parts)


_CLASS = _class_body(_PUNCT + _SYMBOL)

# Numbers such as 3.5 or 20,000 are one token: "3.5" -> "35" is one changed word.
_NUMBER = r"\d+(?:[.,]\d+)+"
_TOKEN = re.compile(rf"{_NUMBER}|\s+|[{_CLASS}]|[^\s{_CLASS}]+")
#: A word: a number, or a run of characters that are neither white space, punctuation nor symbols.
WORD = re.compile(rf"{_NUMBER}|[^\s{_CLASS}]+")
# Quote marks that are symbols (grave, acute) go too; a point or comma between digits stays.
_DROP = {ord(ch): None for ch in _PUNCT + "`´"}
_NUMBER_MARK = re.compile(r"(?<=\d)[.,](?=\d)")
_SPACE = re.compile(r"\s+")

__all__ = ["WORD", "fingerprint", "is_cosmetic", "sentence_bounds", "tokens", "word_count", "words"]


def tokens(text: str) -> list[str]:
    """The token list of ``text``; ``"".join(tokens(t)) == t``."""
    return _TOKEN.findall(text)


def words(text: str) -> list[str]:
    return WORD.findall(text)


def word_count(text: str) -> int:
    return len(WORD.findall(text))


def fingerprint(text: str) -> str:
    """Text without white space, punctuation, case or quote style: equal means cosmetic.

    A point or comma between digits stays significant ("3.5" is not "35").
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _NUMBER_MARK.sub("\x00", text)
    return _SPACE.sub("", text.translate(_DROP))


def is_cosmetic(old: str, new: str) -> bool:
    return fingerprint(old) == fingerprint(new)

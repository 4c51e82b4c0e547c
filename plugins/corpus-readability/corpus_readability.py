"""corpus-readability: word and sentence counts, reading time, Flesch reading ease.

An ``enrich`` and ``validate`` plugin for ``corpus``. ``enrich`` stores
``annotations["readability"]``::

    {"words": 412, "sentences": 19, "syllables": 640, "reading_time_seconds": 107,
     "flesch_reading_ease": 47.3, "longest_sentence_words": 41}

``validate`` warns (code ``READABILITY_LONG_SENTENCE``) on every sentence longer than the
limit. Settings come from the ``[plugins.readability]`` table of ``corpus.toml`` (or
``[tool.corpus.plugins.readability]`` in ``pyproject.toml``):

``max_sentence_words`` (default 40)
    a longer sentence is a finding;
``severity`` (default ``"warning"``)
    ``"info"`` reports long sentences without failing ``--fail-on warning``;
``words_per_minute`` (default 230)
    reading speed for ``reading_time_seconds``.

A word is what Flesch counted: a whitespace-separated token with a letter or digit in it,
without the punctuation around it, so "anti-war", "3,000", "U.S." and "and/or" are one word
each and a dash between spaces is none. A sentence ends at . ! or ? (possibly followed by a
closing quote or bracket) when white space and a capital, digit or opening quote follow, or at
the end of its paragraph: sentences never cross a paragraph. Syllables are counted with an
English spelling rule, so ``flesch_reading_ease`` is ``null`` for text that is not mostly in the
Latin alphabet or whose ``language`` is set to something other than English.
"""

from __future__ import annotations

import functools
import math
import re
import string
from collections.abc import Iterator
from typing import Any

from corpus import Document, Finding, Severity, hookimpl
from corpus.config import Config
from corpus.errors import ConfigError

NAME = "readability"
DEFAULTS: dict[str, Any] = {
    "max_sentence_words": 40,
    "severity": "warning",
    "words_per_minute": 230,
}

# A sentence ends at . ! ? (possibly doubled, possibly followed by a closing quote or bracket)
# when white space and then a capital, digit or opening quote follow; or at the paragraph end.
_SENTENCE_END_RE = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][”\"’)\]]))\s+(?=[“\"‘(\[]?[A-ZÀ-Þ0-9])")
#: The sentence ends of :data:`_SENTENCE_END_RE`, matched from their end mark on: a pattern
#: that starts with a character class is scanned several times faster than lookbehinds.
_SENTENCE_STOP_RE = re.compile(r"[.!?][”\"’)\]]?\s+(?=[“\"‘(\[]?[A-ZÀ-Þ0-9])")
#: Stripped from both ends of a token; inside a word (Russia’s, e-mail, 3.5) it stays.
_PUNCTUATION = string.punctuation + "“”‘’«»„‹›–—…•·¡¿§°£€¥"
_VOWEL_GROUP_RE = re.compile(r"[aeiouy]+")
_SOUNDED_ENDING_RE = re.compile(r"[td]ed$|[scxz]es$|[cs]hes$")
_NOT_LETTER_RE = re.compile(r"[\W\d_]+")


def settings(config: Config | None) -> dict[str, Any]:
    """This plugin's settings, defaults filled in and checked (once per run's settings)."""
    given = config.plugin_settings(NAME) if config is not None else {}
    key = tuple(sorted((k, repr(v)) for k, v in given.items()))
    cached = _SETTINGS_CACHE.get(key)
    if cached is None:
        cached = _SETTINGS_CACHE[key] = _checked_settings(given)
    return cached


_SETTINGS_CACHE: dict[tuple, dict[str, Any]] = {}


def _checked_settings(given: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        raise ConfigError(
            f"[plugins.{NAME}]: unknown setting(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(DEFAULTS))}"
        )
    merged = {**DEFAULTS, **given}
    for key in ("max_sentence_words", "words_per_minute"):
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"[plugins.{NAME}] {key} must be a positive integer, not {value!r}")
    if merged["severity"] not in ("info", "warning", "error"):
        raise ConfigError(
            f"[plugins.{NAME}] severity must be info, warning or error, not {merged['severity']!r}"
        )
    return merged


def word(token: str) -> str:
    """The word in a whitespace-separated token (punctuation around it stripped), or ``""``."""
    bare = token.strip(_PUNCTUATION)
    return bare if any(c.isalnum() for c in bare) else ""


def words(text: str) -> list[str]:
    """The words of ``text``: its whitespace-separated tokens that have a letter or digit."""
    return [w for w in map(word, text.split()) if w]


def sentences(text: str) -> list[str]:
    """The sentences of one paragraph (a paragraph without end punctuation is one sentence)."""
    parts = (p.strip() for p in _SENTENCE_END_RE.split(text))
    return [p for p in parts if words(p)]


def syllables(word: str) -> int:
    """Syllables of an English word by spelling: vowel groups, less a silent final e."""
    w = word.lower().strip("’'")
    if not w.isalpha():
        return max(1, len(_VOWEL_GROUP_RE.findall(w)))
    count = len(_VOWEL_GROUP_RE.findall(w))
    if w.endswith("e") and not w.endswith(("le", "ee", "ye")) and count > 1:
        count -= 1
    if w.endswith(("ed", "es")) and count > 1 and not _SOUNDED_ENDING_RE.search(w):
        count -= 1
    return max(1, count)


class _SyllableCache(dict):
    """``cache[token]`` is the syllables of the token's word, 0 if it is no word; computed once.

    News text repeats its words, and counting them is the plugin's hot loop: a dict's
    ``__getitem__`` mapped over ``text.split()`` runs in C, several times faster than a regex
    or a Python function per word. Cleared when full, so memory stays flat on a large corpus.
    """

    limit = 65536

    def __missing__(self, token: str) -> int:
        if len(self) >= self.limit:
            self.clear()
        bare = word(token)
        count = self[token] = syllables(bare) if bare else 0
        return count


_SYLLABLES = _SyllableCache()


def flesch_reading_ease(n_words: int, n_sentences: int, n_syllables: int) -> float:
    """206.835 - 1.015 (words per sentence) - 84.6 (syllables per word), to one decimal."""
    if not n_words or not n_sentences:
        return 0.0
    score = 206.835 - 1.015 * (n_words / n_sentences) - 84.6 * (n_syllables / n_words)
    return round(score, 1)


def _mostly_latin(text: str) -> bool:
    """At least 80% of the letters are ASCII (counted without a Python loop per character)."""
    if text.isascii():
        return any(c.isalpha() for c in text)
    letters = _NOT_LETTER_RE.sub("", text)
    ascii_letters = len(letters.encode("ascii", "ignore"))
    return bool(letters) and ascii_letters >= 0.8 * len(letters)


def _english(document: Document) -> bool:
    lang = (document.language or "en").lower()
    return lang == "en" or lang.startswith("en-")


@functools.lru_cache(maxsize=8)
def _analysis(texts: tuple[str, ...]) -> tuple[list[tuple[int, int]], int]:
    """Sentences as (paragraph index, word count), and the syllables of all words.

    This is the plugin's hot path, so the work per word is done by C code: one split of each
    paragraph at its sentence ends (skipped when no end mark precedes its last character, as
    in most paragraphs of news), then ``str.split`` and the per-token cache (0 syllables
    marks a token that is no word). Cached: ``enrich`` and ``validate`` see the same text.
    """
    found: list[tuple[int, int]] = []
    n_syllables = 0
    for index, text in enumerate(texts):
        head = text.rstrip()[:-1]  # an end mark that splits has more text after it
        one = "." not in head and "!" not in head and "?" not in head
        for sentence in (text,) if one else _SENTENCE_STOP_RE.split(text):
            counts = list(map(_SYLLABLES.__getitem__, sentence.split()))
            n_words = len(counts) - counts.count(0)
            if n_words:
                found.append((index, n_words))
                n_syllables += sum(counts)
    return found, n_syllables


def _analyse(document: Document) -> tuple[list[tuple[int, int]], int]:
    return _analysis(tuple(b.text for b in document.blocks))


def measure(document: Document, words_per_minute: int = DEFAULTS["words_per_minute"]) -> dict:
    """The readability figures of a document's body (JSON-safe)."""
    found, n_syllables = _analyse(document)
    lengths = [count for _, count in found]
    n_words = sum(lengths)
    score: float | None = flesch_reading_ease(n_words, len(lengths), n_syllables)
    if not _english(document) or not _mostly_latin(document.body_text):
        score = None
    return {
        "words": n_words,
        "sentences": len(lengths),
        "syllables": n_syllables,
        "reading_time_seconds": math.ceil(n_words * 60 / words_per_minute),
        "flesch_reading_ease": score,
        "longest_sentence_words": max(lengths, default=0),
    }


def long_sentences(document: Document, limit: int) -> Iterator[tuple[int | None, str, int]]:
    """``(line, sentence, word count)`` of every sentence with more than ``limit`` words."""
    found = _analyse(document)[0]
    if not any(count > limit for _, count in found):
        return  # the usual case: no sentence text is needed
    ordinal: dict[int, int] = {}
    for index, count in found:
        number = ordinal[index] = ordinal.get(index, -1) + 1
        if count > limit:
            block = document.blocks[index]
            yield block.line_start, sentences(block.text)[number], count


@hookimpl
def register_settings(register) -> None:
    """Declared, so a typo or a wrong type is CONFIG_ERROR before any file is read."""
    from corpus.settings import Setting

    register(
        NAME,
        {
            "max_sentence_words": Setting(int, minimum=1),
            "severity": Setting(str, choices=("info", "warning", "error")),
            "words_per_minute": Setting(int, minimum=1),
        },
    )


@hookimpl
def enrich(document: Document, config: Config) -> dict[str, Any]:
    """Store word, sentence and syllable counts, reading time and the Flesch score."""
    return measure(document, settings(config)["words_per_minute"])


@hookimpl
def validate(document: Document, config: Config) -> list[Finding]:
    """One finding per sentence longer than ``max_sentence_words``."""
    opts = settings(config)
    limit = opts["max_sentence_words"]
    findings = []
    for line, sentence, count in long_sentences(document, limit):
        opening = " ".join(sentence.split()[:8])
        findings.append(
            Finding(
                code="READABILITY_LONG_SENTENCE",
                severity=Severity(opts["severity"]),
                message=f"sentence of {count} words (limit {limit}): “{opening} …”; split it, "
                f"or raise max_sentence_words in [plugins.{NAME}]",
                line=line,
            )
        )
    return findings

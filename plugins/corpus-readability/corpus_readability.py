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

Sentences never cross a paragraph. Syllables are counted with an English spelling rule, so
``flesch_reading_ease`` is ``null`` for text that is not mostly in the Latin alphabet or whose
``language`` is set to something other than English.
"""

from __future__ import annotations

import math
import re
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

_WORD_RE = re.compile(r"\w+(?:[’'.-]\w+)*")
# A sentence ends at . ! ? (possibly doubled, possibly followed by a closing quote or bracket)
# when white space and then a capital, digit or opening quote follow; or at the paragraph end.
_SENTENCE_END_RE = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][”\"’)\]]))\s+(?=[“\"‘(\[]?[A-ZÀ-Þ0-9])")
_VOWEL_GROUP_RE = re.compile(r"[aeiouy]+")


def settings(config: Config | None) -> dict[str, Any]:
    """This plugin's settings, defaults filled in and checked."""
    given = config.plugin_settings(NAME) if config is not None else {}
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


def words(text: str) -> list[str]:
    """The words of ``text``: runs of letters or digits, with inner apostrophes and hyphens."""
    return _WORD_RE.findall(text)


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
    if w.endswith(("ed", "es")) and count > 1 and not re.search(r"[td]ed$|[scxz]es$|[cs]hes$", w):
        count -= 1
    return max(1, count)


def flesch_reading_ease(n_words: int, n_sentences: int, n_syllables: int) -> float:
    """206.835 - 1.015 (words per sentence) - 84.6 (syllables per word), to one decimal."""
    if not n_words or not n_sentences:
        return 0.0
    score = 206.835 - 1.015 * (n_words / n_sentences) - 84.6 * (n_syllables / n_words)
    return round(score, 1)


def _mostly_latin(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(c.isascii() for c in letters) >= 0.8 * len(letters)


def _english(document: Document) -> bool:
    lang = (document.language or "en").lower()
    return lang == "en" or lang.startswith("en-")


def _block_sentences(document: Document) -> Iterator[tuple[int | None, str]]:
    for block in document.blocks:
        for sentence in sentences(block.text):
            yield block.line_start, sentence


def measure(document: Document, words_per_minute: int = DEFAULTS["words_per_minute"]) -> dict:
    """The readability figures of a document's body (JSON-safe)."""
    all_words = [w for b in document.blocks for w in words(b.text)]
    lengths = [len(words(s)) for _, s in _block_sentences(document)]
    n_syllables = sum(syllables(w) for w in all_words)
    score: float | None = flesch_reading_ease(len(all_words), len(lengths), n_syllables)
    if not _english(document) or not _mostly_latin(document.body_text):
        score = None
    return {
        "words": len(all_words),
        "sentences": len(lengths),
        "syllables": n_syllables,
        "reading_time_seconds": math.ceil(len(all_words) * 60 / words_per_minute),
        "flesch_reading_ease": score,
        "longest_sentence_words": max(lengths, default=0),
    }


def long_sentences(document: Document, limit: int) -> Iterator[tuple[int | None, str, int]]:
    """``(line, sentence, word count)`` of every sentence with more than ``limit`` words."""
    for line, sentence in _block_sentences(document):
        count = len(words(sentence))
        if count > limit:
            yield line, sentence, count


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

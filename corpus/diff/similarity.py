"""Word-level similarity, computed in C++ by rapidfuzz.

Character similarity overrates unrelated English paragraphs (they share most letters), so
units are compared as sequences of case-folded words. Each distinct word is mapped to one
character, which lets rapidfuzz's fast string routines work on words.
"""

from __future__ import annotations

from rapidfuzz.distance import Indel

from .text import WORD as _WORD


def words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def word_similarity(a: str, b: str) -> float:
    """Share of words in common, 0..1 (Indel/LCS normalized); two empty texts are equal."""
    return Indel.normalized_similarity(words(a), words(b))


class WordEncoder:
    """Encodes texts as strings with one character per word, shared vocabulary."""

    def __init__(self) -> None:
        self._vocab: dict[str, str] = {}

    def encode(self, text: str) -> str:
        vocab = self._vocab
        out = []
        for word in _WORD.findall(text.casefold()):
            ch = vocab.get(word)
            if ch is None:
                code = 0x100 + len(vocab)
                if code >= 0xD800:  # skip surrogates
                    code += 0x800
                ch = chr(min(code, 0x10FFFF))
                vocab[word] = ch
            out.append(ch)
        return "".join(out)


def similarity(a: str, b: str, cutoff: float = 0.0) -> float:
    """Normalized similarity of two encoded strings (0 when below ``cutoff``)."""
    if not a and not b:
        return 1.0
    return Indel.normalized_similarity(a, b, score_cutoff=cutoff)

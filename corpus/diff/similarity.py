"""Word-level similarity, computed in C++ by rapidfuzz.

Character similarity overrates unrelated English paragraphs (they share most letters), so
units are compared as sequences of case-folded words. Each distinct word is mapped to one
character, which lets rapidfuzz's fast string routines work on words.
"""

from __future__ import annotations

from rapidfuzz.distance import Indel, LCSseq

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


#: Least share of the shorter unit's words that must survive, in order, for two units to be
#: diffed word by word however much the longer one grew (see :func:`survives`).
SURVIVE_SHARE = 0.4
#: ... and the least number of surviving words, so two short lines sharing "the" do not pair.
SURVIVE_WORDS = 3


#: Least similarity for two units that stand alone in the same place (the only old and the
#: only new paragraph between two unchanged ones) to be diffed word by word.
PLACE_FLOOR = 0.25


def survives(a: str | list[str], b: str | list[str]) -> bool:
    """Enough of the smaller unit lives on in the other to show it word by word.

    Similarity alone gives up on a paragraph that doubled in length although every old word is
    still there (similarity 0.67 at most, 0.4 when it grew fourfold); the share of the shorter
    side's words kept in order does not. Works on encoded strings or word lists.
    """
    shorter = min(len(a), len(b))
    if shorter < SURVIVE_WORDS:
        return False
    kept = LCSseq.similarity(a, b, score_cutoff=SURVIVE_WORDS)
    return kept >= SURVIVE_WORDS and kept >= SURVIVE_SHARE * shorter

"""Sentence ends for the diff: cut where a sentence ends, not after every full stop.

The diff aligns edited paragraphs sentence by sentence, so a wrong cut costs accuracy: an edit
next to "Fig." or "Mr." would otherwise land on a two-word "sentence" that no longer matches
anything, and be shown as a whole replacement. A missed cut costs little (the unit is just
longer, and the word diff inside it is the same), so when in doubt this module does not cut.

A candidate end is ``.``, ``!``, ``?``, ``…`` (or a run of them), possibly followed by closing
quotes or brackets, then white space. It is not an end when:

- the next word starts with a lower-case letter, or is ``,`` ``;`` ``:`` (``e.g. the``,
  ``Yahoo! said``, ``wait... what``);
- the word before a full stop is an abbreviation that is followed by a name or a number
  (``Mr.``, ``Dr.``, ``Fig.``, ``Eq.``, ``Ref.``, ``et al.``, ``cf.``, ``vs.``, ``Jan.``...), a
  dotted abbreviation (``e.g.``, ``i.e.``, ``U.S.``), or a single capital letter (the initials
  of ``J. K. Rowling``);
- the word before is an abbreviation that often ends a sentence too (``Inc.``, ``Ltd.``,
  ``etc.``, ``a.m.``) and the next word does not start with a capital letter.

Coverage: the abbreviation lists are English (news and scientific text). The other rules hold
for any language written with cased letters (Latin, Greek, Cyrillic, Armenian scripts).
Scripts without case (Malayalam, Arabic, Hebrew, Devanagari...) are cut at every sentence mark
followed by white space, and CJK full stops (``。！？``) when white space follows, as before.
"""

from __future__ import annotations

import re


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Abbreviations that come before a name, number or reference: never the end of a sentence.
NEVER_LAST = _word_set(
    """
    mr mrs ms mx dr prof sr st mt ft gen col lt maj sgt capt cmdr adm gov sen rep rev hon pres
    supt insp det messrs mme mlle
    no nos vol vols fig figs eq eqs ref refs sec secs sect ch chap art arts para pp p pg tab
    thm lem prop def cor alg app apps eqn eqns
    al cf vs v viz approx ca resp esp incl
    jan feb mar apr jun jul aug sep sept oct nov dec
    """
)
#: Abbreviations that may also end a sentence: an end only before a capital letter.
MAY_END = _word_set("inc ltd co corp jr bros etc ave blvd rd dept univ assn est")

_CANDIDATE = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s|$)|[。！？][\"'”’»)\]」』]*")
# The word before a candidate end: letters, digits, dots and a few joiners.
_WORD_BEFORE = re.compile(r"[^\s\"“”«»(\[]*$")
_SPACE = re.compile(r"\s*")


def sentence_bounds(text: str) -> list[tuple[int, int]]:
    """Sentence ranges covering ``text`` exactly; white space after a sentence starts the next.

    Leading white space belongs to the following sentence, so appending a sentence at the end
    (the commonest edit) leaves every earlier sentence byte-equal.
    """
    bounds = []
    start = 0
    for match in _CANDIDATE.finditer(text):
        end = match.end()
        if end >= len(text) or end <= start:
            continue
        if _is_end(text, match.start(), end):
            bounds.append((start, end))
            start = end
    if start < len(text) or not bounds:
        bounds.append((start, len(text)))
    return bounds


def _is_end(text: str, mark: int, end: int) -> bool:
    after = _SPACE.match(text, end).end()
    if after >= len(text):
        return True
    if text[mark] in "。！？":
        return True
    nxt = _next_word_start(text, after)
    if nxt is None or nxt.islower() or nxt in ",;:":
        return False
    if text[mark] != "." or text.startswith("..", mark):
        return True
    word = _WORD_BEFORE.search(text, 0, mark).group()
    key = word.lstrip("'‘’").rstrip(".").casefold()
    if not key:
        return True
    if key in NEVER_LAST or "." in key:
        # "e.g.", "U.S.", "a.m.": dotted forms; "a.m." may end a sentence before a capital.
        return key in ("a.m", "p.m") and nxt.isupper()
    if len(key) == 1 and key.isalpha():
        return False  # an initial ("J. K. Rowling") or a one-letter abbreviation
    if key in MAY_END:
        return nxt.isupper()
    return True


def _next_word_start(text: str, pos: int) -> str | None:
    """The first letter or digit of what follows, skipping opening quotes and brackets.

    A following ``,``, ``;`` or ``:`` is returned as is (the sentence goes on).
    """
    for ch in text[pos : pos + 8]:
        if ch.isalnum() or ch in ",;:":
            return ch
        if ch.isspace():
            break
    return text[pos] if pos < len(text) else None

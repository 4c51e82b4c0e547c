"""FTS5 queries against an index without token positions (``detail=column``, schema 8).

The store's full-text index keeps, per term, the documents and columns it occurs in, but not
where (positions were half the index). FTS5 then refuses what needs positions: phrases of
more than one token (``"state duma"``, ``a + b``), ``NEAR()`` and ``^`` (first token).
:func:`relax` rewrites such a query into one the index can answer and that matches every
document the original matches (a phrase becomes the AND of its tokens, a ``NEAR`` group the
AND of its phrases' tokens); the search then checks the candidates it shows against the
original query, on their text (:mod:`corpus.store.snippets`). Queries without positional
parts are returned unchanged and run on the index alone, as before.

The parser follows FTS5's grammar (``fts5parse.y``): ``OR`` binds loosest, then ``AND``, then
``NOT``; adjacent phrases are an implicit AND binding tightest. A query it cannot parse is left
to FTS5, whose error the caller reports.
"""

from __future__ import annotations

import re
import sqlite3

import attrs

from .stemmer import Stemmer

#: Tokenizer that splits like the index's but neither stems nor changes a token otherwise
#: than the index's would, so a token it gives is indexed as the index tokenizes it.
_SPLIT_TOKENIZE = "unicode61 remove_diacritics 2"


class _Unparsable(Exception):
    pass


def _is_bare(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_") or ch == "\x1a" or ord(ch) >= 0x80


def _lex(query: str) -> list[tuple[str, str]]:
    """(kind, text) pairs: STRING (text unquoted), keywords, punctuation."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
        elif ch in "(){}:,+*-^":
            out.append((ch, ch))
            i += 1
        elif ch == '"':
            i += 1
            text = []
            while True:
                if i >= n:
                    raise _Unparsable
                if query[i] == '"':
                    if i + 1 < n and query[i + 1] == '"':
                        text.append('"')
                        i += 2
                        continue
                    i += 1
                    break
                text.append(query[i])
                i += 1
            out.append(("STRING", "".join(text)))
        elif _is_bare(ch):
            j = i
            while j < n and _is_bare(query[j]):
                j += 1
            word = query[i:j]
            out.append((word, word) if word in ("AND", "OR", "NOT") else ("STRING", word))
            i = j
        else:
            raise _Unparsable
    return out


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


class _Relaxer:
    def __init__(self, tokens: list[tuple[str, str]], split: sqlite3.Connection) -> None:
        self.tokens = tokens
        self.i = 0
        self.split_conn = split
        #: Whether some part of the query needed positions (and was relaxed).
        self.relaxed = False
        #: Tokens (quoted, ``*`` for a prefix) the query asks for, outside NOT: what ranks.
        self.terms: list[str] = []
        self._negated = 0
        #: Every token of the query (NOT sides too), unstemmed, with whether it is a prefix.
        self.words: list[tuple[str, bool]] = []
        #: Whether the query has a NEAR group, or a string of no token at all.
        self.near = self.opaque = False
        #: Whether the query has an OR (a match need not hold every word).
        self.alternatives = False
        #: The phrases of two or more words outside NOT: each its (unstemmed word, prefix?)
        #: pairs, in order (every match holds each of them, when the query has no OR).
        self.phrases: list[tuple[tuple[str, bool], ...]] = []

    def peek(self, offset: int = 0) -> str | None:
        at = self.i + offset
        return self.tokens[at][0] if at < len(self.tokens) else None

    def take(self, kind: str) -> str:
        if self.peek() != kind:
            raise _Unparsable
        text = self.tokens[self.i][1]
        self.i += 1
        return text

    def split(self, text: str) -> list[str]:
        """The index tokens (unstemmed) of ``text``, in order."""
        self.split_conn.execute("DELETE FROM s")
        self.split_conn.execute("INSERT INTO s (rowid, x) VALUES (1, ?)", (text,))
        return [
            term
            for (term,) in self.split_conn.execute(
                "SELECT term FROM sv WHERE doc = 1 ORDER BY offset"
            )
        ]

    # or_expr := and_expr (OR and_expr)*
    def or_expr(self) -> str:
        parts = [self.and_expr()]
        while self.peek() == "OR":
            self.take("OR")
            self.alternatives = True
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    # and_expr := not_expr (AND not_expr)*
    def and_expr(self) -> str:
        parts = [self.not_expr()]
        while self.peek() == "AND":
            self.take("AND")
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    # not_expr := primary (NOT primary)*; a relaxed right side is dropped (still a superset)
    def not_expr(self) -> str:
        left = self.primary()
        while self.peek() == "NOT":
            self.take("NOT")
            before = self.relaxed
            self.relaxed = False
            self._negated += 1
            right = self.primary()
            self._negated -= 1
            if not self.relaxed:
                left = f"({left} NOT {right})"
            self.relaxed = True if self.relaxed else before
        return left

    def colset(self) -> str | None:
        """A column filter (``title:``, ``-{title body}:``) if one starts here."""
        start = self.i
        minus = ""
        if self.peek() == "-":
            self.take("-")
            minus = "-"
        if self.peek() == "{":
            self.take("{")
            names = []
            while self.peek() == "STRING":
                names.append(_quote(self.take("STRING")))
            self.take("}")
            if self.peek() == ":":
                self.take(":")
                return minus + "{" + " ".join(names) + "}:"
        elif self.peek() == "STRING" and self.peek(1) == ":":
            name = self.take("STRING")
            self.take(":")
            return minus + _quote(name) + ":"
        self.i = start
        if minus:
            raise _Unparsable
        return None

    # primary := colset ':' '(' or_expr ')' | '(' or_expr ')' | cnearset+
    def primary(self) -> str:
        start = self.i
        cols = self.colset()
        if self.peek() == "(":
            self.take("(")
            inner = self.or_expr()
            self.take(")")
            return f"{cols or ''}({inner})"
        self.i = start
        items = [self.cnearset()]
        while self.peek() in ("STRING", "-", "{", "^"):
            items.append(self.cnearset())
        return items[0] if len(items) == 1 else "(" + " AND ".join(items) + ")"

    # cnearset := [colset ':'] (['^'] phrase | NEAR '(' phrase+ [',' N] ')')
    def cnearset(self) -> str:
        cols = self.colset() or ""
        if self.peek() == "STRING" and self.tokens[self.i][1] == "NEAR" and self.peek(1) == "(":
            self.take("STRING")
            self.take("(")
            tokens: list[str] = []
            while self.peek() == "STRING":
                tokens.extend(self.phrase())
            if self.peek() == ",":
                self.take(",")
                if not self.take("STRING").isdigit():
                    raise _Unparsable
            self.take(")")
            self.relaxed = self.near = True
            return cols + self.conjunction(tokens)
        if self.peek() == "^":
            self.take("^")
            self.relaxed = True
        tokens = self.phrase()
        if len(tokens) > 1:
            self.relaxed = True
        return cols + self.conjunction(tokens)

    # phrase := STRING ['*'] ('+' STRING ['*'])*; returns its tokens, quoted (prefix: *)
    def phrase(self) -> list[str]:
        tokens: list[str] = []
        # The phrase's words in order; None once a part of no token makes it unknowable here.
        ordered: list[tuple[str, bool]] | None = []
        while True:
            text = self.take("STRING")
            star = self.peek() == "*"
            if star:
                self.take("*")
            words = self.split(text)
            marked = [(w, star and i == len(words) - 1) for i, w in enumerate(words)]
            self.words.extend(marked)
            if ordered is not None:
                ordered = ordered + marked if words else None
            parts = [_quote(t) for t in words]
            if not parts:
                parts = [_quote(text)]  # no token at all: FTS5 decides what it matches
                self.opaque = True
            if star:
                parts[-1] += "*"
            if not self._negated:
                self.terms.extend(p for p in parts if p not in self.terms)
            tokens.extend(parts)
            if self.peek() != "+":
                if ordered is not None and len(ordered) > 1 and not self._negated:
                    self.phrases.append(tuple(ordered))
                return tokens
            self.take("+")

    @staticmethod
    def conjunction(tokens: list[str]) -> str:
        return tokens[0] if len(tokens) == 1 else "(" + " AND ".join(tokens) + ")"


@attrs.frozen
class Analysis:
    """What the search needs to know about a query."""

    #: A query the position-less index can answer that matches a superset of what the query
    #: matches; None when the query needs no positions (or could not be parsed).
    relaxed: str | None
    #: The tokens the query asks for outside NOT, each an FTS5 string (``"vote"``, ``"vot"*``).
    terms: tuple[str, ...]
    #: For a relaxed query, what shrinks a candidate's text before it is checked, if anything.
    reducer: TextReducer | None = None
    #: Whether the query has an ``OR`` (so a match need not hold every word).
    alternatives: bool = False
    #: For a relaxed query, a quick test that rules out most candidates before their check.
    phrase_filter: PhraseFilter | None = None
    #: Phrases every match holds (none when the query has an ``OR``): their words' stems,
    #: None for a prefix word, for the store's phrase signatures (:mod:`corpus.store.pairs`).
    phrases: tuple[tuple[str | None, ...], ...] = ()


def word_prefix(stem: str) -> str | None:
    """What every ASCII word the index keeps as ``stem`` starts with (lowercased), or None
    when that is not known (a stem too short, or not plain letters and digits).

    The Porter stemmer rewrites only the end of a word, and its stem differs from the word in
    at most the stem's last letter (checked on 190,000 words made of every suffix its rules
    know, chained), so the word starts with ``stem[:-2]``, one letter to spare.
    """
    prefix = stem[:-2].lower()
    return prefix if prefix.isascii() and prefix.isalnum() else None


class PhraseFilter:
    """Rules out, without indexing it, a text that cannot hold a query's phrases.

    A relaxed query's candidates hold every word of its phrases, but for a phrase of common
    words that seldom meet, nearly none holds them side by side, and checking each candidate
    in an FTS5 table costs far more than a regular expression over its text. Every match
    holds each phrase (the query has no ``OR`` and the phrase is outside ``NOT``), so a text
    in which no run of tokens could be indexed as the phrase cannot match. Which tokens can:
    those starting with the :func:`word_prefix` of a phrase word's stem; a prefix word
    (``vot*``), or one whose stem is too short to say, stands for any token. Only ASCII
    text is tested (its tokens are its runs of letters and digits); other text may match.
    """

    def __init__(self, patterns: list[re.Pattern[str]]) -> None:
        self.patterns = patterns

    @classmethod
    def for_phrases(cls, phrases: list[list[str | None]]) -> PhraseFilter | None:
        """The filter for ``phrases`` (each its words' stems, None for any token), or None
        when none of them says more than that its words are there."""
        patterns = []
        for stems in phrases:
            prefixes = [word_prefix(s) if s is not None else None for s in stems]
            known = [i for i, p in enumerate(prefixes) if p is not None]
            if len(known) < 2:
                continue  # one known word at most: the index already says it is there
            # From its first known word to its last: a pattern that starts with a literal is
            # found by a fast scan (a word boundary before it would cost that scan).
            words = [
                re.escape(p) + "[a-z0-9]*" if p is not None else "[a-z0-9]+"
                for p in prefixes[known[0] : known[-1] + 1]
            ]
            patterns.append(re.compile("[^a-z0-9]+".join(words)))
        return cls(patterns) if patterns else None

    def admits(self, title: str, body: str) -> bool:
        """Whether the document of ``title`` and ``body`` may match (False: it cannot)."""
        if not (title.isascii() and body.isascii()):
            return True
        low_title, low_body = title.lower(), body.lower()
        return all(p.search(low_body) or p.search(low_title) for p in self.patterns)


class TextReducer:
    """Shrinks a text for checking a phrase query on it without changing the outcome.

    Every word that cannot be indexed as one of the query's tokens becomes a filler word, and
    a run of them one filler (for a phrase or ``^``, a gap of one word is as good as many).
    Which words can: those starting with the :func:`word_prefix` of one of the query's
    stems. Only ASCII text is reduced (its tokens are its runs of
    letters and digits, lowercased); other text is checked whole. Queries with ``NEAR``
    (distances count words) and tokens of fewer than three letters are not reduced.
    """

    def __init__(self, prefixes: set[str]) -> None:
        self.prefixes = sorted(prefixes)
        self.filler = next(f for f in _FILLERS if not any(f.startswith(p) for p in prefixes))

    @classmethod
    def for_stems(cls, stems: list[str]) -> TextReducer | None:
        found = {word_prefix(s) for s in stems}
        if not stems or None in found:
            return None
        prefixes = {p for p in found if p is not None}
        if all(any(f.startswith(p) for p in prefixes) for f in _FILLERS):
            return None
        return cls(prefixes)

    def reduce(self, text: str) -> str:
        if not text.isascii():
            return text
        low = text.lower()
        # str.find is many times faster than a regular expression over a whole article.
        starts = set()
        for prefix in self.prefixes:
            at = low.find(prefix)
            while at != -1:
                if at == 0 or not low[at - 1].isalnum():
                    starts.add(at)
                    if len(starts) > _MOST_KEPT:
                        return text  # common letters: keeping most words costs more than it saves
                at = low.find(prefix, at + 1)
        out: list[str] = []
        end = 0
        for start in sorted(starts):
            if _ANY_TOKEN.search(low, end, start):
                out.append(self.filler)
            token = _TOKEN.match(low, start)
            out.append(token.group())  # type: ignore[union-attr]  # starts with a prefix
            end = token.end()  # type: ignore[union-attr]
        if _ANY_TOKEN.search(low, end):
            out.append(self.filler)
        return " ".join(out)


_FILLERS = ("qx", "xq", "zqx", "xqz", "qzx")
#: Occurrences of the prefixes in a text above which it is checked whole.
_MOST_KEPT = 64
_TOKEN = re.compile("[a-z0-9]+")
_ANY_TOKEN = re.compile("[a-z0-9]")


def relax(query: str) -> str | None:
    """:attr:`Analysis.relaxed` of ``query``."""
    return analyse(query).relaxed


def analyse(query: str) -> Analysis:
    """Parse ``query``: its relaxed form and its terms. A query this parser cannot read gives
    ``Analysis(None, ())``: FTS5 runs it as given (and says what is wrong with it)."""
    try:
        tokens = _lex(query)
    except _Unparsable:
        return Analysis(None, ())
    if not tokens:
        return Analysis(None, ())
    split = sqlite3.connect(":memory:")
    try:
        split.execute(f"CREATE VIRTUAL TABLE s USING fts5 (x, tokenize = '{_SPLIT_TOKENIZE}')")
        split.execute("CREATE VIRTUAL TABLE sv USING fts5vocab (s, instance)")
        relaxer = _Relaxer(tokens, split)
        try:
            relaxed = relaxer.or_expr()
        except _Unparsable:
            return Analysis(None, ())
        if relaxer.i != len(tokens):
            return Analysis(None, ())
        reducer = phrase_filter = None
        phrases: tuple[tuple[str | None, ...], ...] = ()
        if relaxer.relaxed:  # every word stemmed once, all in one FTS5 insert
            words = sorted({w for w, _ in relaxer.words})
            stemmer = Stemmer()
            try:
                stems = dict(zip(words, stemmer.stems(words), strict=True))
            finally:
                stemmer.close()
            if not relaxer.near and not relaxer.opaque:
                reducer = TextReducer.for_stems([stems[w] for w, _ in relaxer.words])
            if not relaxer.alternatives:
                phrases = tuple(
                    tuple(None if star else stems[w] for w, star in p) for p in relaxer.phrases
                )
                phrase_filter = PhraseFilter.for_phrases([list(p) for p in phrases])
    finally:
        split.close()
    return Analysis(
        relaxed if relaxer.relaxed else None,
        tuple(relaxer.terms),
        reducer,
        relaxer.alternatives,
        phrase_filter,
        phrases,
    )

"""Versions of one story, shared by the store tests: ONE -> TWO -> THREE."""

from __future__ import annotations

from corpus.model import Block, Document, Source

ONE = Document(
    key="world/duma",
    title="The Duma votes",
    blocks=[Block("Russia's parliament voted on Tuesday."), Block("The vote was close.")],
    source=Source("world/duma.txt", "1" * 64, "utf-8", 120),
)
TWO = Document(
    key="world/duma",
    title="The Duma votes again",
    blocks=[Block("Russia's parliament voted on Tuesday."), Block("The vote was not close.")],
    source=Source("world/duma.txt", "2" * 64, "utf-8", 124),
)
THREE = Document(
    key="world/duma",
    title="The Duma votes again",
    blocks=[
        Block("Russia's parliament voted on Tuesday, late in the evening."),
        Block("The vote was not close."),
        Block("The budget passed."),
    ],
    source=Source("world/duma.txt", "3" * 64, "utf-8", 170),
)

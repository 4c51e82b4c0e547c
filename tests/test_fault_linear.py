"""Every reader stays linear in its input: a large hostile input takes about ten times as
long as one a tenth its size, never a hundred times (quadratic).

Timed as ratios within one process (best of three for each size), with a generous bound, so
a busy machine does not fail them; a quadratic reader misses the bound by far.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest

from corpus.config import Config
from corpus.model import Block, Document, document_to_dict
from corpus.pipeline import STATUS_REJECTED, process_data
from corpus.plugins import Plugins, PluginSpec

PLUGINS = Plugins(PluginSpec(entry_points=False))
#: Ten times the input may take at most this many times as long (linear: about 10).
BOUND = 40
HEAD = "Title: A headline\nDate: 2022-02-26\n\n"


def nitf(body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><nitf><head><title>T</title></head><body>'
        "<body.head><hedline><hl1>Head</hl1></hedline></body.head><body.content>"
        f"{body}</body.content></body></nitf>"
    ).encode()


def json_document(blocks: int, keywords: int) -> bytes:
    document = Document(
        key="k",
        title="A headline",
        keywords=tuple(f"w{i}" for i in range(keywords)),
        blocks=[Block(f"Paragraph {i}.") for i in range(blocks)],
    )
    return json.dumps(document_to_dict(document)).encode()


def element_with(attributes: str, n: int) -> bytes:
    return nitf("<p " + " ".join(attributes.format(i=i) for i in range(n)) + ">x</p>")


HOSTILE: dict[str, tuple[str, Callable[[int], bytes]]] = {
    # lxml's attrib.items() is quadratic: 100,000 attributes on one element took 73 s
    "nitf-attributes": ("x.xml", lambda n: element_with('a{i}="v"', n)),
    "nitf-namespaces": ("x.xml", lambda n: element_with('xmlns:n{i}="u{i}"', n)),
    "nitf-inline-markup": ("x.xml", lambda n: nitf("<p>" + "<em>x</em> " * n + "</p>")),
    "nitf-paragraphs": ("x.xml", lambda n: nitf("<p>x</p>" * n)),
    "article-paragraphs": ("x.txt", lambda n: (HEAD + "Some words.\n\n" * n).encode()),
    "article-controls": ("x.txt", lambda n: (HEAD + "a\x0b" * n + "\n").encode()),
    "article-header-lines": ("x.txt", lambda n: ("T: x\n" + "Key: v\n" * n + "\nBody.\n").encode()),
    "article-huge-line": ("x.txt", lambda n: (HEAD + "word " * n).encode()),
    "json-blocks": ("x.json", lambda n: json_document(n // 3, 1)),  # a block is ~40 bytes
    "json-keywords": ("x.json", lambda n: json_document(1, n)),
}


def best_time(data: bytes, name: str) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        result = process_data(
            data, name, plugins=PLUGINS, config=Config(), formats=("nitf", "json")
        )
        best = min(best, time.perf_counter() - start)
    assert result.status != STATUS_REJECTED or result.findings  # a coded outcome either way
    assert not [f for f in result.findings if f.code == "INTERNAL_ERROR"]
    return best


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_readers_are_linear_in_a_large_hostile_input(case):
    name, make = HOSTILE[case]
    small, large = make(3_000), make(30_000)
    assert len(large) >= 9 * len(small)
    ratios = []
    for _ in range(3):  # a busy machine can spoil one measurement; a quadratic step spoils all
        ratios.append(best_time(large, name) / max(best_time(small, name), 1e-3))
        if ratios[-1] < BOUND:
            break
    assert min(ratios) < BOUND, f"{case}: 10x the input took {min(ratios):.0f}x as long"

"""A small store for the web view tests: histories with every kind of change, hostile text.

Run 1 records five documents and one rejected file; run 2 changes ``world/duma`` (headline,
edited paragraphs, a moved one, a cosmetic fix), changes ``evil/<script>``, splits a paragraph
of ``world/storm`` and leaves ``sport/final`` out (removed); run 3 changes ``world/duma`` once
more and merges the split paragraphs of ``world/storm`` again.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from corpus.model import Block, Document, Finding, Source
from corpus.pipeline import FileResult
from corpus.store import Store

ROOT = "articles"
DUMA = "world/duma"
EVIL = "evil/<script>"
ODD = "odd key/100% sure?#x"
FINAL = "sport/final"
STORM = "world/storm"
SCRIPT = "<script>alert('pwned')</script>"

PARAS_1 = [
    "Russia's parliament voted on Tuesday to approve the budget.",
    "The vote was close, with 226 deputies in favour.",
    "Opposition members walked out before the count. They said the debate was rushed.",
    "The finance minister welcomed the result.",
    "Analysts expect the upper house to follow within a week.",
    "The budget runs to thirty trillion roubles.",
    "Defence takes the largest share of it.",
    "Health spending rises slightly.",
    "Markets barely moved on the news.",
    "The next session is due in March.",
]
PARAS_2 = [
    "Russia's parliament voted on Tuesday to approve the budget.",
    "The vote was not close, with 301 deputies in favour.",
    "The finance minister welcomed the result.",
    "Opposition members walked out before the count.",
    "They said the debate was rushed.",
    "Analysts expect the upper house to follow within a week.",
    "The budget runs to thirty trillion roubles.",
    "Defence takes the largest share of it.",
    "Health spending rises slightly.",
    "Markets barely moved on the news.",
    "The next session is due in March!",
]
PARAS_3 = [*PARAS_2[:-1], "The next session is due in April."]
STORM_ONE = [
    "The storm hit the coast on Monday night and flooded the harbour. Thousands of homes lost "
    "power across the region.",
    "Schools will stay closed until Thursday.",
]
STORM_TWO = [
    "The storm hit the coast on Monday night and flooded the harbour.",
    "Thousands of homes lost power across the region.",
    STORM_ONE[1],
]


def _doc(key: str, title: str, paras: list[str], n: int = 1) -> Document:
    return Document(
        key=key,
        title=title,
        blocks=[Block(p) for p in paras],
        source=Source(f"{key}.txt", f"{n:x}" * 64, "utf-8", 100 + n),
    )


def _ok(doc: Document) -> FileResult:
    return FileResult(f"{doc.key}.txt", "ok", (), doc)


def build_store(path: Path) -> Path:
    """Write the store at ``path`` (three runs) and return ``path``."""
    evil_1 = _doc(EVIL, f"Evil {SCRIPT} title", [f"Body with {SCRIPT} inside.", "Second."], 1)
    evil_2 = _doc(
        EVIL, f"Evil {SCRIPT} title", [f"Body with {SCRIPT} inside.", f"More {SCRIPT}."], 2
    )
    with Store.open(path) as store:
        with store.begin_run(roots=[ROOT], arguments=["articles"]) as run:
            run.record(ROOT, _ok(_doc(DUMA, "The Duma votes", PARAS_1, 1)))
            run.record(ROOT, _ok(evil_1))
            run.record(ROOT, _ok(_doc(ODD, "An odd key", ["Zeppelins are rare here."], 1)))
            run.record(ROOT, _ok(_doc(FINAL, "Cup final tonight", ["Kick-off at eight."], 1)))
            run.record(ROOT, _ok(_doc(STORM, "Storm floods the harbour", STORM_ONE, 1)))
            bad = Finding("NO_BODY", "error", "the file has a header but no body", "bad.txt", 3)
            run.record(ROOT, FileResult("bad.txt", "rejected", (bad,), None))
        with store.begin_run(roots=[ROOT], arguments=["articles"]) as run:
            run.record(ROOT, _ok(_doc(DUMA, "The Duma votes again", PARAS_2, 2)))
            run.record(ROOT, _ok(evil_2))
            run.record(ROOT, _ok(_doc(ODD, "An odd key", ["Zeppelins are rare here."], 1)))
            run.record(ROOT, _ok(_doc(STORM, "Storm floods the harbour", STORM_TWO, 2)))
        with store.begin_run(roots=[ROOT], arguments=["articles"]) as run:
            run.record(ROOT, _ok(_doc(DUMA, "The Duma votes again", PARAS_3, 3)))
            run.record(ROOT, _ok(evil_2))
            run.record(ROOT, _ok(_doc(ODD, "An odd key", ["Zeppelins are rare here."], 1)))
            run.record(ROOT, _ok(_doc(STORM, "Storm floods the harbour", STORM_ONE, 3)))
    return path


def start_server(store: Path, *options: str) -> tuple[subprocess.Popen[str], str]:
    """``corpus serve --port 0`` on ``store`` in a subprocess; (process, the URL it printed).

    The caller stops it (SIGINT, as Ctrl-C would).
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "corpus", "serve", "--store", str(store), "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + 60
    line = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line or proc.poll() is not None:
            break
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not match:
        proc.kill()
        raise AssertionError(f"no URL printed: {line!r} {proc.stderr.read()}")
    return proc, match.group(0)

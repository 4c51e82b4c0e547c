"""Web view benchmark: page times of ``corpus serve`` on the 100,000-document store of store.py.

    python bench/serve.py                         # builds the store in a temporary folder
    python bench/serve.py --store big.db          # builds it there once, then reuses it
    python bench/serve.py -n 20000 --rounds 11    # smaller, more rounds

The store is the one ``bench/store.py`` makes (synthetic articles, then a re-ingest with 1%
changed, so 1,000 documents have two versions). Pages are requested through Datasette's ASGI
client in this process (routing, store reads, diffing and templates; no sockets), each round in
turn, and the median is printed with its ratio to a baseline request made in the same rounds:
Datasette's own page for one row of the ``documents`` table. ``cold`` pages ask for a document
whose diff is not cached yet (another document every round); the others repeat one request.
Target: every page under 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from store import VOCAB, first_ingest, re_ingest  # noqa: E402

from corpus.serve import build_datasette  # noqa: E402
from corpus.store import Store  # noqa: E402

TARGET_MS = 200.0


def build(path: Path, n: int) -> None:
    """The store of bench/store.py: ``n`` articles, then a re-ingest with 1% changed."""
    root = str(path.parent / "articles")
    started = time.perf_counter()
    with Store.open(path) as store:
        first_ingest(store, root, n)
        re_ingest(store, root, n, 100)
        store.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print(f"built {n:,} documents in {time.perf_counter() - started:.0f} s: {path}")


def key(i: int) -> str:
    return f"{i % 100:02d}/article{i:06d}"


def doc(i: int, rest: str = "") -> str:
    return "/doc/" + urllib.parse.quote(key(i), safe="/") + rest


async def measure(ds, pages: dict[str, object], rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in pages}
    for path in pages.values():  # warm up: templates compiled, page cache filled
        if not callable(path):
            await ds.client.get(path)
    for r in range(rounds):
        for name, path in pages.items():
            url = path(r) if callable(path) else path
            t = time.perf_counter()
            response = await ds.client.get(url)
            times[name].append((time.perf_counter() - t) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{url}: HTTP {response.status_code}")
    return times


def _timed(func) -> float:
    t = time.perf_counter()
    func()
    return (time.perf_counter() - t) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000, help="documents (default 100,000)")
    parser.add_argument("--store", type=Path, help="store to use (built there when missing)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds (default 7)")
    args = parser.parse_args()

    workdir = None
    path = args.store
    if path is None:
        workdir = tempfile.TemporaryDirectory(prefix="corpus-serve-bench-")
        path = Path(workdir.name) / "corpus.db"
    if not path.exists():
        build(path, args.n)
    with Store.open(path, create=False) as store:
        stats = store.stats()
    n = stats["documents"]
    print(
        f"store: {n:,} documents, {stats['versions']:,} versions, "
        f"{stats['store_bytes'] / 2**20:,.0f} MiB; {os.cpu_count()} CPUs; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    ds = build_datasette(str(path))
    db = path.stem
    changed = [i for i in range(0, n, 100)]  # every 100th document has two versions
    pages: dict[str, object] = {
        "baseline: Datasette row page": f"/{db}/documents/{n // 2}",
        "home": "/",
        "search (rare word)": "/search?q=zeppelin",
        "search (news word, ~20%)": "/search?q=duma",
        "search (common word)": f"/search?q={VOCAB[0]}",
        "search page 3, state filter": "/search?q=duma&state=present&page=3",
        "document": doc(n // 2 + 1),
        "document with history (cold)": lambda r: doc(changed[(2 * r + 1) % len(changed)]),
        "diff (cold)": lambda r: doc(changed[(2 * r) % len(changed)], "/diff"),
        "diff (cached)": doc(changed[-1], "/diff"),
        "diff inline, cosmetic hidden": doc(changed[-1], "/diff?view=inline&cosmetic=hide"),
        "run page (1,000 changed)": f"/runs/{stats['last_run']['id']}",
        "run page (100,000 new)": "/runs/1",
        "feed.atom": "/feed.atom",
    }
    times = asyncio.run(measure(ds, pages, args.rounds))
    with Store.open(path, create=False) as store:
        for word in ("zeppelin", "duma", VOCAB[0]):
            times[f"  (Store.search alone: {word})"] = [
                _timed(lambda w=word: store.search(w, limit=21)) for _ in range(args.rounds)
            ]
    base = times["baseline: Datasette row page"]
    print(f"\npage (median of {args.rounds} rounds)        median ms   min-max ms   x baseline")
    worst = 0.0
    for name, values in times.items():
        med = statistics.median(values)
        ratios = [v / b for v, b in zip(values, base, strict=True)]
        paged = not name.startswith(("baseline", "run", "feed", " "))
        flag = "  OVER TARGET" if paged and med >= TARGET_MS else ""
        if paged:
            worst = max(worst, med)
        print(
            f"  {name:<34} {med:8.1f}   {min(values):6.1f}-{max(values):<6.1f} "
            f"{statistics.median(ratios):8.1f}{flag}"
        )
    print(f"\nslowest home/search/document/diff page: {worst:.1f} ms (target {TARGET_MS:.0f} ms)")
    if workdir is not None:
        workdir.cleanup()


if __name__ == "__main__":
    main()

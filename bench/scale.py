"""Scale benchmark: generated articles streamed to disk, ingested with the store, re-ingested.

    python bench/scale.py -n 100000             # ~470 MB of articles, store on (the default)
    python bench/scale.py -n 1000000 --jobs 2   # the issue's target size
    python bench/scale.py -n 20000 --keep DIR   # keep the articles and store in DIR

Articles (about 4.7 KB each, in folders of 1,000) are written one at a time, so the corpus is
never held in memory. Then ``corpus ingest SRC -o OUT --store DB --jobs J`` runs in a
subprocess (as a user would run it), then again over the unchanged corpus. Printed: wall
time, documents per second, peak RSS of the parent and of its largest worker, the store's
size against the input bytes, and ``show`` / ``log`` / ``search`` latencies inside the store
(median of repeated queries on random keys).
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SYLLABLES = [
    "ka", "lo", "mi", "ra", "te", "su", "no", "vi", "de", "pa", "ri", "to", "ma", "sel",
    "gor", "bin", "tas", "mer", "lin", "dov", "an", "el", "us", "or",
]  # fmt: skip
NEWS_WORDS = ["duma", "budget", "election", "minister", "parliament", "vote", "ukraine", "storm"]


def vocabulary(size: int = 20000) -> list[str]:
    rng = random.Random(7)
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


VOCAB = vocabulary()
# Zipf-like weights: a few words are everywhere, most are rare, as in real text (random
# words from a short list would compress and index far better than news does).
CUM_WEIGHTS = list(itertools.accumulate(1.0 / (rank + 10) for rank in range(len(VOCAB))))


def article(i: int) -> str:
    """Synthetic article ``i`` in the plain-text format: a date line, a title, paragraphs."""
    rng = random.Random(i)
    title = " ".join(rng.choices(VOCAB, cum_weights=CUM_WEIGHTS, k=rng.randint(5, 9)))
    paras = []
    for p in range(rng.randint(6, 10)):
        words = rng.choices(VOCAB, cum_weights=CUM_WEIGHTS, k=rng.randint(48, 78))
        if rng.random() < 0.2:
            words[rng.randrange(len(words))] = rng.choice(NEWS_WORDS)
        if p == 0 and i % 1000 == 0:
            words[0] = "zeppelin"  # a rare word: 1 document in 1000
        paras.append(" ".join(words).capitalize() + ".")
    day = f"2022-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    return f" date {day} {title.capitalize()}\n\n" + "\n\n".join(paras) + "\n"


def rel_path(i: int) -> str:
    return f"batch{i // 1000:04d}/article{i:07d}.txt"


def write_corpus(folder: Path, n: int) -> int:
    """Write ``n`` articles one by one; returns their total size in bytes."""
    total = 0
    for i in range(n):
        path = folder / rel_path(i)
        if i % 1000 == 0:
            path.parent.mkdir(parents=True, exist_ok=True)
        data = article(i).encode("utf-8")
        path.write_bytes(data)
        total += len(data)
    return total


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(p) for p in fh.read().split()]
    except OSError:
        return []


def _hwm_kib(pid: int) -> int:
    """The peak resident set (VmHWM) of a running process, in KiB; 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_measured(cmd: list[str]) -> tuple[float, float, float]:
    """Run ``cmd``; (wall seconds, peak RSS of the process, peak RSS of its largest child) MiB.

    Peaks are the kernel's high-water marks (VmHWM), sampled every 0.2 s while the processes
    live, so only growth in a child's last 0.2 s could be missed.
    """
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    parent = child = 0
    while proc.poll() is None:
        parent = max(parent, _hwm_kib(proc.pid))
        stack = _children(proc.pid)
        while stack:
            pid = stack.pop()
            child = max(child, _hwm_kib(pid))
            stack.extend(_children(pid))
        time.sleep(0.2)
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed with exit status {proc.returncode}")
    return wall, parent / 1024, child / 1024


def latencies(db: Path, n: int, rounds: int = 50) -> dict[str, float]:
    """Median milliseconds of show, log and search inside the store (Python already running)."""
    from corpus.store import Store

    rng = random.Random(1)
    keys = [rel_path(rng.randrange(n))[:-4] for _ in range(rounds)]
    out: dict[str, float] = {}
    with Store.open(db, create=False) as store:
        checks = {
            "show": lambda k: store.version(k).document,
            "log": lambda k: store.versions(k),
            "search rare word": lambda k: store.search("zeppelin"),
            "search common word": lambda k: store.search("budget"),
            # Two words that are often in one document, seldom side by side: without token
            # positions (store schema 8) only the pair signatures (schema 10) spare checking
            # the text of every document holding both.
            "search phrase": lambda k: store.search('"duma vote"'),
            # The two most frequent words: the phrase is in about 1 document in 10.
            "search phrase, frequent": lambda k: store.search(f'"{VOCAB[0]} {VOCAB[1]}"'),
        }
        for name, check in checks.items():
            times = []
            for key in keys:
                t0 = time.perf_counter()
                check(key)
                times.append((time.perf_counter() - t0) * 1000)
            out[name] = statistics.median(times)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000, help="articles to generate")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep", help="work in this folder and keep it (default: a temp one)")
    parser.add_argument("--reuse", action="store_true", help="reuse articles already in --keep")
    args = parser.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="corpus-scale-"))
    src, out, db = work / "articles", work / "out", work / "corpus.db"
    try:
        if args.reuse and src.is_dir():
            size = sum(p.stat().st_size for p in src.rglob("*.txt"))
        else:
            shutil.rmtree(src, ignore_errors=True)
            src.mkdir(parents=True)
            t0 = time.perf_counter()
            size = write_corpus(src, args.n)
            print(f"generated {args.n:,} articles, {size / 1e6:,.0f} MB "
                  f"in {time.perf_counter() - t0:.0f} s")  # fmt: skip
        shutil.rmtree(out, ignore_errors=True)
        for path in work.glob("corpus.db*"):
            path.unlink()
        cmd = [sys.executable, "-m", "corpus", "ingest", str(src), "-o", str(out),
               "--store", str(db), "--jobs", str(args.jobs), "--quiet"]  # fmt: skip
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
        rows = []
        for label in ("first ingest", "unchanged re-ingest"):
            wall, parent, child = run_measured(cmd)
            rows.append((label, wall, args.n / wall, parent, child))
        print(
            f"\n{'phase':22s} {'wall s':>8s} {'docs/s':>8s} {'parent MiB':>11s} {'worker MiB':>11s}"
        )
        for label, wall, rate, parent, child in rows:
            print(f"{label:22s} {wall:8.1f} {rate:8.0f} {parent:11.0f} {child:11.0f}")
        store_bytes = db.stat().st_size
        print(f"\ninput {size / 1e6:,.0f} MB; store {store_bytes / 1e6:,.0f} MB = "
              f"{store_bytes / size:.2f}x the input (FTS included)")  # fmt: skip
        conn = __import__("sqlite3").connect(db)
        try:
            tables = conn.execute(
                "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
            ).fetchall()
            print("  " + ", ".join(f"{name} {pages / 1e6:.0f} MB" for name, pages in tables[:8]))
        except Exception:  # dbstat is a compile-time option of SQLite
            pass
        conn.close()
        print(f"load average after: {os.getloadavg()[0]:.1f}")
        print("\nlatency inside the store (median of 50, ms):")
        for name, ms in latencies(db, args.n).items():
            print(f"  {name:24s} {ms:8.1f}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

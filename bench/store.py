"""Store benchmark: 100,000 synthetic articles through the store API, then the commands on it.

    python bench/store.py                  # 100,000 documents (a few minutes)
    python bench/store.py -n 10000         # quicker
    python bench/store.py --cli 20000      # also `corpus ingest --store` on N files on disk
    python bench/store.py --memory 10000,100000   # peak RSS of a store ingest at each size

Phases: first ingest (``record`` for every document); re-ingest of the unchanged corpus (the
skip path ``corpus ingest`` takes: ``known_unchanged`` + ``record_unchanged``); re-ingest with
1% changed; then ``show``, ``log`` and ``search`` (the store query, the command in-process,
and the whole ``corpus`` process), ``ls`` and ``export``. Documents are generated, never held
all at once, so the figures are the store's own.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from corpus.model import Block, Document, Source
from corpus.pipeline import FileResult
from corpus.store import Store

SYLLABLES = [
    "ka", "lo", "mi", "ra", "te", "su", "no", "vi", "de", "pa", "ri", "to", "ma", "sel",
    "gor", "bin", "tas", "mer", "lin", "dov",
]  # fmt: skip
NEWS_WORDS = ["duma", "budget", "election", "minister", "parliament", "vote", "ukraine", "storm"]


def vocabulary(size: int = 6000) -> list[str]:
    rng = random.Random(7)
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


VOCAB = vocabulary()
# Zipf-like weights: a few words are everywhere, most are rare, as in real text.
CUM_WEIGHTS = list(itertools.accumulate(1.0 / (rank + 10) for rank in range(len(VOCAB))))


def article_text(i: int, edition: int = 0) -> tuple[str, list[str]]:
    """Title and paragraphs of synthetic article ``i`` (``edition`` > 0: a changed version)."""
    rng = random.Random(i)
    title = " ".join(rng.choices(VOCAB, cum_weights=CUM_WEIGHTS, k=rng.randint(5, 9))).capitalize()
    paras = []
    for p in range(rng.randint(4, 8)):
        words = rng.choices(VOCAB, cum_weights=CUM_WEIGHTS, k=rng.randint(30, 70))
        if rng.random() < 0.2:
            words[rng.randrange(len(words))] = rng.choice(NEWS_WORDS)
        if p == 0 and i % 1000 == 0:
            words[0] = "zeppelin"  # a rare word: 1 document in 1000
        paras.append(" ".join(words).capitalize() + ".")
    if edition:
        paras[-1] += f" Updated in edition {edition}."
    return title, paras


def raw_bytes(title: str, paras: list[str]) -> bytes:
    return ("\n\n".join([title, *paras])).encode("utf-8")


def make_result(i: int, edition: int = 0) -> FileResult:
    title, paras = article_text(i, edition)
    raw = raw_bytes(title, paras)
    rel = f"{i % 100:02d}/article{i:06d}.txt"
    doc = Document(
        key=rel[:-4],
        title=title,
        blocks=[Block(p) for p in paras],
        source=Source(rel, hashlib.sha256(raw).hexdigest(), "utf-8", len(raw)),
    )
    return FileResult(rel, "ok", (), doc)


def first_ingest(store: Store, root: str, n: int) -> tuple[float, float]:
    """(wall seconds, seconds inside the store) of recording ``n`` new documents."""
    started = time.perf_counter()
    in_store = 0.0
    run = store.begin_run(roots=[root], arguments=["bench", "first"])
    for i in range(n):
        result = make_result(i)
        t = time.perf_counter()
        run.record(root, result)
        in_store += time.perf_counter() - t
    t = time.perf_counter()
    run.finish()
    in_store += time.perf_counter() - t
    return time.perf_counter() - started, in_store


def re_ingest(
    store: Store, root: str, n: int, changed_every: int | None
) -> tuple[float, float, dict]:
    """What ``corpus ingest`` does with a store: hash the raw bytes, skip when unchanged.

    Returns (wall seconds, seconds inside the store, counts).
    """
    started = time.perf_counter()
    in_store = 0.0
    run = store.begin_run(roots=[root], arguments=["bench", "again"])
    for i in range(n):
        edition = 1 if changed_every and i % changed_every == 0 else 0
        title, paras = article_text(i, edition)
        rel = f"{i % 100:02d}/article{i:06d}.txt"
        digest = hashlib.sha256(raw_bytes(title, paras)).hexdigest()
        t = time.perf_counter()
        key = run.known_unchanged(root, rel, digest)
        if key is not None:
            run.record_unchanged(root, rel, key)
            in_store += time.perf_counter() - t
        else:
            result = make_result(i, edition)
            t = time.perf_counter()
            run.record(root, result)
            in_store += time.perf_counter() - t
    t = time.perf_counter()
    counts = run.finish()
    in_store += time.perf_counter() - t
    return time.perf_counter() - started, in_store, counts


def timed(func: Callable[[], object], repeat: int = 7) -> float:
    """Median wall time in milliseconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def cli_in_process(args: list[str]) -> Callable[[], object]:
    from click.testing import CliRunner

    from corpus.cli import build_state, cli

    state = build_state(args)
    state.plugins.register_commands(cli)
    runner = CliRunner()

    def run() -> object:
        result = runner.invoke(cli, args, obj=state, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result

    return run


def cli_process(args: list[str]) -> Callable[[], object]:
    cmd = [sys.executable, "-c", "from corpus.cli import main; main()", *args]

    def run() -> object:
        return subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)

    return run


# Peak RSS from VmHWM: ru_maxrss of a child started by a big parent reports the parent's peak.
PEAK_OF = (
    "def peak_kib():\n"
    "    try:\n"
    "        with open('/proc/self/status') as fh:\n"
    "            return next(int(l.split()[1]) for l in fh if l.startswith('VmHWM'))\n"
    "    except (OSError, StopIteration):\n"
    "        import resource\n"
    "        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
)
PEAK = (
    PEAK_OF + "import sys\n"
    "from corpus.cli import main\n"
    "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
    "print(peak_kib(), file=sys.stderr)\n"
)


def peak_rss_mib(args: list[str]) -> float:
    """Peak resident memory of one ``corpus`` command, in MiB."""
    done = subprocess.run(
        [sys.executable, "-c", PEAK, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=True,
    )
    return int(done.stderr.strip().splitlines()[-1]) / 1024


def iter_keys(n: int) -> Iterator[str]:
    for i in range(n):
        yield f"{i % 100:02d}/article{i:06d}"


def bench(n: int, workdir: Path, cli_files: int) -> None:
    db = workdir / "corpus.db"
    root = str(workdir / "articles")
    os.makedirs(root, exist_ok=True)
    print(
        f"store benchmark: {n:,} synthetic articles, SQLite {__import__('sqlite3').sqlite_version}"
    )
    with Store.open(db) as store:
        print("phase                              wall (s)  in store (s)  store docs/s")
        first, first_store = first_ingest(store, root, n)
        print(
            f"first ingest (record)              {first:8.1f}  {first_store:12.1f}  "
            f"{n / first_store:12.0f}"
        )
        same, same_store, counts = re_ingest(store, root, n, None)
        print(
            f"re-ingest unchanged (hash + skip)  {same:8.1f}  {same_store:12.1f}  "
            f"{n / same_store:12.0f}   {first_store / same_store:.1f}x faster in the store"
        )
        print(f"    {counts}")
        some, some_store, counts = re_ingest(store, root, n, 100)
        print(
            f"re-ingest 1% changed               {some:8.1f}  {some_store:12.1f}  "
            f"{n / some_store:12.0f}"
        )
        print(f"    {counts}")
        size = db.stat().st_size + (
            Path(f"{db}-wal").stat().st_size if Path(f"{db}-wal").exists() else 0
        )
        print(f"store size:                          {size / 2**20:8.1f} MiB")

        key = f"{(n // 2) % 100:02d}/article{(n // 2):06d}"
        changed_key = "00/article000000"
        api = {
            "show": lambda: store.load(key).document,
            "log": lambda: [store.version(changed_key, v.n) for v in store.versions(changed_key)],
            "search (rare word)": lambda: store.search("zeppelin"),
            "search (common word)": lambda: store.search(VOCAB[0]),
            "search (phrase)": lambda: store.search(f'"{VOCAB[0]} {VOCAB[1]}"'),
            "search (news word)": lambda: store.search("duma"),
        }
        print("\nquery in the store API (median of 7):")
        for name, func in api.items():
            print(f"  {name:<24} {timed(func):8.1f} ms")

    s = ["--store", str(db)]
    commands = {
        "show": ["show", *s, key],
        "show --to json": ["show", *s, key, "--to", "json"],
        "log": ["log", *s, changed_key],
        "search (rare word)": ["search", *s, "zeppelin"],
        "search (common word)": ["search", *s, VOCAB[0]],
        "stats": ["stats", *s],
        "runs": ["runs", *s],
    }
    print("\ncommand in-process (CliRunner, plugins loaded once; median of 7):")
    for name, args in commands.items():
        print(f"  {name:<24} {timed(cli_in_process(args)):8.1f} ms")
    print(f"  {'ls (all documents)':<24} {timed(cli_in_process(['ls', *s]), 3):8.1f} ms")
    print("\nwhole `corpus` process (interpreter start + plugin loading included; median of 5):")
    print(f"  {'corpus --version':<24} {timed(cli_process(['--version']), 5):8.1f} ms")
    for name in ("show", "log", "search (rare word)", "search (common word)"):
        print(f"  {name:<24} {timed(cli_process(commands[name]), 5):8.1f} ms")
    started = time.perf_counter()
    out = workdir / "export"
    peak_export = peak_rss_mib(["export", *s, "--to", "json", "-o", str(out), "-q"])
    print(
        f"\nexport --to json of {n:,}:   {time.perf_counter() - started:8.1f} s, "
        f"peak RSS {peak_export:.0f} MiB"
    )
    print(f"ls --json peak RSS:          {peak_rss_mib(['ls', *s, '--json']):8.0f} MiB")
    print(f"search peak RSS:             {peak_rss_mib(['search', *s, VOCAB[0]]):8.0f} MiB")
    if cli_files:
        bench_cli_ingest(cli_files, workdir)


def bench_cli_ingest(n: int, workdir: Path) -> None:
    """``corpus ingest --store`` on files on disk: first run, unchanged re-run, 1% changed."""
    folder = workdir / "files"
    for i in range(n):
        title, paras = article_text(i)
        path = folder / f"{i % 100:02d}" / f"article{i:06d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b" date 2024-05-01 " + raw_bytes(title, paras))
    db = workdir / "cli.db"
    args = [
        sys.executable,
        "-c",
        "from corpus.cli import main; main()",
        "ingest",
        str(folder),
        "--store",
        str(db),
        "-q",
        "--fail-on",
        "never",
    ]

    def run() -> float:
        started = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - started

    first = run()
    same = run()
    for i in range(0, n, 100):
        path = folder / f"{i % 100:02d}" / f"article{i:06d}.txt"
        path.write_bytes(path.read_bytes() + b" Updated.")
    some = run()
    print(f"\n`corpus ingest --store` on {n:,} files (no -o):")
    print(f"  first ingest        {first:8.1f} s")
    print(f"  unchanged re-ingest {same:8.1f} s  ({first / same:.1f}x faster)")
    print(f"  1% changed          {some:8.1f} s")


def memory(sizes: list[int], workdir: Path) -> None:
    """Peak RSS of a first ingest into a fresh store, per corpus size: it must stay flat."""
    code = PEAK_OF + (
        "import sys\n"
        "sys.path.insert(0, sys.argv[3])\n"
        "import store as bench\n"
        "from corpus.store import Store\n"
        "with Store.open(sys.argv[1]) as s:\n"
        "    bench.first_ingest(s, sys.argv[4], int(sys.argv[2]))\n"
        "print(peak_kib())\n"
    )
    for size in sizes:
        db = workdir / f"mem{size}.db"
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                code,
                str(db),
                str(size),
                str(Path(__file__).parent),
                str(workdir),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        print(
            f"peak RSS, first ingest of {size:>7,} documents: "
            f"{int(done.stdout.split()[-1]) / 1024:6.0f} MiB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000, help="documents (default 100,000)")
    parser.add_argument(
        "--cli",
        type=int,
        default=0,
        metavar="N",
        help="also time `corpus ingest --store` on N files",
    )
    parser.add_argument("--memory", metavar="SIZES", help="comma-separated corpus sizes")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="corpus-store-bench-"))
    try:
        if args.memory:
            memory([int(x) for x in args.memory.split(",")], workdir)
        else:
            bench(args.n, workdir, args.cli)
    finally:
        if args.keep:
            print(f"work folder kept: {workdir}")
        else:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Ingest benchmark: corpus ingest (NITF + JSON) against a minimal baseline, in one run.

    python bench/ingest.py                 # 10,000 articles: baseline, --jobs 1, --jobs 2
    python bench/ingest.py -n 2000         # quicker
    python bench/ingest.py --memory 10000,50000   # peak RSS of an ingest at each size
    python bench/ingest.py -n 2000 --repeat 5 --examples   # cost of the three example plugins

The baseline does the least an ingest must: read the file, split the date line and the
paragraphs, build the NITF tree with lxml, dump JSON, and write both files. corpus does all that
plus encoding detection, findings, plugins, validators, XML sanitizing and atomic writes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lxml import etree

WORDS = [
    "the",
    "minister",
    "said",
    "on",
    "Friday",
    "that",
    "parliament",
    "would",
    "vote",
    "next",
    "week",
    "on",
    "a",
    "plan",
    "to",
    "raise",
    "taxes",
    "for",
    "energy",
    "companies",
    "while",
    "critics",
    "warned",
    "prices",
    "could",
    "rise",
    "again",
    "in",
    "winter",
    "as",
    "officials",
    "in",
    "Moscow",
    "Kyiv",
    "Brussels",
    "and",
    "London",
    "met",
    "to",
    "discuss",
    "sanctions",
    "and",
    "aid",
]


def make_corpus(folder: Path, n: int, seed: int = 7) -> None:
    """``n`` synthetic articles of about 3 KB in folders of 1,000."""
    rng = random.Random(seed)
    for i in range(n):
        sub = folder / f"batch{i // 1000:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        title = " ".join(rng.choice(WORDS) for _ in range(9)).capitalize()
        paras = []
        for _ in range(rng.randint(8, 16)):
            sentence = " ".join(rng.choice(WORDS) for _ in range(rng.randint(25, 40)))
            paras.append(sentence.capitalize() + ".")
        day = f"2022-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        text = f" date {day} {title}\n\n" + "\n\n".join(paras) + "\n"
        (sub / f"article{i:06d}.txt").write_text(text, encoding="utf-8")


NITF = "http://iptc.org/std/NITF/2006-10-18/"


def baseline(src: Path, out: Path) -> int:
    """Read, split header and paragraphs, build NITF with lxml, dump JSON, write both."""
    count = 0
    for path in sorted(src.rglob("*.txt")):
        text = path.read_text(encoding="utf-8")
        head, _, body = text.partition("\n\n")
        parts = head.strip().split(" ", 2)
        date, title = parts[1], parts[2] if len(parts) > 2 else ""
        paras = [p.strip() for p in body.split("\n\n") if p.strip()]
        root = etree.Element(f"{{{NITF}}}nitf", nsmap={None: NITF})
        head_el = etree.SubElement(root, f"{{{NITF}}}head")
        etree.SubElement(head_el, f"{{{NITF}}}title").text = title
        body_el = etree.SubElement(root, f"{{{NITF}}}body")
        hl = etree.SubElement(
            etree.SubElement(body_el, f"{{{NITF}}}body.head"), f"{{{NITF}}}hedline"
        )
        etree.SubElement(hl, f"{{{NITF}}}hl1").text = title
        content = etree.SubElement(body_el, f"{{{NITF}}}body.content")
        for p in paras:
            etree.SubElement(content, f"{{{NITF}}}p").text = p
        rel = path.relative_to(src).with_suffix("")
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.with_suffix(".xml").write_bytes(
            etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        )
        doc = {
            "key": str(rel),
            "title": title,
            "date": date,
            "blocks": [{"text": p} for p in paras],
        }
        target.with_suffix(".json").write_text(
            json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        count += 1
    return count


#: The example plugins (plugins/), as a user who installed all three has them.
EXAMPLES = {
    "quotes": "corpus_quotes",
    "readability": "corpus_readability",
    "markdown": "corpus_markdown",
}


def example_plugins():
    """The three example plugins loaded from plugins/ (what ``pip install ./plugins/...`` gives)."""
    import importlib

    from corpus.plugins import Plugins, PluginSpec

    root = Path(__file__).resolve().parent.parent / "plugins"
    for folder in ("corpus-quotes", "corpus-readability", "corpus-markdown"):
        if str(root / folder) not in sys.path:
            sys.path.insert(0, str(root / folder))
    plugins = Plugins(PluginSpec(entry_points=False))
    for name, module in EXAMPLES.items():
        plugins.register(importlib.import_module(module), name=name)
    return plugins


def run_corpus(
    src: Path, out: Path, jobs: int, examples: bool = False, store: bool = False
) -> dict:
    """One ingest; ``store`` records it in a new store beside ``out`` (the CLI's default)."""
    from corpus.config import Config
    from corpus.ingest import IngestOptions, run_ingest
    from corpus.plugins import Plugins, PluginSpec

    plugins = example_plugins() if examples else Plugins(PluginSpec(entry_points=False))
    db = str(out) + ".db" if store else None
    options = IngestOptions(sources=(str(src),), output=str(out), jobs=jobs, store=db)
    report = run_ingest(options, plugins=plugins, config=Config())
    totals = report.totals_dict()
    report.cleanup()
    if db:
        for path in Path(db).parent.glob(Path(db).name + "*"):
            path.unlink()
    return totals


#: CPU seconds of this process per phase and round (--jobs 1 phases run in this process, so
#: their CPU time is their work, steadier than wall time on a shared machine).
CPU: dict[str, list[float]] = {}


def timed(fn, *args) -> tuple[float, object]:
    start, cpu = time.perf_counter(), time.process_time()
    result = fn(*args)
    timed.cpu = time.process_time() - cpu  # type: ignore[attr-defined]
    return time.perf_counter() - start, result


def speed(n: int, work: Path, repeat: int = 1, examples: bool = False) -> None:
    src = work / "src"
    make_corpus(src, n)
    size = sum(p.stat().st_size for p in src.rglob("*.txt")) / 1e6
    print(f"corpus of {n} articles, {size:.1f} MB; best of {repeat} rounds (interleaved)")
    phases = [
        ("baseline", lambda out: baseline(src, out)),
        ("corpus --jobs 1", lambda out: run_corpus(src, out, 1)),
        ("corpus --jobs 2", lambda out: run_corpus(src, out, 2)),
    ]
    if examples:
        phases[2:2] = [
            ("+ 3 examples", lambda out: run_corpus(src, out, 1, examples=True)),
            ("with a store", lambda out: run_corpus(src, out, 1, store=True)),
            ("store + 3 examples", lambda out: run_corpus(src, out, 1, True, store=True)),
        ]
    best: dict[str, float] = {}
    rounds: list[dict[str, float]] = []
    for _ in range(repeat):  # rounds interleave the phases, so drifts hit them alike
        times: dict[str, float] = {}
        for name, fn in phases:
            out = work / name.replace(" ", "_").replace("-", "")
            seconds, result = timed(fn, out)
            CPU.setdefault(name, []).append(timed.cpu)  # type: ignore[attr-defined]
            times[name] = seconds
            best[name] = min(best.get(name, seconds), seconds)
            print(f"{name:<18} {seconds:7.2f} s  {n / seconds:8.0f} docs/s   ({result})")
            shutil.rmtree(out)
        rounds.append(times)
    base, one, two = best["baseline"], best["corpus --jobs 1"], best["corpus --jobs 2"]
    print(f"best: baseline {base:.2f} s, --jobs 1 {one:.2f} s, --jobs 2 {two:.2f} s")
    print(f"ratio --jobs 1 / baseline: {one / base:.2f}x  (target <= 2.0x)")
    print(f"speed-up --jobs 2 vs --jobs 1: {one / two:.2f}x  (target >= 1.6x)")
    if repeat > 1:
        # Within a round the phases run back to back, under the same load: the median of the
        # per-round figures is the steadier one on a shared machine.
        ratio = statistics.median(r["corpus --jobs 1"] / r["baseline"] for r in rounds)
        gain = statistics.median(r["corpus --jobs 1"] / r["corpus --jobs 2"] for r in rounds)
        print(f"median of rounds: ratio {ratio:.2f}x, speed-up {gain:.2f}x")
    if examples:
        cost = best["+ 3 examples"] / one
        print(f"ratio with the 3 example plugins / without: {cost:.2f}x (target <= 1.5x)")
        if repeat > 1:
            per_round = statistics.median(r["+ 3 examples"] / r["corpus --jobs 1"] for r in rounds)
            print(f"median of rounds: examples ratio {per_round:.2f}x")
        cpu = statistics.median(
            a / b for a, b in zip(CPU["+ 3 examples"], CPU["corpus --jobs 1"], strict=True)
        )
        print(f"median of rounds, CPU time of this process: examples ratio {cpu:.2f}x")
        # The command line records every ingest in a store by default (corpus.db).
        stored = statistics.median(r["store + 3 examples"] / r["with a store"] for r in rounds)
        cpu = statistics.median(
            a / b for a, b in zip(CPU["store + 3 examples"], CPU["with a store"], strict=True)
        )
        print(
            f"with a store (the CLI default), examples ratio: median {stored:.2f}x wall, "
            f"{cpu:.2f}x CPU (target <= 1.5x)"
        )


def peak_rss(n: int, work: Path) -> float:
    """Peak RSS (MB) of a child process that ingests ``n`` articles with --jobs 1."""
    src = work / f"mem{n}"
    make_corpus(src, n)
    code = (
        "import sys, resource; sys.path.insert(0, sys.argv[3]);"
        "from bench.ingest import run_corpus; from pathlib import Path;"
        "run_corpus(Path(sys.argv[1]), Path(sys.argv[2]), 1);"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    root = str(Path(__file__).resolve().parent.parent)
    proc = subprocess.run(
        [sys.executable, "-c", code, str(src), str(work / f"out{n}"), root],
        capture_output=True,
        text=True,
        check=True,
    )
    shutil.rmtree(src)
    shutil.rmtree(work / f"out{n}")
    return int(proc.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10_000, help="articles for the speed run")
    parser.add_argument("--memory", help="comma-separated sizes for the peak-memory run")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; the best of each counts")
    parser.add_argument(
        "--examples",
        action="store_true",
        help="also time --jobs 1 with the three example plugins (plugins/) loaded",
    )
    parser.add_argument(
        "--dir",
        default="/dev/shm" if os.path.isdir("/dev/shm") else None,
        help="where to write the corpus and outputs (default: /dev/shm, RAM-backed, so the "
        "disk of a shared machine does not swamp the comparison; pass a disk folder to "
        "include the disk)",
    )
    args = parser.parse_args()
    print(
        f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}; files in {args.dir or 'TMPDIR'}"
    )
    with tempfile.TemporaryDirectory(prefix="corpus-bench-", dir=args.dir) as tmp:
        work = Path(tmp)
        if not args.skip_speed:
            speed(args.n, work, args.repeat, args.examples)
        if args.memory:
            sizes = [int(s) for s in args.memory.split(",")]
            peaks = {n: peak_rss(n, work) for n in sizes}
            for n, mb in peaks.items():
                print(f"peak RSS ingesting {n:>6} articles: {mb:6.1f} MB")
            first, last = peaks[sizes[0]], peaks[sizes[-1]]
            print(
                f"growth {sizes[0]} -> {sizes[-1]}: {100 * (last - first) / first:+.1f}% "
                "(target within 10%)"
            )


if __name__ == "__main__":
    main()

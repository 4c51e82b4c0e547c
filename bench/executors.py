"""Executor benchmark: the local pool against a Dask LocalCluster on this machine, one run.

    python bench/executors.py -n 20000          # articles; --jobs 1 is the baseline
    python bench/executors.py -n 20000 --rounds 3 --tmp /dev/shm

Each round ingests the same generated articles (``bench/scale.py``'s generator, written once)
with ``--jobs 1``, ``--jobs 2`` (the local pool), ``--executor dask --workers 2`` (a
LocalCluster started by the run, its start-up included), and, when ``--scheduler`` is given,
on that running cluster (start-up excluded). Store off, outputs on disk. Printed: best and
median wall time per setting, and ratios to ``--jobs 1`` in the same round.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import write_corpus  # noqa: E402


def run(src: Path, out: Path, extra: list[str]) -> float:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "corpus", "ingest", str(src), "-o", str(out), "--no-store"]
    started = time.perf_counter()
    subprocess.run([*cmd, "--quiet", *extra], check=False, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--scheduler", help="also run on this running Dask cluster")
    parser.add_argument("--tmp", help="work here (e.g. /dev/shm: disk noise off)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="corpus-executors-", dir=args.tmp))
    try:
        src = work / "articles"
        src.mkdir()
        size = write_corpus(src, args.n)
        print(f"{args.n:,} articles, {size / 1e6:,.0f} MB; {os.cpu_count()} cores")
        settings = {
            "--jobs 1": ["--jobs", "1"],
            "--jobs 2 (local pool)": ["--jobs", "2"],
            "--executor dask --workers 2": ["--executor", "dask", "--workers", "2"],
        }
        if args.scheduler:
            settings["--executor dask --scheduler"] = [
                "--executor", "dask", "--scheduler", args.scheduler,
            ]  # fmt: skip
        times: dict[str, list[float]] = {name: [] for name in settings}
        ratios: dict[str, list[float]] = {name: [] for name in settings}
        for r in range(args.rounds):
            print(f"round {r + 1}: load average {os.getloadavg()[0]:.1f}")
            base = None
            for name, extra in settings.items():
                wall = run(src, work / "out", extra)
                base = base or wall
                times[name].append(wall)
                ratios[name].append(base / wall)
        print(f"\n{'setting':32s} {'best s':>8s} {'median s':>9s} {'docs/s':>8s} {'speed-up':>9s}")
        for name in settings:
            best = min(times[name])
            print(
                f"{name:32s} {best:8.1f} {statistics.median(times[name]):9.1f} "
                f"{args.n / best:8.0f} {statistics.median(ratios[name]):8.2f}x"
            )
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""``corpus ingest --executor dask`` on a LocalCluster of 2 worker processes (loopback only).

One cluster serves the whole module (starting one costs seconds). Checked: the output tree
and report are byte-identical to ``--jobs 1``; a worker killed mid-shard has its shard run
again and nothing is lost; a file that kills every worker is rejected as ``WORKER_DIED``;
SIGINT stops the run, writes the report and leaves no staged file; the executor seam itself
(``run_shards`` with the built-in ``local`` executor) gives the same results.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from corpus.config import Config
from corpus.ingest import IngestOptions, run_ingest
from corpus.plugins import Plugins, PluginSpec

distributed = pytest.importorskip("distributed")
import dask  # noqa: E402  (after the skip: the dask extra is optional)

import corpus.shards  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = ROOT / "fixtures" / "articles"
BAD = ROOT / "fixtures" / "bad"


@pytest.fixture(scope="module")
def scheduler():
    """A LocalCluster on 127.0.0.1 (2 processes, 1 thread each, HTTP on a free loopback port).

    ``allowed-failures`` 1, as the executor's own clusters have: a shard is run again once
    after its worker died.
    """
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            silence_logs=50,
        )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


@pytest.fixture
def small_shards(monkeypatch):
    monkeypatch.setattr(corpus.shards, "SHARD_SIZE", 4)  # several shards from a small corpus


def ingest(src: Path, out: Path, *, plugins: Plugins, config: Config | None = None, **kwargs):
    options = IngestOptions(sources=(str(src),), output=str(out), **kwargs)
    return run_ingest(options, plugins=plugins, config=config or Config())


def mixed_corpus(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    shutil.copytree(ARTICLES, src / "good")
    shutil.copytree(BAD, src / "bad", ignore=shutil.ignore_patterns("expected.json"))
    return src


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) by relative path, the report's run
    header (times, output path) left out."""
    files = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if path.name == "report.json":
                data = b"\n".join(data.split(b"\n")[2:])  # line 2 is the run header
            files[str(path.relative_to(folder))] = data
    return files


def test_dask_gives_byte_identical_outputs_and_report_to_jobs_1(tmp_path, scheduler, small_shards):
    src = mixed_corpus(tmp_path)
    plugins = Plugins()
    one = ingest(src, tmp_path / "one", plugins=plugins, jobs=1, store=str(tmp_path / "1.db"))
    dask_run = ingest(
        src,
        tmp_path / "dask",
        plugins=plugins,
        executor="dask",
        scheduler=scheduler,
        store=str(tmp_path / "d.db"),
    )
    assert dask_run.files == one.files
    assert dask_run.totals_dict() == one.totals_dict()
    assert one.totals_dict()["files"] > 3 * corpus.shards.SHARD_SIZE
    assert tree(tmp_path / "dask") == tree(tmp_path / "one")  # no stage folder left either


def test_records_of_one_archive_stage_apart_on_dask(tmp_path, scheduler):
    """A WARC's captures share the archive's path: their stages must not overwrite each
    other, so the outputs (the latest capture of each page) are those of --jobs 1."""
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(ROOT / "fixtures" / "html" / "captures.warc.gz", src)
    plugins = Plugins()
    one = ingest(src, tmp_path / "one", plugins=plugins, jobs=1, store=str(tmp_path / "1.db"))
    dask_run = ingest(
        src,
        tmp_path / "dask",
        plugins=plugins,
        executor="dask",
        scheduler=scheduler,
        store=str(tmp_path / "d.db"),
    )
    assert dask_run.files == one.files
    assert tree(tmp_path / "dask") == tree(tmp_path / "one")


def test_a_worker_killed_mid_shard_has_its_shard_run_again(tmp_path, scheduler, small_shards):
    src = tmp_path / "src"
    shutil.copytree(ARTICLES, src)
    (src / "victim.txt").write_text(" date 2024-01-02 KILL-ONCE story\n\nBody text.\n")
    plugins = Plugins(PluginSpec(modules=("killer_plugin",), entry_points=False))
    markers = tmp_path / "markers"
    markers.mkdir()
    armed = Config(plugins={"killer_plugin": {"markers": str(markers)}})
    one = ingest(src, tmp_path / "one", plugins=plugins, jobs=1)
    killed = ingest(
        src, tmp_path / "dask", plugins=plugins, config=armed, executor="dask", scheduler=scheduler
    )
    assert [p.name for p in markers.iterdir()] == ["victim"]  # a worker did die on it
    assert killed.files == one.files
    assert tree(tmp_path / "dask") == tree(tmp_path / "one")


@pytest.mark.slow
def test_a_file_that_kills_every_worker_is_rejected(tmp_path, scheduler, small_shards):
    src = tmp_path / "src"
    shutil.copytree(ARTICLES, src)
    (src / "poison.txt").write_text(" date 2024-01-02 KILL-ALWAYS story\n\nBody text.\n")
    plugins = Plugins(PluginSpec(modules=("killer_plugin",), entry_points=False))
    armed = Config(plugins={"killer_plugin": {"markers": str(tmp_path)}})
    report = ingest(
        src, tmp_path / "out", plugins=plugins, config=armed, executor="dask", scheduler=scheduler
    )
    by_path = {entry["path"]: entry for entry in report.files}
    assert [f["code"] for f in by_path["poison.txt"]["findings"]] == ["WORKER_DIED"]
    assert by_path["poison.txt"]["status"] == "rejected"
    others = [e for p, e in by_path.items() if p != "poison.txt"]
    assert others and all(e["status"] != "rejected" for e in others)
    assert report.totals_dict()["files"] == len(by_path)
    assert not list((tmp_path / "out").rglob(".corpus-tmp-*"))


@pytest.mark.slow
def test_sigint_cancels_the_shards_and_writes_the_report(tmp_path, scheduler):
    src, out = tmp_path / "src", tmp_path / "out"
    text = (ARTICLES / "seed.txt").read_text(encoding="utf-8")
    for i in range(4000):
        sub = src / f"b{i // 200}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"a{i:05d}.txt").write_text(text + f"\n\nParagraph number {i}.", encoding="utf-8")
    cmd = [sys.executable, "-m", "corpus", "ingest", str(src), "-o", str(out), "--no-store"]
    proc = subprocess.Popen(
        [*cmd, "--executor", "dask", "--scheduler", scheduler],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    deadline = time.time() + 90
    while not (out.exists() and sum(1 for _ in out.rglob("*.json")) >= 20):
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(f"ingest ended or stalled before the interrupt: {proc.communicate()}")
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=90)
    assert proc.returncode == 130, stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["run"]["interrupted"] is True
    t = report["totals"]
    assert 0 < t["files"] < 4000
    assert t["ok"] + t["warning"] + t["rejected"] == t["files"] == len(report["files"])
    assert sum(1 for _ in out.rglob("*.xml")) == t["files"] - t["rejected"]
    assert not list(out.rglob(".corpus-tmp-*"))  # no staged file, no stage folder


def test_unknown_executor_is_a_clear_error(tmp_path):
    from corpus.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown executor 'ray'; known: dask, local"):
        ingest(ARTICLES, tmp_path / "out", plugins=Plugins(), executor="ray")


def test_the_seam_with_the_local_executor_matches_jobs_1(tmp_path, small_shards):
    """run_shards on the built-in ``local`` executor: the contract a plugin's executor meets."""
    from corpus.listing import iter_inputs
    from corpus.outputs import OutputWriter

    src = mixed_corpus(tmp_path)
    plugins = Plugins()
    one = ingest(src, tmp_path / "one", plugins=plugins, jobs=1)
    options = IngestOptions(sources=(str(src),), output=str(tmp_path / "two"), workers=2)
    writer = OutputWriter.for_formats(options.output, plugins, options.formats)
    writer.start()
    results = []
    for _item, result, _ in corpus.shards.run_shards(
        options, plugins, Config(), writer, iter_inputs(options.sources)
    ):
        results.append(writer.commit(result).to_report())
    assert results == one.files
    two = tree(tmp_path / "two")
    assert two == {k: v for k, v in tree(tmp_path / "one").items() if k != "report.json"}


# -- corpus diff DIR_A DIR_B --executor dask ---------------------------------------------------


def diff_snapshots(tmp_path: Path) -> tuple[Path, Path]:
    """Every diff fixture as a changed pair, plus a rename, an addition, an unreadable file."""
    a, b = tmp_path / "a", tmp_path / "b"
    fixtures = ROOT / "fixtures" / "diff"
    for case in sorted(p for p in fixtures.iterdir() if (p / "old.txt").is_file()):
        for side, name in ((a, "old.txt"), (b, "new.txt")):
            if (case / name).is_file():
                (side / "cases").mkdir(parents=True, exist_ok=True)
                shutil.copy(case / name, side / "cases" / f"{case.name}.txt")
    shutil.copy(ARTICLES / "seed.txt", a / "moved.txt")
    shutil.copy(ARTICLES / "seed.txt", b / "moved-here.txt")
    shutil.copy(BAD / "date_basic.txt", b / "new-story.txt")
    (b / "broken.txt").write_bytes(b"")
    return a, b


def test_corpus_diff_on_dask_is_the_same_as_in_one_process(
    tmp_path, scheduler, monkeypatch, run_cli
):
    import corpus.diff.sharded as sharded

    monkeypatch.setattr(sharded, "READ_SHARD", 3)
    monkeypatch.setattr(sharded, "DIFF_SHARD", 2)
    a, b = diff_snapshots(tmp_path)
    serial = run_cli("diff", "--json", a, b)
    on_dask = run_cli("diff", "--json", a, b, "--executor", "dask", "--scheduler", scheduler)
    assert on_dask.exit_code == serial.exit_code == 2  # broken.txt is trouble in both
    assert on_dask.output == serial.output
    data = json.loads(on_dask.output)
    assert data["counts"]["changed"] >= 10 and data["counts"]["renamed"] == 1
    text = run_cli("diff", a, b, "--executor", "dask", "--scheduler", scheduler)
    assert text.output == run_cli("diff", a, b).output


def test_output_folder_checks_hold_on_dask_workers_as_in_the_local_pool(tmp_path, scheduler):
    """A symbolic link inside -o leading outside, and a name too long for the file system,
    are refused as with ``--jobs 1``: nothing is written outside -o."""
    from corpus.pipeline import export_document, read_path

    src = tmp_path / "src"
    (src / "esc").mkdir(parents=True)
    shutil.copy(ARTICLES / "seed.txt", src / "esc" / "doc.txt")
    nitf = export_document(read_path(ARTICLES / "seed.txt").document, "nitf")
    (src / ("a" * 251 + ".xml")).write_bytes(nitf)  # its .json output: 256 bytes
    plugins = Plugins(PluginSpec(modules=(), entry_points=False))
    outside = tmp_path / "outside"
    outside.mkdir()
    modes = {"one": {"jobs": 1}, "dask": {"executor": "dask", "scheduler": scheduler}}
    codes = {}
    for name, kwargs in modes.items():
        out = tmp_path / name
        out.mkdir()
        (out / "esc").symlink_to(outside)
        report = ingest(src, out, plugins=plugins, **kwargs)
        codes[name] = {e["path"]: [f["code"] for f in e["findings"]] for e in report.files}
    assert list(outside.iterdir()) == []
    assert codes["dask"] == codes["one"]
    assert codes["one"]["esc/doc.txt"] == ["OUTPUT_OUTSIDE"]
    assert codes["one"]["a" * 251 + ".xml"][-1:] == ["NAME_TOO_LONG"]


def test_a_file_lost_with_its_worker_is_tried_alone_once_more_before_it_is_rejected():
    """Files run one at a time are submitted together; a file queued on the worker that the
    poison killed dies with it through no fault of its own (seen with Dask under load). Only
    a file that is lost again when run alone is WORKER_DIED."""
    from corpus.executors import ShardLost
    from corpus.listing import InputFile
    from corpus.pipeline import FileResult

    lost_once = {"innocent.txt"}
    calls: list[str] = []

    class Session:
        def submit(self, task, shard):
            return shard[0]

        def result(self, item):
            calls.append(item.rel)
            if item.rel == "poison.txt" or item.rel in lost_once:
                lost_once.discard(item.rel)
                raise ShardLost("Dask worker killed", died=True)
            return [FileResult(item.rel, "ok", [])]

    items = [InputFile(name, "src", name) for name in ("poison.txt", "innocent.txt", "ok.txt")]
    results = corpus.shards._one_by_one(Session(), None, items)
    assert [(r.path, r.status) for r in results] == [
        ("poison.txt", "rejected"),
        ("innocent.txt", "ok"),
        ("ok.txt", "ok"),
    ]
    assert results[0].findings[0].code == "WORKER_DIED"

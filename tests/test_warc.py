"""WARC archives: every HTML capture a document, named <archive>#<offset>, versions by date."""

from __future__ import annotations

import gzip
import io
import json
import shutil
from pathlib import Path

import pytest
from conftest import assert_golden
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus.config import Config
from corpus.errors import InputRejected
from corpus.ingest import IngestOptions, run_ingest
from corpus.pipeline import read_path

HTML = Path(__file__).resolve().parent.parent / "fixtures" / "html"
WARC = HTML / "captures.warc.gz"
FLOOD = "riversidegazette.example/local/2024/11/council-approves-flood-defences"
HARBOUR = "coastalherald.example/news/local/harbour-bridge-repairs"


def ingest(plugins, *sources, output=None, **kwargs):
    options = IngestOptions(
        sources=tuple(str(s) for s in sources),
        output=str(output) if output else None,
        formats=("nitf", "json") if output else (),
        **kwargs,
    )
    return run_ingest(options, plugins=plugins, config=Config())


def entries(report) -> list[dict]:
    return report.files


def test_archive_becomes_one_entry_per_capture_and_one_for_itself(plugins, tmp_path):
    report = ingest(plugins, WARC, output=tmp_path / "out")
    files = entries(report)
    paths = [f["path"] for f in files]
    assert paths[-1] == "captures.warc.gz"
    records = files[:-1]
    assert all(p.startswith("captures.warc.gz#") for p in paths[:-1])
    # WARC-Date order (the 17:30 capture comes first in the file)
    assert [f["key"] for f in records] == [HARBOUR, FLOOD, FLOOD]
    offsets = [int(p.rsplit("#", 1)[1]) for p in paths[:-1]]
    assert offsets[2] < offsets[1]
    archive = {f["code"]: f["message"] for f in files[-1]["findings"]}
    assert "metadata record: 1" in archive["WARC_RECORDS_SKIPPED"]
    assert "request record: 5" in archive["WARC_RECORDS_SKIPPED"]
    assert "response of image/png: 1" in archive["WARC_RECORDS_SKIPPED"]
    assert "response with HTTP status 404: 1" in archive["WARC_RECORDS_SKIPPED"]
    assert "revisit record: 1" in archive["WARC_RECORDS_SKIPPED"]
    assert "warcinfo record: 1" in archive["WARC_RECORDS_SKIPPED"]
    assert files[-1]["status"] == "ok"
    totals = report.totals_dict()
    assert totals["files"] == 4 and totals["rejected"] == 0


def test_golden_report_entries(plugins, tmp_path):
    report = ingest(plugins, WARC, output=tmp_path / "out")
    data = (json.dumps(entries(report), ensure_ascii=False, indent=2) + "\n").encode()
    assert_golden(data, HTML.parent / "golden" / "html" / "captures.warc.report.json", "WARC")


def test_golden_documents_of_every_capture(plugins):
    from corpus.archives import expand_archives
    from corpus.listing import iter_inputs
    from corpus.model import document_to_dict
    from corpus.pipeline import read_bytes

    docs = []
    for item in expand_archives(iter_inputs([str(WARC)]), plugins.readers, None):
        if isinstance(item, tuple):
            continue
        result = read_bytes(item.data, item.rel, plugins=plugins, reader=item.reader)
        docs.append(
            {
                "path": item.rel,
                "document": document_to_dict(result.document),
                "findings": [f.to_dict() for f in result.findings],
            }
        )
    assert len(docs) == 3
    data = (json.dumps(docs, ensure_ascii=False, indent=2) + "\n").encode()
    assert_golden(data, HTML.parent / "golden" / "html" / "captures.warc.documents.json", "WARC")


def test_outputs_hold_the_latest_capture(plugins, tmp_path, nitf_schema):
    from corpus.schemacheck import check_json, check_xml

    ingest(plugins, WARC, output=tmp_path / "out")
    for key in (FLOOD, HARBOUR):
        assert check_json((tmp_path / "out" / f"{key}.json").read_bytes()) == []
        assert check_xml((tmp_path / "out" / f"{key}.xml").read_bytes(), nitf_schema) == []
    doc = json.loads((tmp_path / "out" / f"{FLOOD}.json").read_text(encoding="utf-8"))
    assert doc["title"] == "Flood defences approved for river quarter after three-year wait"
    notes = doc["annotations"]["html-reader"]
    assert notes["captured"] == doc["source"]["captured"] == "2024-11-05T17:31:02Z"
    assert notes["warc"]["archive"] == "captures.warc.gz"
    assert notes["page_url"] == FLOOD.replace("riversidegazette", "https://riversidegazette") + "/"
    assert (tmp_path / "out" / f"{FLOOD}.xml").is_file()
    assert not list((tmp_path / "out").rglob(".corpus-tmp-*"))


def test_jobs_1_and_2_give_identical_outputs_and_entries(plugins, tmp_path):
    one = ingest(plugins, WARC, output=tmp_path / "one", jobs=1)
    two = ingest(plugins, WARC, output=tmp_path / "two", jobs=2)
    assert entries(one) == entries(two)
    left = sorted(
        p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*") if p.is_file()
    )
    right = sorted(
        p.relative_to(tmp_path / "two") for p in (tmp_path / "two").rglob("*") if p.is_file()
    )
    assert left == right
    for rel in left:
        if rel.name != "report.json":
            assert (tmp_path / "one" / rel).read_bytes() == (tmp_path / "two" / rel).read_bytes()


def test_store_keeps_one_version_per_distinct_capture_in_date_order(plugins, tmp_path):
    from corpus.store import Store

    store = tmp_path / "s.db"
    first = ingest(plugins, WARC, output=tmp_path / "out", store=str(store))
    assert first.store_counts["new"] == 2 and first.store_counts["changed"] == 1
    again = ingest(plugins, WARC, output=tmp_path / "out", store=str(store))
    assert again.store_counts["unchanged"] == 3 and again.store_counts["changed"] == 0
    forced = ingest(plugins, WARC, output=tmp_path / "out", store=str(store), force=True)
    assert forced.store_counts["changed"] == 0 and forced.store_counts["new"] == 0
    with Store.open(str(store)) as s:
        versions = s.versions(FLOOD)
        assert len(versions) == 2
        # versions are dated by their capture (WARC-Date), not by the ingest
        assert [v.created for v in versions] == [
            "2024-11-05T09:02:40.000000Z",
            "2024-11-05T17:31:02.000000Z",
        ]
        titles = [s.version(FLOOD, v.n).document.title for v in versions]
    assert titles[0].startswith("Council approves")
    assert titles[1].startswith("Flood defences approved")


def test_a_later_archive_adds_a_version(plugins, tmp_path):
    from corpus.store import Store

    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(WARC, src / "day1.warc.gz")
    store = str(tmp_path / "s.db")
    ingest(plugins, src, output=tmp_path / "out", store=store)
    edited = (HTML / "captures/flood-defences-1730.html").read_bytes().replace(b"420", b"425")
    write_warc(src / "day2.warc.gz", [(FLOOD_URL, "2024-11-06T08:00:00Z", edited)])
    report = ingest(plugins, src, output=tmp_path / "out", store=store)
    assert report.store_counts["changed"] == 1 and report.store_counts["unchanged"] == 3
    with Store.open(store) as s:
        assert len(s.versions(FLOOD)) == 3


FLOOD_URL = "https://riversidegazette.example/local/2024/11/council-approves-flood-defences/"


def write_warc(path: Path, pages, gzip_records: bool = True) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=gzip_records)
        for url, date, body in pages:
            http = StatusAndHeaders(
                "200 OK", [("Content-Type", "text/html; charset=windows-1252")], protocol="HTTP/1.1"
            )
            record = writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(body),
                http_headers=http,
                warc_headers_dict={"WARC-Date": date},
            )
            writer.write_record(record)


def test_validate_lists_findings_per_record(run_cli, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    listing = (HTML / "section-front.html").read_bytes()
    write_warc(
        src / "crawl.warc.gz",
        [
            ("https://www.coastalherald.example/news/local/", "2024-03-14T08:00:00Z", listing),
            ("https://www.coastalherald.example/empty", "2024-03-14T08:01:00Z", b"<html></html>"),
        ],
    )
    result = run_cli("validate", str(src), "--json")
    report = json.loads(result.output)
    by_path = {f["path"]: f for f in report["files"]}
    records = [p for p in by_path if "#" in p]
    assert len(records) == 2 and all(p.startswith("crawl.warc.gz#") for p in records)
    codes = [sorted(x["code"] for x in by_path[p]["findings"]) for p in records]
    assert "HTML_NOT_ARTICLE" in codes[0]
    assert codes[1] == ["HTML_NO_MAIN_TEXT"] and by_path[records[1]]["status"] == "rejected"
    assert result.exit_code == 1


def test_rejected_record_is_quarantined_alone(plugins, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    good = (HTML / "captures/flood-defences-0900.html").read_bytes()
    pages = [
        (FLOOD_URL, "2024-01-01T00:00:00Z", good),
        ("https://x.example/a", "2024-01-02T00:00:00Z", b"<p></p>"),
    ]
    write_warc(src / "c.warc.gz", pages)
    report = ingest(plugins, src, output=tmp_path / "out", quarantine=str(tmp_path / "q"))
    rejected = [f["path"] for f in entries(report) if f["status"] == "rejected"]
    assert len(rejected) == 1 and rejected[0].startswith("c.warc.gz#")
    kept = (tmp_path / "q" / rejected[0]).read_bytes()
    record = gzip.decompress(kept)
    assert record.startswith(b"WARC/1") and b"https://x.example/a" in record
    assert FLOOD_URL.encode() not in record
    assert (tmp_path / "q" / (rejected[0] + ".rejected.json")).is_file()


# -- bad archives ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("empty.warc", b""),
        ("text.warc", b"not a warc at all\n\n"),
        ("page.warc", b"<html><body>x</body></html>"),
        ("garbage.warc.gz", b"\x1f\x8b\x08\x00garbage"),
        ("plain.warc.gz", b"WARC/1.0 but not gzipped"),
    ],
)
def test_a_file_that_is_no_warc_is_rejected(plugins, tmp_path, name, data):
    (tmp_path / name).write_bytes(data)
    files = entries(ingest(plugins, tmp_path / name))
    assert len(files) == 1
    assert files[0]["status"] == "rejected"
    assert [f["code"] for f in files[0]["findings"]][-1] == "WARC_INVALID"


def test_truncated_archive_keeps_the_records_before_the_damage(plugins, tmp_path):
    data = WARC.read_bytes()
    (tmp_path / "cut.warc.gz").write_bytes(data[: len(data) - 700])
    files = entries(ingest(plugins, tmp_path / "cut.warc.gz"))
    archive = files[-1]
    assert archive["path"] == "cut.warc.gz" and archive["status"] == "rejected"
    assert "WARC_INVALID" in [f["code"] for f in archive["findings"]]
    assert [f["status"] for f in files[:-1]] == ["ok"] * (len(files) - 1) and len(files) >= 3


def test_archive_gzipped_as_a_whole_is_refused_with_advice(plugins, tmp_path):
    plain = tmp_path / "plain.warc"
    write_warc(plain, [(FLOOD_URL, "2024-11-05T09:00:00Z", b"<p>one</p>")] * 2, gzip_records=False)
    (tmp_path / "whole.warc.gz").write_bytes(gzip.compress(plain.read_bytes()))
    plain.unlink()
    files = entries(ingest(plugins, tmp_path / "whole.warc.gz"))
    messages = " ".join(f["message"] for f in files[-1]["findings"])
    assert "WARC_INVALID" in [f["code"] for f in files[-1]["findings"]], files
    assert "recompress" in messages


def test_uncompressed_warc_reads_the_same(plugins, tmp_path):
    write_warc(
        tmp_path / "a.warc",
        [
            (
                FLOOD_URL,
                "2024-11-05T09:00:00Z",
                (HTML / "captures/flood-defences-0900.html").read_bytes(),
            )
        ],
        gzip_records=False,
    )
    files = entries(ingest(plugins, tmp_path / "a.warc"))
    assert files[0]["path"].startswith("a.warc#") and files[0]["key"] == FLOOD


def test_archive_without_pages_is_a_warning(plugins, tmp_path):
    write_warc(tmp_path / "a.warc.gz", [])
    from warcio.warcwriter import WARCWriter

    with open(tmp_path / "a.warc.gz", "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        writer.write_record(writer.create_warcinfo_record("a.warc.gz", {"software": "t"}))
    files = entries(ingest(plugins, tmp_path / "a.warc.gz"))
    assert files[0]["status"] == "warning"
    assert "WARC_NO_HTML" in [f["code"] for f in files[0]["findings"]]


def test_oversized_record_is_rejected_by_its_offset(plugins, tmp_path):
    body = b"<html><body><p>" + b"long text " * 20000 + b"</p></body></html>"
    write_warc(tmp_path / "a.warc.gz", [(FLOOD_URL, "2024-11-05T09:00:00Z", body)])
    files = entries(ingest(plugins, tmp_path / "a.warc.gz", max_file_size=1000))
    assert files[0]["path"].startswith("a.warc.gz#") and files[0]["status"] == "rejected"
    assert files[0]["findings"][0]["code"] == "FILE_TOO_LARGE"


def test_reading_an_archive_as_one_file_says_to_ingest_it(plugins):
    with pytest.raises(InputRejected) as info:
        read_path(WARC, plugins=plugins)
    assert info.value.code == "WARC_IS_ARCHIVE"


def test_archive_with_a_listing_warning_is_still_read_record_by_record(plugins, tmp_path):
    import os

    src = tmp_path / "src"
    src.mkdir()
    name = os.fsencode(src) + b"/crawl-\xff.warc.gz"  # not UTF-8: FILENAME_NOT_UTF8
    with open(name, "wb") as fh:
        fh.write(WARC.read_bytes())
    files = entries(ingest(plugins, src))
    archive = files[-1]
    assert "FILENAME_NOT_UTF8" in [f["code"] for f in archive["findings"]]
    assert "WARC_RECORDS_READ" in [f["code"] for f in archive["findings"]]
    assert len(files) == 4 and all("#" in f["path"] for f in files[:-1])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.integers(min_value=0, max_value=9466), junk=st.binary(max_size=64))
def test_any_damage_to_an_archive_is_a_coded_outcome(cut, junk, plugins, tmp_path_factory):
    folder = tmp_path_factory.mktemp("damaged")
    data = WARC.read_bytes()
    (folder / "d.warc.gz").write_bytes(data[:cut] + junk + data[cut + len(junk) :])
    files = entries(ingest(plugins, folder / "d.warc.gz"))
    assert files[-1]["path"] == "d.warc.gz"
    for entry in files:
        assert entry["status"] in ("ok", "warning", "rejected")
        assert all(f["code"] != "INTERNAL_ERROR" for f in entry["findings"]), entry
        assert entry["path"] == "d.warc.gz" or entry["path"].startswith("d.warc.gz#")


@pytest.mark.slow
def test_ingest_of_an_archive_through_a_real_process(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "corpus", "ingest", str(WARC), "-o", str(out), "--no-store",
         "--jobs", "2", "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert [f["path"].split("#")[0] for f in report["files"]] == ["captures.warc.gz"] * 4
    assert (out / f"{FLOOD}.xml").is_file() and (out / f"{HARBOUR}.json").is_file()


def test_progress_bar_counts_every_record_of_an_archive(plugins, tmp_path, monkeypatch):
    """The bar's total starts from the files listed (an archive is one) and grows by one per
    record found, so it never runs past its total and ends full."""
    import click

    bars = []
    steps: list[tuple[int, int]] = []
    make = click.progressbar

    def progressbar(*args, **kwargs):
        bar = make(*args, **kwargs)
        update = bar.update

        def counted(n, current_item=None):
            update(n, current_item)
            steps.append((bar.pos, bar.length))

        bar.update = counted
        bars.append((bar, bar.length))
        return bar

    monkeypatch.setattr(click, "progressbar", progressbar)
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(WARC, src / "captures.warc.gz")
    shutil.copy(HTML / "harbour-bridge.html", src / "page.html")
    options = IngestOptions(sources=(str(src),), formats=())
    report = run_ingest(options, plugins=plugins, config=Config(), progress=True)
    ((bar, listed),) = bars
    assert listed == 2  # files listed: the archive and the page
    assert len(report.files) == 5  # three captures, the archive's own entry, the page
    assert all(pos <= length for pos, length in steps)
    assert steps[-1] == (5, 5)
    assert bar.finished


def test_re_ingest_of_an_unchanged_folder_keeps_its_outcomes_and_versions(plugins, tmp_path):
    """Unchanged inputs still hold their keys: a same-key page later in the folder collides
    on every run, instead of replacing the archive's latest capture on the second run."""
    from corpus.store import Store

    src = tmp_path / "src"
    shutil.copytree(HTML / "captures", src / "captures")
    shutil.copy(WARC, src / "captures.warc.gz")  # listed before captures/
    store = str(tmp_path / "s.db")
    first = ingest(plugins, src, output=tmp_path / "out", store=store)
    again = ingest(plugins, src, output=tmp_path / "out", store=store)
    assert [(f["path"], f["status"]) for f in again.files] == [
        (f["path"], f["status"]) for f in first.files
    ]
    assert again.store_counts["changed"] == 0 and again.store_counts["new"] == 0
    with Store.open(store) as s:
        assert len(s.versions(FLOOD)) == 2
        assert s.version(FLOOD, 2).document.title.startswith("Flood defences approved")

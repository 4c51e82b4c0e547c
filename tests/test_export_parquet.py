"""``corpus export --to parquet``: one row per version, read back by pyarrow and DuckDB."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from storedocs import ONE, THREE, TWO

from corpus.model import Block, Document, Source
from corpus.pipeline import FileResult
from corpus.store import Store

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
duckdb = pytest.importorskip("duckdb")

OTHER = Document(
    key="sport/final",
    title="Café final tonight",
    date=dt.date(2024, 5, 1),
    byline="By A. Writer",
    language="fr",
    blocks=[Block("The final kicks off at eight."), Block("Tickets sold out.")],
    source=Source("sport/final.txt", "4" * 64, "utf-8", 80),
    annotations={"topics": {"labels": ["sport"], "score": 0.5}},
)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Duma: three versions; the final: one version, removed in the last run."""
    root = tmp_path / "articles"
    root.mkdir()
    path = tmp_path / "corpus.db"
    with Store.open(path) as store:
        for docs in ((ONE, OTHER), (TWO, OTHER), (THREE,)):
            with store.begin_run(roots=[str(root)], arguments=[]) as run:
                for doc in docs:
                    run.record(str(root), FileResult(doc.source.path, "ok", (), doc))
    return path


def test_latest_versions_read_back_with_pyarrow(run_cli, db, tmp_path):
    out = tmp_path / "exports" / "corpus.parquet"
    result = run_cli("export", "--store", db, "--to", "parquet", "-o", out)
    assert result.exit_code == 0, result.output
    assert "exported 1 documents" in result.output
    table = pq.read_table(out)
    assert table.num_rows == 1  # the final was removed
    (row,) = table.to_pylist()
    assert row["key"] == "world/duma" and row["version"] == 3
    assert row["paragraphs"] == [b.text for b in THREE.blocks]
    assert row["body"] == THREE.body_text
    assert table.schema.field("paragraphs").type == pa.list_(pa.string())
    assert table.schema.field("created").type == pa.timestamp("us", tz="UTC")
    assert not list(out.parent.glob(".corpus-tmp-*"))


def test_all_versions_in_row_groups_read_back_with_duckdb(run_cli, db, tmp_path, monkeypatch):
    import corpus.store.parquet as parquet_module

    monkeypatch.setattr(parquet_module, "ROW_GROUP_SIZE", 2)
    out = tmp_path / "all.parquet"
    result = run_cli("export", "--store", db, "--to", "parquet", "-o", out, "--all-versions")
    assert result.exit_code == 0, result.output
    assert pq.ParquetFile(out).metadata.num_row_groups == 2  # 4 rows, 2 per group
    con = duckdb.connect()
    rows = con.execute(
        "SELECT key, version, title, len(paragraphs), date, language, annotations "
        f"FROM read_parquet('{out}') ORDER BY key, version"
    ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [
        ("sport/final", 1),
        ("world/duma", 1),
        ("world/duma", 2),
        ("world/duma", 3),
    ]
    final = rows[0]
    assert final[2] == "Café final tonight" and final[3] == 2
    assert final[4] == dt.date(2024, 5, 1) and final[5] == "fr"
    assert json.loads(final[6]) == {"topics": {"labels": ["sport"], "score": 0.5}}
    assert [r[2] for r in rows[1:]] == [ONE.title, TWO.title, THREE.title]


def test_as_of_selects_the_versions_of_then(run_cli, db, tmp_path):
    with Store.open(db) as store:
        second_run = store.runs()[1]  # newest first: the run that stored version 2
    out = tmp_path / "then.parquet"
    result = run_cli(
        "export", "--store", db, "--to", "parquet", "-o", out, "--as-of", second_run.finished
    )
    assert result.exit_code == 0, result.output
    rows = {r["key"]: r["version"] for r in pq.read_table(out).to_pylist()}
    assert rows == {"world/duma": 2, "sport/final": 1}


def test_all_versions_is_only_for_parquet_and_a_folder_is_refused(run_cli, db, tmp_path):
    bad = run_cli("export", "--store", db, "--to", "json", "-o", tmp_path / "j", "--all-versions")
    assert bad.exit_code == 2 and "--all-versions is for --to parquet" in bad.output
    folder = run_cli("export", "--store", db, "--to", "parquet", "-o", tmp_path)
    assert folder.exit_code == 2 and "one file" in folder.output

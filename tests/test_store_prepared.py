"""Versions prepared for the store in the worker that made the document.

With ``--jobs N`` and a store, a worker sends back the version as the store keeps it
(content hash, canonical JSON compressed with the store's dictionary once there is one)
instead of the document, so the one process writing the store has less to do. What is
stored must be exactly what the writer would have made from the document itself.
"""

from __future__ import annotations

import pickle
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import FIXTURES

from corpus import execute
from corpus.config import Config
from corpus.errors import StoreError
from corpus.ingest import IngestOptions, run_ingest
from corpus.items import FileResult
from corpus.model import canonical_json, document_to_dict
from corpus.pipeline import read_path
from corpus.store import Store, VersionPreparer, pairs, payload, prepared
from corpus.store.stemmer import Stemmer

SEED = (FIXTURES / "articles" / "seed.txt").read_text(encoding="utf-8")


def seed_document():
    return read_path(FIXTURES / "articles" / "seed.txt").document


def test_a_prepared_version_holds_what_the_store_keeps_of_its_document():
    document = seed_document()
    version = prepared.prepare_version(document, payload.Encoder())
    assert version.key == document.key
    assert version.content_hash == document.content_hash
    assert version.title == document.title
    assert version.body_text == document.body_text
    assert version.date == (document.date.isoformat() if document.date else None)
    assert version.source_sha256 == document.source.sha256
    assert version.source_size == document.source.size
    assert version.text == canonical_json(document_to_dict(document))
    assert payload.dictionary_of(version.payload) == 0


def _store_with_dictionary(path: Path) -> int:
    """A store whose dictionary table holds one trained dictionary; returns its id."""
    Store.open(path).close()
    samples = [(SEED + f"\n\nParagraph {i} " + "word " * (i % 37)).encode() for i in range(400)]
    trained = payload.train_dictionary(samples)
    assert trained is not None
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT INTO dictionaries (dict_id, data, created) VALUES (?, ?, 'now')",
            (payload.register_dictionary(trained), trained),
        )
    conn.close()
    return payload.register_dictionary(trained)


def test_a_worker_uses_the_stores_dictionary_once_it_appears(tmp_path, monkeypatch):
    monkeypatch.setattr(prepared, "DICTIONARY_POLL", 0.0)
    db = tmp_path / "c.db"
    Store.open(db).close()
    preparer = VersionPreparer(db)
    before = preparer.prepare(seed_document())
    assert payload.dictionary_of(before.payload) == 0  # a new store has none yet
    dict_id = _store_with_dictionary(db)
    after = preparer.prepare(seed_document())
    assert payload.dictionary_of(after.payload) == dict_id
    assert after.text == before.text  # the same JSON, compressed with the dictionary


def test_a_worker_signs_pairs_of_common_words_once_the_store_has_chosen_them(tmp_path, monkeypatch):
    monkeypatch.setattr(prepared, "DICTIONARY_POLL", 0.0)
    db = tmp_path / "c.db"
    Store.open(db).close()
    preparer = VersionPreparer(db)
    document = seed_document()
    assert preparer.prepare(document).signature is None  # no common words chosen yet
    stems = Stemmer().columns(document.title, document.body_text)
    common = sorted({s for column in stems for s in column})[::2]
    conn = sqlite3.connect(db)
    with conn:
        conn.executemany("INSERT INTO common_words (stem) VALUES (?)", ((s,) for s in common))
    conn.close()
    made = preparer.prepare(document).signature
    assert made
    assert pairs.unpack(made) == pairs.signature(stems, pairs.ranks_of(common))
    assert any(pairs.unpack(made))


def test_a_preparer_travels_to_spawned_workers_by_its_path(tmp_path, monkeypatch):
    monkeypatch.setattr(prepared, "DICTIONARY_POLL", 0.0)
    db = tmp_path / "c.db"
    dict_id = _store_with_dictionary(db)
    preparer = VersionPreparer(db)
    preparer.prepare(seed_document())  # holds an encoder now, which does not pickle
    copy = pickle.loads(pickle.dumps(preparer))
    assert payload.dictionary_of(copy.prepare(seed_document()).payload) == dict_id


def test_an_unreadable_store_means_payloads_without_a_dictionary_until_it_can_be_read(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(prepared, "DICTIONARY_POLL", 0.0)
    path = tmp_path / "not-yet.db"
    preparer = VersionPreparer(path)
    version = preparer.prepare(seed_document())
    assert payload.dictionary_of(version.payload) == 0
    assert version.text == canonical_json(document_to_dict(seed_document()))
    # Unreadable for a moment (here: not there yet) is not given up on.
    dict_id = _store_with_dictionary(path)
    assert payload.dictionary_of(preparer.prepare(seed_document()).payload) == dict_id


def test_the_writer_refuses_a_payload_it_could_never_read_back(tmp_path):
    document = seed_document()
    foreign = payload.train_dictionary(
        [(SEED + f" other {i} " + "x" * (i % 29)).encode() for i in range(400)]
    )
    assert foreign is not None
    # Known in this process (as a worker would know another store's), not to this store.
    encoder = payload.Encoder(payload.register_dictionary(foreign))
    version = prepared.prepare_version(document, encoder)
    result = FileResult(document.key, "ok", (), None, key=document.key, version=version)
    with (
        Store.open(tmp_path / "c.db") as store,
        pytest.raises(StoreError) as caught,
        store.begin_run(roots=[str(tmp_path)], arguments=[]) as run,
    ):
        run.record(str(tmp_path), result)
    assert caught.value.code == "STORE_ERROR"
    assert "dictionary" in caught.value.message


def test_jobs_2_stores_exactly_what_jobs_1_stores(plugins, tmp_path, monkeypatch):
    """Past the dictionary's training (made small here), worker-prepared versions are the
    writer's own: the same documents, hashes, sizes and findings, and they read back."""
    monkeypatch.setattr(payload, "DICT_SAMPLES", 30)
    monkeypatch.setattr(pairs, "SAMPLE", 30)
    monkeypatch.setattr(prepared, "DICTIONARY_POLL", 0.0)
    # Small batches: workers cannot run more than a few files ahead of the writer, so those
    # sent after the dictionary was committed are surely compressed with it.
    monkeypatch.setattr(execute, "BATCH_SIZE", 4)
    src = tmp_path / "src"
    src.mkdir()
    for i in range(160):
        words = " ".join(f"w{(i * 7 + j) % 97}" for j in range(40 + i % 13))
        (src / f"a{i:03d}.txt").write_text(SEED + f"\n\n{words}.", encoding="utf-8")
    shutil.copytree(FIXTURES / "articles", src / "fixtures")
    import corpus.store.recorder as recorder

    made_here: list[str] = []

    def counting(document, encoder):
        made_here.append(document.key)
        return prepared.prepare_version(document, encoder)

    # The writer's own preparing, counted in this process (forked workers count in theirs).
    monkeypatch.setattr(recorder, "prepare_version", counting)
    pairs_here: list[str] = []
    make_pairs = pairs.PairMaker.packed

    def counting_pairs(self, title, body):
        pairs_here.append(title)
        return make_pairs(self, title, body)

    monkeypatch.setattr(pairs.PairMaker, "packed", counting_pairs)
    pairs_made: dict[int, int] = {}
    stored: dict[int, dict] = {}
    made: dict[int, int] = {}
    for jobs in (1, 2):
        made_here.clear()
        pairs_here.clear()
        db = tmp_path / f"j{jobs}.db"
        options = IngestOptions(
            sources=(str(src),), output=str(tmp_path / f"out{jobs}"), store=str(db), jobs=jobs
        )
        run_ingest(options, plugins=plugins, config=Config())
        made[jobs] = len(made_here)
        pairs_made[jobs] = len(pairs_here)
        with Store.open(db) as store:
            stored[jobs] = {
                key: (
                    store.version(key).document,
                    row[1:],
                )
                for key, *row in _versions(db)
            }
    assert stored[2] == stored[1]
    assert len(stored[2]) > 160
    assert made == {1: len(stored[1]), 2: 0}  # with workers, the writer prepared none
    dictionaries = {payload.dictionary_of(blob) for blob in _payloads(tmp_path / "j2.db")}
    assert len(dictionaries) == 2  # the first versions without, the later with the dictionary
    # The writer signed the documents recorded before the common words were chosen, and
    # the few sent before the workers took them up; the workers the rest.
    assert pairs_made[1] == len(stored[1])
    assert pairs_made[2] < pairs_made[1] / 2
    # The same common words chosen, the same signature for each document.
    assert _signatures(tmp_path / "j2.db") == _signatures(tmp_path / "j1.db")


def _signatures(db: Path) -> tuple[tuple[str, ...], dict[str, tuple[int, ...]]]:
    conn = sqlite3.connect(db)
    try:
        common = pairs.read_common(conn)
        rows = conn.execute(
            "SELECT d.key, g.* FROM pair_signatures g JOIN documents d ON d.id = g.id"
        )
        signed = {key: tuple(values[1:]) for key, *values in rows}
        assert common and signed and any(any(s) for s in signed.values())
        return common, signed
    finally:
        conn.close()


def _versions(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(
            "SELECT d.key, v.n, v.content_hash, v.source_sha256, v.size, v.findings, v.summary "
            "FROM versions v JOIN documents d ON d.id = v.doc_id ORDER BY d.key"
        ).fetchall()
    finally:
        conn.close()


def _payloads(db: Path) -> list[bytes]:
    conn = sqlite3.connect(db)
    try:
        return [row[0] for row in conn.execute("SELECT document FROM versions")]
    finally:
        conn.close()

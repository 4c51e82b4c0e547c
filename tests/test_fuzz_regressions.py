"""Inputs the fuzzer (fuzz/fuzz_readers.py) found breaking a promise, replayed on every run.

Each file in fixtures/fuzz/regressions/ (and each of the fuzzer's seeds, fixtures/fuzz/seeds/)
is read under its own name (the suffix picks the reader). The promises, the same the fuzz
target checks: a reader either returns a document or raises a ``CorpusError``; ``process_data``
never raises and never reports ``INTERNAL_ERROR``; an accepted document exports NITF that
validates against the XSD and JSON that validates against its schema and reads back to the
same document. See docs/fuzzing.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.config import Config
from corpus.errors import CorpusError
from corpus.pipeline import STATUS_REJECTED, process_data, read_bytes
from corpus.readers.json_reader import document_from_json_bytes
from corpus.schemacheck import check_json, check_xml

FUZZ = Path(__file__).resolve().parent.parent / "fixtures" / "fuzz"
REGRESSIONS = FUZZ / "regressions"
SUFFIXES = (".txt", ".json", ".xml", ".html")
#: What the fuzzer found, and its seed corpus (which gives the accepted-document checks work).
INPUTS = sorted(
    p for folder in (REGRESSIONS, FUZZ / "seeds") for p in folder.iterdir() if p.suffix in SUFFIXES
)
CONFIG = Config()


def _process(path: Path, plugins):
    return process_data(
        path.read_bytes(), path.name, plugins=plugins, config=CONFIG, formats=("nitf", "json")
    )


def test_there_are_regression_inputs_and_accepted_seeds():
    assert any(p.parent == REGRESSIONS for p in INPUTS), f"no fuzz regressions in {REGRESSIONS}"
    assert len(INPUTS) > 50


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.name)
def test_reader_returns_a_document_or_a_coded_rejection(path, plugins):
    try:
        result = read_bytes(path.read_bytes(), path.name, plugins=plugins)
    except CorpusError as exc:
        assert exc.code and exc.code != "INTERNAL_ERROR"
        return
    assert result.document.blocks or result.document.title


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.name)
def test_pipeline_gives_a_coded_rejection_or_valid_nitf_and_json(path, plugins, nitf_schema):
    result = _process(path, plugins)
    assert not [f for f in result.findings if f.code == "INTERNAL_ERROR"], result.findings
    if result.status == STATUS_REJECTED:
        assert result.outputs == {}
        assert any(f.severity.value == "error" and f.code for f in result.findings)
        return
    assert check_xml(result.outputs["nitf"], nitf_schema) == []
    assert check_json(result.outputs["json"]) == []
    back = document_from_json_bytes(result.outputs["json"], path=path.name)
    assert back == result.document


def _rejection(path: Path, plugins) -> CorpusError:
    with pytest.raises(CorpusError) as info:
        read_bytes(path.read_bytes(), path.name, plugins=plugins)
    return info.value


def test_integer_longer_than_the_digit_limit_is_invalid_json(plugins):
    # json.loads raised a bare ValueError for integers over sys.get_int_max_str_digits()
    err = _rejection(REGRESSIONS / "json_integer_over_4300_digits.json", plugins)
    assert err.code == "JSON_INVALID"
    assert "digits" in err.message


@pytest.mark.parametrize("with_jsonschema", [True, False], ids=["jsonschema", "fallback"])
def test_null_spans_are_a_shape_error_with_or_without_jsonschema(
    with_jsonschema, plugins, monkeypatch
):
    # the check used without jsonschema iterated over "spans": null (TypeError)
    if not with_jsonschema:
        import corpus.readers.json_reader as module

        monkeypatch.setattr(module, "have_jsonschema", lambda: False)
    err = _rejection(REGRESSIONS / "json_spans_null.json", plugins)
    assert err.code == "JSON_SCHEMA"
    assert "blocks[0].spans" in err.message

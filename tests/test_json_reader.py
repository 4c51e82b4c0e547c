"""JSON reader: our own JSON back into a Document; bad JSON and wrong shapes rejected with codes."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus.errors import InputRejected
from corpus.exporters.json import JSONExporter
from corpus.model import Block, Document, Source, Span
from corpus.pipeline import read_bytes
from corpus.readers.json_reader import JSONReader

DOC = Document(
    key="politics/2022/vote",
    title="Vote",
    date=dt.date(2022, 2, 26),
    issued=dt.datetime(2022, 2, 26, 8, 30, tzinfo=dt.timezone.utc),
    byline="By  AFP",
    keywords=("duma",),
    urgency=5,
    language="en",
    source=Source("politics/2022/vote.txt", "ef" * 32, "utf-8", 512, "article"),
    annotations={"classify": {"title_role": "headline"}},
    blocks=[
        Block("The State Duma voted.", line_start=3, line_end=3, spans=[Span(4, 14, "org")]),
        Block("Photo: AFP", kind="credit", line_start=5, line_end=5),
    ],
)


def read(data: bytes, path: str = "in/doc.json"):
    return JSONReader().read(data, path=path, key="in/doc")


def rejected(data: bytes) -> InputRejected:
    with pytest.raises(InputRejected) as info:
        read(data)
    assert info.value.path == "in/doc.json"
    return info.value


def exported() -> dict:
    return json.loads(JSONExporter().export(DOC))


def test_round_trip_keeps_key_and_source():
    result = read(JSONExporter().export(DOC))
    assert result.document == DOC
    assert result.document.key == "politics/2022/vote"  # the file's key, not the path's
    assert result.findings == ()


def test_bom_and_leading_white_space_are_accepted():
    data = b"\xef\xbb\xbf \n" + JSONExporter().export(DOC)
    assert read(data).document == DOC


def test_sniff():
    reader = JSONReader()
    assert reader.sniff(b'  \n{"model_version": 1')
    assert reader.sniff(b'\xef\xbb\xbf{"a"')
    assert not reader.sniff(b"[1, 2]")
    assert not reader.sniff(b" date 2022-02-26 Title")


def test_syntax_error_is_json_invalid_with_line():
    err = rejected(b'{\n  "model_version": 1,\n  "key": "k",,\n}')
    assert err.code == "JSON_INVALID"
    assert err.line == 3
    assert "invalid JSON" in err.message


def test_not_utf8_is_json_invalid_with_line():
    err = rejected(b'{\n"key": "caf\xe9"}')
    assert (err.code, err.line) == ("JSON_INVALID", 2)
    assert "UTF-8" in err.message


def test_nan_is_json_invalid():
    data = JSONExporter().export(DOC).replace(b'"urgency": 5', b'"urgency": NaN')
    assert rejected(data).code == "JSON_INVALID"


@pytest.mark.parametrize("data", [b"[]", b"3", b'"text"', b"null"])
def test_top_level_must_be_an_object(data):
    err = rejected(data)
    assert err.code == "JSON_SCHEMA"
    assert "top level" in err.message


def test_foreign_json_says_what_this_reader_reads():
    err = rejected(b'{"headline": "ninjs?", "body_text": "x"}')
    assert err.code == "JSON_SCHEMA"
    assert "model_version" in err.message and "json exporter" in err.message


@pytest.mark.parametrize("version", [2, 0, "1", True, None])
def test_unknown_model_version(version):
    data = exported()
    data["model_version"] = version
    err = rejected(json.dumps(data).encode())
    assert err.code == "JSON_VERSION"
    assert repr(version) in err.message


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.update(title=None), "title"),
        (lambda d: d.pop("blocks"), "'blocks' is a required property"),
        (lambda d: d["blocks"][0]["spans"][0].update(end="x"), "blocks[0].spans[0].end"),
        (lambda d: d["blocks"][1].update(style="bold"), "blocks[1]"),
        (lambda d: d.update(date="2022-02-30"), "date"),
        (lambda d: d.update(issued="2022-02-26T25:00:00"), "issued"),
        (lambda d: d["blocks"][0]["spans"][0].update(end=999), "blocks[0]"),
        (lambda d: d["blocks"][0]["spans"][0].update(start=20, end=5), "blocks[0]"),
    ],
)
def test_wrong_shape_is_json_schema_naming_the_field(mutate, field):
    data = exported()
    mutate(data)
    err = rejected(json.dumps(data).encode())
    assert err.code == "JSON_SCHEMA"
    assert field in err.message


def test_several_problems_are_counted():
    data = exported()
    data.update(title=1, byline=2, urgency="x")
    err = rejected(json.dumps(data).encode())
    assert "and 2 more problems" in err.message


def test_reader_is_registered_and_chosen_for_json_files(plugins):
    assert plugins.readers.get("json").extensions == (".json",)
    assert plugins.readers.owner("json") == "json-reader"
    result = read_bytes(JSONExporter().export(DOC), "sub/x.json", plugins=plugins)
    assert result.document == DOC


def test_pipeline_rejects_unsafe_key_from_json(plugins):
    data = exported()
    data["key"] = "../escape"
    with pytest.raises(InputRejected) as info:
        read_bytes(json.dumps(data).encode(), "x.json", plugins=plugins)
    assert info.value.code == "UNSAFE_KEY"


@pytest.fixture(params=["jsonschema", "fallback"])
def schema_mode(request, monkeypatch):
    """Run a test with the full schema check and with the check used without jsonschema."""
    if request.param == "fallback":
        import corpus.readers.json_reader as module

        monkeypatch.setattr(module, "have_jsonschema", lambda: False)
    return request.param


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.update(title=7), "title"),
        (lambda d: d.update(urgency=True), "urgency"),
        (lambda d: d.update(keywords=["a", 2]), "keywords"),
        (lambda d: d.update(blocks={}), "blocks"),
        (lambda d: d["blocks"].append("text"), "blocks[2]"),
        (lambda d: d["blocks"][0].update(text=None), "blocks[0]"),
        (lambda d: d["blocks"][0].update(lines=[3]), "blocks[0].lines"),
        (lambda d: d["blocks"][0]["spans"][0].update(start=1.5), "blocks[0].spans[0]"),
        (lambda d: d["blocks"][0]["spans"][0].update(attributes={"a": 1}), "blocks[0].spans[0]"),
        (lambda d: d["source"].update(size="512"), "source"),
        (lambda d: d.update(annotations=[1]), "annotations"),
    ],
)
def test_wrong_types_are_rejected_with_or_without_jsonschema(schema_mode, mutate, field):
    data = exported()
    mutate(data)
    err = rejected(json.dumps(data).encode())
    assert err.code == "JSON_SCHEMA"
    assert field in err.message


def test_round_trip_without_jsonschema(schema_mode):
    assert read(JSONExporter().export(DOC)).document == DOC


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 40) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)


# the fixture only patches a module attribute for the whole test: safe to share across examples
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_mutated_json_is_read_or_rejected_never_crashes(schema_mode, data):
    doc = exported()
    # walk to a random container inside the document and replace one of its values
    target = doc
    for _ in range(data.draw(st.integers(0, 3))):
        children = list(target.values() if isinstance(target, dict) else target)
        children = [c for c in children if isinstance(c, (dict, list)) and c]
        if not children:
            break
        target = data.draw(st.sampled_from(children))
    keys = list(target) if isinstance(target, dict) else list(range(len(target)))
    if keys:
        target[data.draw(st.sampled_from(keys))] = data.draw(json_values)
    try:
        document = read(json.dumps(doc).encode()).document
    except InputRejected as exc:
        assert exc.code in ("JSON_SCHEMA", "JSON_VERSION")
        return
    # whatever is accepted must export cleanly
    from corpus.exporters.nitf import NITFExporter

    NITFExporter().export(document)
    assert read(JSONExporter().export(document)).document == document

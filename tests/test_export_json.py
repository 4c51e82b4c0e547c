"""JSON exporter and the bundled document schema: stable bytes, schema-valid for every document."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from conftest import assert_golden
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.errors import ExportError
from corpus.exporters.json import JSONExporter
from corpus.model import Block, Document, Source, Span, document_to_dict
from corpus.pipeline import export_document, read_bytes, read_path
from corpus.schemacheck import check_json, document_schema

jsonschema = pytest.importorskip("jsonschema")


def export(document: Document) -> bytes:
    return JSONExporter().export(document)


FULL = Document(
    key="world/2022/duma",
    title="Flag – “Duma”",
    date=dt.date(2022, 2, 26),
    issued=dt.datetime(2022, 2, 26, 14, 5, 9, 123, tzinfo=dt.timezone(dt.timedelta(hours=-3))),
    byline="By  AFP",
    dateline="MOSCOW",
    abstract="Short.",
    keywords=("Russia", "Україна"),
    urgency=3,
    language="en",
    source=Source("world/2022/duma.txt", "cd" * 32, "windows-1252", 99, "article"),
    annotations={"classify": {"role": "caption", "scores": [0.5, 1e-9]}},
    blocks=[
        Block(
            "Putin spoke.",
            line_start=3,
            line_end=4,
            spans=[Span(0, 5, "person"), Span(6, 11, "link", {"href": "https://x"})],
        ),
        Block("Photo: AFP", kind="credit"),
    ],
)


def test_bytes_are_pretty_utf8_in_model_order_with_final_newline():
    data = export(FULL)
    assert data.endswith(b"}\n") and not data.endswith(b"\n\n")
    text = data.decode("utf-8")
    assert "“Duma”" in text and "Україна" in text  # not \\u-escaped
    assert text.startswith('{\n  "model_version": 1,\n  "key": "world/2022/duma",\n')
    assert list(json.loads(text)) == list(document_to_dict(FULL))
    assert json.loads(text) == document_to_dict(FULL)
    assert export(FULL) == data  # stable


def test_bundled_schema_is_a_valid_draft_2020_12_schema():
    schema = document_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_full_and_minimal_documents_validate():
    assert check_json(export(FULL)) == []
    assert check_json(export(Document(key="k"))) == []


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.update(extra=1), None),
        (lambda d: d.pop("title"), None),
        (lambda d: d.update(model_version=2), "model_version"),
        (lambda d: d.update(date="26.02.2022"), "date"),
        (lambda d: d.update(issued="2022-02-26 10:00"), "issued"),
        (lambda d: d.update(urgency="high"), "urgency"),
        (lambda d: d["blocks"][0].update(colour="red"), "blocks[0]"),
        (lambda d: d["blocks"][0]["spans"][1].update(start=-1), "blocks[0].spans[1].start"),
        (lambda d: d["blocks"][0]["spans"][1]["attributes"].update(n=1), "blocks[0].spans[1]"),
        (lambda d: d["blocks"][0].update(lines=[1, 2, 3]), "blocks[0].lines"),
        (lambda d: d["source"].pop("sha256"), "source"),
        (lambda d: d.update(keywords=[1]), "keywords[0]"),
        (lambda d: d.update(annotations=[]), "annotations"),
    ],
)
def test_schema_rejects_wrong_shapes_naming_the_field(mutate, field):
    data = json.loads(export(FULL))
    mutate(data)
    problems = check_json(data)
    assert problems
    if field is not None:
        assert any((p.field or "").startswith(field) for p in problems), problems
    else:
        assert problems[0].field is None


def test_annotations_are_free_form():
    doc = Document(key="k", annotations={"p": {"deep": [{"x": None}, True, 1.5, "s"]}, "q": 3})
    assert check_json(export(doc)) == []


def test_nan_in_annotations_is_an_export_error_not_bad_json():
    doc = Document(key="k", annotations={"p": {"score": float("nan")}})
    with pytest.raises(ExportError) as info:
        export(doc)
    assert info.value.code == "JSON_NOT_SERIALIZABLE"


def test_lone_surrogates_are_escaped_and_read_back():
    doc = Document(key="k", title="bad \udc80 byte", blocks=[Block("x\ud800")])
    data = export(doc)
    assert b"\\udc80" in data and b"\\ud800" in data
    data.decode("utf-8")  # strict UTF-8
    assert json.loads(data)["title"] == "bad \udc80 byte"


def test_exporter_is_registered_as_plugin(plugins):
    exporter = plugins.exporters.get("json")
    assert (exporter.extension, exporter.media_type) == (".json", "application/json")
    assert plugins.exporters.owner("json") == "json"


# -- properties ----------------------------------------------------------------------------

text = st.text(max_size=30)


@st.composite
def blocks(draw) -> Block:
    body = draw(st.text(max_size=40))
    spans = []
    for _ in range(draw(st.integers(0, 4))):
        start = draw(st.integers(0, len(body)))
        end = draw(st.integers(start, len(body)))
        attrs = draw(st.dictionaries(text, text, max_size=2))
        spans.append(Span(start, end, draw(st.sampled_from(["emphasis", "link"]) | text), attrs))
    lines = draw(st.none() | st.tuples(st.integers(1, 10**6), st.none() | st.integers(1, 10**6)))
    start_line, end_line = lines or (None, None)
    return Block(body, draw(text), start_line, end_line, spans)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
zones = st.none() | st.builds(
    dt.timezone,
    st.timedeltas(min_value=dt.timedelta(hours=-23, minutes=59), max_value=dt.timedelta(hours=23)),
)
#: Any document the model allows (text without lone surrogates: see the escape test above).
documents = st.builds(
    Document,
    key=text,
    title=text,
    date=st.none() | st.dates(),
    issued=st.none() | st.datetimes(timezones=zones),
    byline=st.none() | text,
    dateline=st.none() | text,
    abstract=st.none() | text,
    keywords=st.lists(text, max_size=3),
    urgency=st.none() | st.integers(),
    language=st.none() | text,
    blocks=st.lists(blocks(), max_size=3),
    source=st.none() | st.builds(Source, text, text, text, st.integers(0, 2**50), text),
    annotations=st.dictionaries(text, json_values, max_size=3),
)


@settings(max_examples=150, deadline=None)
@given(doc=documents)
def test_every_document_exports_schema_valid_json(doc):
    data = export(doc)
    assert check_json(data) == []
    assert json.loads(data.decode("utf-8")) == json.loads(json.dumps(document_to_dict(doc)))


def reference_layout(data: dict) -> str:
    """The layout docs/json.md describes, built from the dict form with the json module."""
    encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
    lines = []
    for key, value in data.items():
        if key == "blocks" and value:
            text = "[\n" + ",\n".join("    " + encode(b) for b in value) + "\n  ]"
        elif key in ("source", "annotations") and value:
            inner = ",\n".join(f"    {encode(k)}: {encode(v)}" for k, v in value.items())
            text = "{\n" + inner + "\n  }"
        else:
            text = encode(value)
        lines.append(f"  {encode(key)}: {text}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


@settings(max_examples=300, deadline=None)
@given(doc=documents)
def test_exporter_writes_the_documented_layout_of_the_dict_form(doc):
    expected = reference_layout(json.loads(json.dumps(document_to_dict(doc))))
    assert export(doc).decode("utf-8") == expected


@settings(max_examples=150, deadline=None)
@given(doc=documents)
def test_json_export_then_json_reader_is_identity(doc):
    from corpus.readers.json_reader import JSONReader

    result = JSONReader().read(export(doc), path="x.json", key="ignored")
    assert result.document == doc
    assert result.document.content_hash == doc.content_hash
    assert result.findings == ()


# -- golden files ---------------------------------------------------------------------------

#: Golden name -> article fixture. Regenerate: CORPUS_UPDATE_GOLDEN=1 pytest tests/test_export_*.py
GOLDEN = {
    "seed": "seed.txt",
    "meta_blocks": "layout/meta_blocks.txt",
    "byline": "layout/byline.txt",
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_json(name, fixtures_dir, plugins):
    articles = fixtures_dir / "articles"
    document = read_path(articles / GOLDEN[name], root=articles, plugins=plugins).document
    data = export_document(document, "json", plugins=plugins)
    expected = assert_golden(data, fixtures_dir / "golden" / f"{name}.json", "JSON")
    assert check_json(expected) == []
    assert read_bytes(expected, f"{name}.json", plugins=plugins).document == document


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text(max_size=30), min_size=1, max_size=4), st.sampled_from(["paragraph", 'x"y'])
)
def test_each_block_is_one_line_as_the_standard_encoder_writes_it(texts, kind):
    blocks = tuple(Block(t, kind=kind, line_start=i, line_end=i) for i, t in enumerate(texts, 3))
    data = JSONExporter().export(Document(key="k", blocks=blocks)).decode("utf-8", "surrogatepass")
    encoder = json.JSONEncoder(ensure_ascii=False)
    for block in blocks:
        line = encoder.encode({"text": block.text, "kind": kind, "lines": [block.line_start] * 2})
        assert "\n    " + line in data

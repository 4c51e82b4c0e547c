"""ninjs 3.1 and 2.2 exporters: valid against the official IPTC schemas, with format checking."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from corpus.errors import CorpusError
from corpus.exporters.ninjs import ANNOTATION_ROLE, block_html, build_ninjs
from corpus.model import Block, Document, Span
from corpus.pipeline import read_bytes, read_path

jsonschema = pytest.importorskip("jsonschema")
referencing = pytest.importorskip("referencing")

SCHEMAS = {"ninjs": "ninjs-schema_3.1.json", "ninjs2": "ninjs-schema_2.2.json"}
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z", re.ASCII
)
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s\"<>\\^`{|}]*\Z")


def format_checker():
    """A FormatChecker that really checks ``date-time`` and ``uri``.

    jsonschema only checks them when optional packages are installed; where they are not,
    strict local checks stand in, so format checking never silently passes everything.
    """
    checker = jsonschema.FormatChecker()
    if "date-time" not in checker.checkers:

        @checker.checks("date-time")
        def _date_time(value: object) -> bool:
            if not isinstance(value, str) or not _RFC3339.match(value):
                return False
            dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
            return True

    if "uri" not in checker.checkers:

        @checker.checks("uri")
        def _uri(value: object) -> bool:
            return not isinstance(value, str) or bool(_URI.match(value))

    return checker


def ninjs_validator(standards: Path, exporter: str):
    """A validator for one ninjs version, GeoJSON registered locally (nothing is fetched)."""
    folder = standards / "ninjs"
    schema = json.loads((folder / SCHEMAS[exporter]).read_text("utf-8"))
    geojson = json.loads((folder / "GeoJSON-schema.json").read_text("utf-8"))
    resource = referencing.Resource.from_contents(
        geojson, default_specification=referencing.jsonschema.DRAFT7
    )
    registry = referencing.Registry().with_resources(
        [("https://geojson.org/schema/GeoJSON.json", resource)]
    )
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, registry=registry, format_checker=format_checker())


def errors_of(validator, data) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]


def good_documents(fixtures_dir: Path, standards: Path, plugins) -> list[Document]:
    """Every good article fixture (read without error) and every official NITF sample."""
    docs = []
    articles = fixtures_dir / "articles"
    for path in sorted(p for p in articles.rglob("*") if p.is_file()):
        try:
            result = read_path(path, root=articles, plugins=plugins)
        except CorpusError:
            continue
        if all(f.severity.value != "error" for f in result.findings):
            docs.append(result.document)
    samples = sorted((standards / "nitf" / "samples").glob("*.xml"))
    samples += sorted((standards / "newsml-g2" / "samples").glob("*.xml"))
    for path in samples:
        docs.append(read_bytes(path.read_bytes(), path.name, plugins=plugins).document)
    assert len(docs) >= 8
    return docs


@pytest.fixture(scope="module", params=sorted(SCHEMAS))
def exporter_and_validator(request, standards):
    return request.param, ninjs_validator(standards, request.param)


def test_format_checking_is_real(standards):
    validator = ninjs_validator(standards, "ninjs")
    assert errors_of(validator, {"uri": "urn:x:y", "versionCreated": "2022-02-26"})
    assert errors_of(validator, {"uri": "not a uri"})
    assert not errors_of(validator, {"uri": "urn:x:y", "versionCreated": "2022-02-26T00:00:00Z"})


def test_unknown_properties_are_rejected_by_both_schemas(standards):
    for name in SCHEMAS:
        assert errors_of(ninjs_validator(standards, name), {"uri": "urn:x:y", "corpus": {}})


def test_every_good_document_validates(exporter_and_validator, fixtures_dir, standards, plugins):
    name, validator = exporter_and_validator
    exporter = plugins.exporters.get(name)
    for doc in good_documents(fixtures_dir, standards, plugins):
        data = json.loads(exporter.export(doc))
        assert errors_of(validator, data) == [], doc.key


def test_versions_use_their_own_names(plugins):
    doc = Document(key="k", title="T", date=dt.date(2022, 2, 26), blocks=[Block("Body.")])
    three = json.loads(plugins.exporters.get("ninjs").export(doc))
    two = json.loads(plugins.exporters.get("ninjs2").export(doc))
    assert three["versionCreated"] == two["versioncreated"] == "2022-02-26T00:00:00Z"
    assert three["standard"]["version"] == "3.1" and two["standard"]["version"] == "2.2"
    assert "versionCreated" not in json.dumps(two) and "contentType" not in json.dumps(two)


def test_fields_and_annotations_land_where_the_schema_allows(standards):
    doc = Document(
        key="world/2022 story",
        title="Headline",
        issued=dt.datetime(2022, 2, 26, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        date=dt.date(2022, 2, 26),
        byline="By A. Writer",
        dateline="KYIV",
        abstract="Summary.",
        keywords=("war", "politics"),
        urgency=3,
        language="en-GB",
        blocks=[Block("Ada met Acme in Paris.", spans=[Span(0, 3, "person"), Span(8, 12, "org")])],
        annotations={"quotes": {"count": 2}, "readability": [1, 2]},
    )
    item = build_ninjs(doc)
    assert errors_of(ninjs_validator(standards, "ninjs"), item) == []
    assert item["uri"] == "urn:newscorpus:world/2022%20story"
    assert item["contentCreated"] == "2022-02-26T09:30:00+02:00"
    assert (item["by"], item["located"], item["urgency"]) == ("By A. Writer", "KYIV", 3)
    assert item["headlines"] == [{"role": "main", "value": "Headline"}]
    assert [s["name"] for s in item["subjects"]] == ["war", "politics"]
    assert item["people"] == [{"name": "Ada", "rel": "mentioned"}]
    assert item["organisations"] == [{"name": "Acme", "rel": "mentioned"}]
    kept = {
        d["role"][len(ANNOTATION_ROLE) :]: json.loads(d["value"])
        for d in item["descriptions"]
        if d["role"].startswith(ANNOTATION_ROLE)
    }
    assert kept == {"quotes": {"count": 2}, "readability": [1, 2]}
    html_body = item["bodies"][1]["value"]
    assert (
        html_body
        == '<p><span class="person">Ada</span> met <span class="org">Acme</span> in Paris.</p>'
    )


def test_undated_document_uses_source_date_epoch(plugins, monkeypatch, standards):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    doc = Document(key="undated", title="No date", blocks=[Block("x")])
    data = json.loads(plugins.exporters.get("ninjs").export(doc))
    assert data["versionCreated"] == "2023-11-14T22:13:20Z"
    assert "contentCreated" not in data
    assert errors_of(ninjs_validator(standards, "ninjs"), data) == []


_SPAN_KINDS = st.sampled_from(["emphasis", "quote", "link", "person", "org", "custom"])


@st.composite
def blocks(draw):
    text = draw(st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40))
    spans = []
    for _ in range(draw(st.integers(0, 5))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, len(text)))
        attributes = {"href": draw(st.text('ab&"<> ', max_size=5))} if draw(st.booleans()) else {}
        spans.append(Span(start, end, draw(_SPAN_KINDS), attributes))
    return Block(text, spans=spans)


@settings(max_examples=80, deadline=None)
@given(blocks())
def test_block_html_is_well_formed_and_keeps_text(block):
    from corpus.xmlsafe import xml_safe

    safe = attrs.evolve(block, text=xml_safe(block.text))
    element = etree.fromstring(block_html(safe).encode("utf-8"))
    assert "".join(element.itertext()) == safe.text

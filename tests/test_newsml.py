"""NewsML-G2 exporter: valid against NewsML-G2 2.35, its NITF part valid against NITF 3.6."""

from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree
from test_ninjs import good_documents

from corpus.exporters.newsml import NAR_NS
from corpus.exporters.nitf import NITF_NS
from corpus.model import Block, Document, Span
from corpus.pipeline import read_bytes

NAR = {"g": NAR_NS, "n": NITF_NS}


@pytest.fixture(scope="module")
def newsml_schema(standards):
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    xsd = standards / "newsml-g2" / "NewsML-G2_2.35-spec-All-Power.xsd"
    return etree.XMLSchema(etree.parse(str(xsd), parser))


def check(data: bytes, newsml_schema, nitf_schema) -> etree._Element:
    root = etree.fromstring(data)
    assert newsml_schema.validate(root), newsml_schema.error_log
    (nitf,) = root.findall("g:contentSet/g:inlineXML/n:nitf", NAR)
    # inlineXML validates its child laxly: the NITF is checked on its own, too.
    assert nitf_schema.validate(etree.ElementTree(nitf)), nitf_schema.error_log
    return root


def test_every_good_document_validates(
    fixtures_dir, standards, plugins, newsml_schema, nitf_schema
):
    exporter = plugins.exporters.get("newsml")
    for doc in good_documents(fixtures_dir, standards, plugins):
        check(exporter.export(doc), newsml_schema, nitf_schema)


def test_official_newsml_samples_validate_with_the_same_schemas(standards, newsml_schema):
    """The test's schema loading is sound: IPTC's own items pass it."""
    for path in (standards / "newsml-g2" / "samples").glob("*.xml"):
        assert newsml_schema.validate(etree.parse(str(path))), path.name


def test_the_schema_check_can_fail(plugins, newsml_schema):
    doc = Document(key="k", title="T", blocks=[Block("x")], date=dt.date(2020, 1, 1))
    root = etree.fromstring(plugins.exporters.get("newsml").export(doc))
    root.find("g:itemMeta", NAR).addprevious(root.find("g:contentMeta", NAR))  # wrong order
    assert not newsml_schema.validate(root)


def test_item_carries_the_mapped_fields(plugins, newsml_schema, nitf_schema):
    doc = Document(
        key="politics/duma vote",
        title="Duma votes",
        date=dt.date(2022, 2, 26),
        byline="By AFP",
        dateline="MOSCOW",
        abstract="The vote.",
        keywords=("russia", "ukraine"),
        urgency=2,
        language="en",
        blocks=[Block("Mr Putin signed it.", spans=[Span(3, 8, "person")])],
    )
    root = check(plugins.exporters.get("newsml").export(doc), newsml_schema, nitf_schema)
    assert root.get("guid") == "urn:newscorpus:politics/duma%20vote"
    assert root.get("standardversion") == "2.35"

    def text(path: str) -> list[str]:
        return [e.text for e in root.findall(path, NAR)]

    assert text("g:itemMeta/g:versionCreated") == ["2022-02-26T00:00:00Z"]
    assert text("g:contentMeta/g:contentCreated") == ["2022-02-26"]
    assert text("g:contentMeta/g:headline") == ["Duma votes"]
    assert text("g:contentMeta/g:keyword") == ["russia", "ukraine"]
    assert text("g:contentMeta/g:urgency") == ["2"]
    assert text("g:contentMeta/g:by") == ["By AFP"]
    assert root.find("g:contentMeta/g:language", NAR).get("tag") == "en"
    assert text(".//n:body.content/n:p/n:person") == ["Putin"]


def test_full_timestamps_keep_their_zone(plugins):
    stamp = dt.datetime(2021, 5, 16, 9, 0, 4, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    doc = Document(key="k", title="T", issued=stamp, date=stamp.date(), blocks=[Block("x")])
    root = etree.fromstring(plugins.exporters.get("newsml").export(doc))
    assert root.findtext("g:contentMeta/g:contentCreated", namespaces=NAR) == (
        "2021-05-16T09:00:04+02:00"
    )


def test_undated_document_is_reproducible_with_source_date_epoch(plugins, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    doc = Document(key="undated", title="No date", blocks=[Block("x")])
    first = plugins.exporters.get("newsml").export(doc)
    assert first == plugins.exporters.get("newsml").export(doc)
    root = etree.fromstring(first)
    assert root.findtext("g:itemMeta/g:versionCreated", namespaces=NAR) == "2023-11-14T22:13:20Z"
    assert root.find("g:contentMeta/g:contentCreated", NAR) is None


def test_an_item_reads_back_through_the_nitf_reader(plugins):
    doc = Document(
        key="k",
        title="Title",
        date=dt.date(2024, 3, 1),
        byline="By Ann",
        keywords=("a",),
        blocks=[Block("One two.", spans=[Span(0, 3, "emphasis")]), Block("Three.")],
        annotations={"quotes": {"n": 1}},
    )
    data = plugins.exporters.get("newsml").export(doc)
    back = read_bytes(data, "k.newsml.xml", plugins=plugins).document
    assert (back.title, back.date, back.byline, back.keywords) == (
        doc.title,
        doc.date,
        doc.byline,
        doc.keywords,
    )
    assert [(b.text, b.spans) for b in back.blocks] == [(b.text, b.spans) for b in doc.blocks]
    assert back.annotations["quotes"] == {"n": 1}
    assert back.annotations["nitf-reader"]["newsml"]["guid"] == "urn:newscorpus:k"

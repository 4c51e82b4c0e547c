"""Building the NewsML-G2 ``newsItem`` with lxml (the NewsML exporter imports this on first use).

The envelope's values come from the helpers of :mod:`corpus.exporters.newsml`; the NITF inside
``inlineXML`` from :func:`corpus.exporters.nitf_xml.build_nitf_tree`.
"""

from __future__ import annotations

from lxml import etree

from corpus.exporters.newsml import (
    IPTC_CATALOG,
    NAR_NS,
    STANDARD_VERSION,
    XML_NS,
    content_created,
    document_uri,
    iso_datetime,
    valid_language,
    version_created,
)
from corpus.exporters.nitf_xml import build_nitf_tree
from corpus.model import Document
from corpus.xmlsafe import xml_safe


def _q(name: str) -> str:
    return f"{{{NAR_NS}}}{name}"


def _text(parent: etree._Element, name: str, text: str, **attrib: str) -> etree._Element:
    element = etree.SubElement(parent, _q(name), attrib)
    element.text = xml_safe(text)
    return element


def _item_meta(item: etree._Element, document: Document) -> None:
    meta = etree.SubElement(item, _q("itemMeta"))
    etree.SubElement(meta, _q("itemClass"), qcode="ninat:text")
    etree.SubElement(meta, _q("provider"), literal="newscorpus")
    _text(meta, "versionCreated", iso_datetime(version_created(document)))
    etree.SubElement(meta, _q("pubStatus"), qcode="stat:usable")


def _content_meta(item: etree._Element, document: Document) -> None:
    meta = etree.SubElement(item, _q("contentMeta"))
    if document.urgency is not None and 1 <= document.urgency <= 9:
        _text(meta, "urgency", str(document.urgency))
    created = content_created(document)
    if created is not None:
        _text(meta, "contentCreated", created)
    language = valid_language(document.language)
    if language:
        etree.SubElement(meta, _q("language"), tag=language)
    for keyword in document.keywords:
        _text(meta, "keyword", keyword)
    if document.title:
        _text(meta, "headline", document.title)
    if document.dateline:
        _text(meta, "dateline", document.dateline)
    if document.byline:
        _text(meta, "by", document.byline)
    if document.abstract:
        _text(meta, "description", document.abstract, role="drol:summary")


def build_newsml_tree(document: Document) -> etree._Element:
    """The ``newsItem`` element for a document, valid against NewsML-G2 2.35 (power)."""
    attrib = {
        "guid": xml_safe(document_uri(document)),
        "version": "1",
        "standard": "NewsML-G2",
        "standardversion": STANDARD_VERSION,
        "conformance": "power",
    }
    language = valid_language(document.language)
    if language:
        attrib[f"{{{XML_NS}}}lang"] = language
    item = etree.Element(_q("newsItem"), attrib, nsmap={None: NAR_NS})
    etree.SubElement(item, _q("catalogRef"), href=IPTC_CATALOG)
    _item_meta(item, document)
    _content_meta(item, document)
    content_set = etree.SubElement(item, _q("contentSet"))
    inline = etree.SubElement(content_set, _q("inlineXML"), contenttype="application/nitf+xml")
    inline.append(build_nitf_tree(document, indent=False))
    return item


def newsml_bytes(document: Document) -> bytes:
    """Complete NewsML-G2 file bytes: XML declaration, UTF-8, final newline."""
    root = build_newsml_tree(document)
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"

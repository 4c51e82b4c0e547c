"""Tests of corpus-quotes: rules on small texts, the seed article against a golden file, NITF."""

from __future__ import annotations

import json
import os
from pathlib import Path

import attrs
import corpus_quotes
import pytest
from corpus_quotes import analyse, find_people, find_quotes, quotes_document

from corpus import Block, Document, Span
from corpus.testing import assert_valid_json, assert_valid_nitf, document_from_text, run_pipeline

HERE = Path(__file__).parent
SEED = HERE / "data" / "seed.txt"
GOLDEN = HERE / "golden" / "seed.quotes.json"
PLUGIN = ("quotes", corpus_quotes)


def doc(*paragraphs: str) -> Document:
    return Document(key="t", title="T", blocks=[Block(p) for p in paragraphs])


def quoted(text: str) -> list[str]:
    return [text[s:e] for s, e in find_quotes(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("He said “no way” today.", ["no way"]),
        ('He said "no way" today.', ["no way"]),
        ('“Mixed marks," he said.', ["Mixed marks"]),
        ("“Runs to the end of the paragraph", ["Runs to the end of the paragraph"]),
        ("It's a dog's life, isn't it?", []),
        ('A 6" nail and "a word".', ["a word"]),
        ("Nothing here.", []),
    ],
)
def test_find_quotes(text: str, expected: list[str]) -> None:
    assert quoted(text) == expected


def test_people_need_a_title_an_apposition_or_a_speech_verb() -> None:
    text = (
        "The State Duma, the lower house, met. President Vladimir Putin signed. "
        "Jane Roe, a teacher, spoke. Later Mr Putin left. Red Square was empty."
    )
    names = [name for _, _, name in find_people(text)]
    assert names == ["Vladimir Putin", "Jane Roe", "Vladimir Putin"]


def test_speaker_after_the_quote_and_pronoun_resolution() -> None:
    quotes, _ = analyse(
        doc("Ann Lee, a nurse, was at work.", "“We are tired of waiting for help,” she said.")
    )
    assert [(q.text, q.speaker, q.kind) for q in quotes] == [
        ("We are tired of waiting for help", "Ann Lee", "statement")
    ]


def test_speaker_from_a_speech_verb_before_a_quoted_term() -> None:
    quotes, _ = analyse(doc('Bob Hart, a senator, said he was "appalled" by it.'))
    assert [(q.text, q.speaker, q.kind) for q in quotes] == [("appalled", "Bob Hart", "term")]


def test_unattributed_quote_has_no_speaker() -> None:
    quotes, _ = analyse(doc('Troops were sent "abroad" on Monday.'))
    assert [(q.text, q.speaker) for q in quotes] == [("abroad", None)]


def test_a_paragraph_that_is_only_a_quote_continues_the_previous_speaker() -> None:
    quotes, _ = analyse(
        doc(
            "Cy Young, a coach, spoke.",
            "“We played well and we deserved to win the match,” he said.",
            "“Next week will be harder.”",
        )
    )
    assert [q.speaker for q in quotes] == ["Cy Young", "Cy Young"]


def test_returns_a_new_document_with_spans_and_annotation() -> None:
    original = doc("Ann Lee, a nurse, said: “We are tired.”")
    result = corpus_quotes.enrich(original)
    assert original.blocks[0].spans == ()  # the input is untouched
    assert original.annotations == {}
    block = result.blocks[0]
    marked = {(s.kind, block.text[s.start : s.end]) for s in block.spans}
    assert marked == {("person", "Ann Lee"), ("quote", "We are tired.")}
    assert result.annotations["quotes"]["people"] == [{"name": "Ann Lee", "mentions": 1}]


def test_enriching_twice_adds_nothing() -> None:
    once = quotes_document(doc("Ann Lee, a nurse, said: “We are tired.”"))
    twice = quotes_document(once)
    assert twice.blocks == once.blocks
    assert twice.annotations == once.annotations


def test_existing_spans_are_kept_and_never_crossed() -> None:
    text = "Ann Lee, a nurse, said: “We are tired.”"
    crossing = Span(text.index("are"), len(text), "emphasis")  # starts inside the quote
    result = quotes_document(Document(key="t", blocks=[Block(text, spans=(crossing,))]))
    kinds = sorted(s.kind for s in result.blocks[0].spans)
    assert kinds == ["emphasis", "person"]  # the quote span would cross: left out


def _golden_view(document: Document) -> dict:
    return {
        "annotation": document.annotations["quotes"],
        "markup": [
            {"block": i, "kind": s.kind, "text": b.text[s.start : s.end]}
            for i, b in enumerate(document.blocks)
            for s in b.spans
        ],
    }


def test_seed_matches_golden_file() -> None:
    """The product of this plugin on the seed article; CORPUS_UPDATE_GOLDEN=1 rewrites it."""
    result = run_pipeline(SEED.read_bytes(), PLUGIN, path="seed.txt")
    assert result.document is not None
    view = _golden_view(result.document)
    if os.environ.get("CORPUS_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(view, indent=2, ensure_ascii=False) + "\n", "utf-8")
    assert view == json.loads(GOLDEN.read_text("utf-8"))


def test_seed_speakers() -> None:
    document = document_from_text(SEED.read_text("utf-8"), path="seed.txt")
    quotes, _ = analyse(document)
    speakers = {q.text.split()[0]: q.speaker for q in quotes}
    assert speakers["By"] == "Mikhail Matveyev"
    assert speakers["shocked"] == "Oleg Smolin"
    assert speakers["I"] == "Andrey Kortunov"
    assert speakers["This"] == "Andrey Kortunov"
    assert speakers["abroad"] is None


def test_seed_nitf_has_q_and_person_and_is_valid(corpus_standards: Path) -> None:
    from lxml import etree

    result = run_pipeline(SEED.read_bytes(), PLUGIN, path="seed.txt", formats=["nitf", "json"])
    nitf = result.outputs["nitf"]
    assert_valid_nitf(nitf, standards=corpus_standards)
    assert_valid_json(result.outputs["json"])
    root = etree.fromstring(nitf, etree.XMLParser(no_network=True, resolve_entities=False))
    ns = {"n": root.nsmap.get(None, "")} if root.nsmap.get(None) else {}
    prefix = "n:" if ns else ""
    qs = ["".join(q.itertext()) for q in root.iterfind(f".//{prefix}q", ns)]
    people = ["".join(p.itertext()) for p in root.iterfind(f".//{prefix}person", ns)]
    assert "shocked" in qs and "unprofessionalism" in qs
    assert "Mikhail Matveyev" in people and "Sergey Lavrov" in people
    assert json.loads(result.outputs["json"])["annotations"]["quotes"]["quotes"]


def test_ingest_through_the_cli(corpus_cli, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "seed.txt").write_bytes(SEED.read_bytes())
    corpus_cli.register(corpus_quotes, name="quotes")
    result = corpus_cli.run("ingest", "in", "-o", "out", "-f", "json", "-q")
    assert result.exit_code == 0, result.stderr
    data = json.loads((tmp_path / "out" / "seed.json").read_text("utf-8"))
    assert len(data["annotations"]["quotes"]["quotes"]) == 6


def test_annotation_is_not_shared_with_the_input_document() -> None:
    base = attrs.evolve(doc("x"), annotations={"other": {"a": 1}})
    result = quotes_document(base)
    assert set(result.annotations) == {"other", "quotes"}
    assert set(base.annotations) == {"other"}


def test_a_paragraph_with_one_capital_is_read_once_a_name_is_known() -> None:
    paragraphs = ("Putin spoke.", "Vladimir Putin, a former spy, spoke.", "Putin left.")
    _, mentions = analyse(doc(*paragraphs))
    assert [(m.block, m.name) for m in mentions] == [(1, "Vladimir Putin"), (2, "Vladimir Putin")]

"""Every hostile input in fixtures/bad has a defined outcome: fixtures/bad/expected.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpus.errors import CorpusError
from corpus.model import Severity
from corpus.pipeline import status_of
from corpus.readers.article import ArticleReader

BAD = Path(__file__).resolve().parent.parent / "fixtures" / "bad"
EXPECTED: dict[str, dict] = json.loads((BAD / "expected.json").read_text(encoding="utf-8"))
CODE_SHAPE = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"


def outcome(name: str):
    """(status, codes, findings or the error) of reading one bad fixture."""
    data = (BAD / name).read_bytes()
    try:
        result = ArticleReader().read(data, path=name, key=Path(name).stem)
    except CorpusError as exc:
        return "rejected", [exc.code], exc
    return status_of(result.findings), [f.code for f in result.findings], result


def test_every_bad_file_has_an_expectation_and_every_expectation_a_file():
    files = {p.name for p in BAD.iterdir() if p.name != "expected.json"}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_input_has_its_coded_outcome(name: str):
    status, codes, _ = outcome(name)
    assert status == EXPECTED[name]["status"]
    assert sorted(codes) == sorted(EXPECTED[name]["codes"])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_problem_names_file_line_code_and_what_to_do(name: str):
    status, _, detail = outcome(name)
    if status == "rejected":
        problems = [(detail.path, detail.line, detail.code, Severity.ERROR, detail.message)]
        assert str(detail).startswith(name)
    else:
        problems = [(f.path, f.line, f.code, f.severity, f.message) for f in detail.findings]
    for path, line, code, severity, message in problems:
        assert path == name
        assert code and set(code) <= set(CODE_SHAPE), code
        assert isinstance(severity, Severity)
        assert len(message) > 30
        if code not in ("EMPTY_FILE", "UNDECODABLE"):
            assert isinstance(line, int) and line >= 1, (code, line)


def test_rejections_say_which_binary_format():
    assert "PNG" in outcome("png_image.txt")[2].message
    assert "PDF" in outcome("pdf_document.txt")[2].message
    assert "gzip" in outcome("gzip_data.txt")[2].message
    assert "JPEG" in outcome("jpeg_image.txt")[2].message
    assert "ZIP" in outcome("zip_archive.txt")[2].message
    assert "NUL" in outcome("nul_bytes.txt")[2].message


def test_mojibake_is_kept_for_the_validators_to_flag():
    _, _, result = outcome("mojibake.txt")
    assert result.document.title == "Russiaâ€™s invasion"


def test_cyrillic_legacy_file_decodes_to_cyrillic():
    _, _, result = outcome("cp1251_cyrillic.txt")
    assert result.document.title == "Госдума"
    assert result.document.source.encoding == "windows-1251"


def test_no_xml_forbidden_character_survives_in_any_accepted_bad_input():
    import re

    forbidden = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
    for name in EXPECTED:
        status, _, result = outcome(name)
        if status == "rejected":
            continue
        doc = result.document
        for text in [doc.title, doc.byline or "", *(b.text for b in doc.blocks)]:
            assert not forbidden.search(text), name

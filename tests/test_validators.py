"""Built-in validators: each code fires on the problem it names, and not on a clean document."""

from __future__ import annotations

import datetime as dt

import pytest

from corpus.config import Config
from corpus.model import Block, Document, Source
from corpus.validators import looks_like_mojibake, validate

LONG = " ".join(["word"] * 60)
SOURCE = Source(path="a/b.txt", sha256="0" * 64, encoding="utf-8", size=1)


def doc(**kwargs) -> Document:
    base = dict(
        key="a/b",
        title="A headline",
        date=dt.date(2022, 2, 26),
        blocks=(
            Block(LONG, line_start=3, line_end=3),
            Block("Another paragraph.", line_start=5, line_end=5),
        ),
        source=SOURCE,
    )
    base.update(kwargs)
    return Document(**base)


def codes(document: Document, config: Config | None = None) -> list[str]:
    return [f.code for f in validate(document, config or Config(today="2022-03-01"))]


def test_clean_document_has_no_findings():
    assert codes(doc()) == []


def test_missing_title():
    findings = validate(doc(title="  "), Config(today="2022-03-01"))
    assert [f.code for f in findings] == ["MISSING_TITLE"]
    assert findings[0].line == 1
    assert findings[0].path == "a/b.txt"
    assert findings[0].plugin == "validators"
    assert findings[0].severity.value == "warning"


def test_empty_and_duplicate_paragraphs_name_their_lines():
    blocks = (
        Block(LONG, line_start=3, line_end=3),
        Block(" ", line_start=5, line_end=5),
        Block(LONG, line_start=7, line_end=7),
    )
    findings = validate(doc(blocks=blocks), Config(today="2022-03-01"))
    assert [(f.code, f.line) for f in findings] == [
        ("EMPTY_PARAGRAPH", 5),
        ("DUPLICATE_PARAGRAPH", 7),
    ]
    assert "line 3" in findings[1].message


def test_short_body_threshold_is_configurable():
    short = doc(blocks=(Block("Only a few words here.", line_start=3, line_end=3),))
    assert codes(short) == ["SHORT_BODY"]
    relaxed = Config(plugins={"validators": {"min_body_words": 3}}, today="2022-03-01")
    assert codes(short, relaxed) == []


@pytest.mark.parametrize(
    ("date", "expected"),
    [(dt.date(2022, 3, 2), []), (dt.date(2022, 3, 3), ["FUTURE_DATE"]), (None, [])],
)
def test_future_date_allows_one_day_of_time_zones(date, expected):
    assert codes(doc(date=date)) == expected


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("Russiaâ€™s invasion", True),
        ("cafÃ© society", True),
        ("Â£5 for a ticket", True),
        ("Russia’s invasion", False),
        ("café society, £5, naïve", False),
        ("Ångström and Ôlé", False),
        ("ഇന്ത്യ தமிழ் shqip", False),
    ],
)
def test_mojibake_detection(text, bad):
    assert (looks_like_mojibake(text) is not None) is bad


def test_mojibake_finding_points_at_the_paragraph():
    blocks = (
        Block(LONG, line_start=3, line_end=3),
        Block("Russiaâ€™s war", line_start=9, line_end=9),
    )
    findings = validate(doc(blocks=blocks), Config(today="2022-03-01"))
    assert [(f.code, f.line) for f in findings] == [("MOJIBAKE", 9)]


def test_duplicate_paragraph_findings_are_capped_with_a_count():
    blocks = tuple(Block(LONG, line_start=i, line_end=i) for i in range(1, 101))
    findings = validate(doc(blocks=blocks), Config(today="2022-03-01"))
    dupes = [f for f in findings if f.code == "DUPLICATE_PARAGRAPH"]
    assert len(dupes) == 10
    assert [f.line for f in dupes[:9]] == list(range(2, 11))
    assert "and 89 more repeat" in dupes[-1].message


def test_short_body_judges_unspaced_scripts_by_length():
    chinese = "俄罗斯入侵乌克兰的行动不得人心，几名议员撤回了对克里姆林宫的支持。" * 8
    assert codes(doc(blocks=(Block(chinese, line_start=3, line_end=3),))) == []
    assert codes(doc(blocks=(Block("俄罗斯入侵。", line_start=3, line_end=3),))) == ["SHORT_BODY"]

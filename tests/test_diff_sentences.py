"""Sentence ends for the diff: abbreviations, initials, numbers and quotes do not cut."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from corpus.diff.sentences import sentence_bounds

CASES = json.loads(
    (Path(__file__).resolve().parent / "fixtures" / "sentences.json").read_text(encoding="utf-8")
)


def split(text: str) -> list[str]:
    return [text[s:e].strip() for s, e in sentence_bounds(text)]


@pytest.mark.parametrize("case", CASES, ids=[c[0][:30] for c in CASES])
def test_tricky_cases(case):
    assert split(" ".join(case)) == case


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("See Fig. 3. It is flat.", ["See Fig. 3.", "It is flat."]),
        ("Use e.g. Python. It works.", ["Use e.g. Python.", "It works."]),
        ("It was 5 p.m. Then it rained.", ["It was 5 p.m.", "Then it rained."]),
        ("He works at Acme Inc. in Ohio.", ["He works at Acme Inc. in Ohio."]),
        ("Plan A. Plan B.", ["Plan A. Plan B."]),  # a capital letter alone: kept together
        ("ഇത് ഒന്ന്. ഇത് രണ്ട്.", ["ഇത് ഒന്ന്.", "ഇത് രണ്ട്."]),  # no case: cut at each stop
        ("第一句。第二句。", ["第一句。", "第二句。"]),
        ("Ends with a space. ", ["Ends with a space.", ""]),
    ],
)
def test_rules(text, expected):
    assert split(text) == expected


@given(st.text(alphabet=st.sampled_from("ab .!?\"')(\n…。Mr"), max_size=60))
def test_bounds_partition_any_text(text):
    bounds = sentence_bounds(text)
    assert bounds[0][0] == 0 and bounds[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:], strict=False))
    assert all(s < e for s, e in bounds) or text == ""

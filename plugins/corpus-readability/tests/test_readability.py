"""Tests of corpus-readability: counts, the Flesch formula, and the configurable validator."""

from __future__ import annotations

from pathlib import Path

import corpus_readability
import pytest
from corpus_readability import flesch_reading_ease, measure, sentences, syllables, words

from corpus import Block, Document
from corpus.errors import ConfigError
from corpus.testing import finding_codes, run_pipeline

PLUGIN = ("readability", corpus_readability)
LONG = " ".join(["word"] * 45) + "."
ARTICLE = f" date 2024-03-01 A headline\n\nThe cat sat on the mat. It was warm.\n\n{LONG}\n"


def doc(*paragraphs: str, language: str | None = None) -> Document:
    return Document(key="t", blocks=[Block(p) for p in paragraphs], language=language)


@pytest.mark.parametrize(
    ("word", "count"),
    [("cat", 1), ("table", 2), ("reading", 2), ("invasion", 3), ("shocked", 1), ("free", 1)],
)
def test_syllables(word: str, count: int) -> None:
    assert syllables(word) == count


def test_sentences_end_at_punctuation_before_a_capital_and_at_the_paragraph_end() -> None:
    text = 'He said "no." Then he left! Was it 3.5 miles? Yes... e.g. not here'
    assert sentences(text) == [
        'He said "no."',
        "Then he left!",
        "Was it 3.5 miles?",
        "Yes... e.g. not here",
    ]


def test_flesch_of_a_known_sentence() -> None:
    # "The cat sat on the mat." 6 words, 1 sentence, 6 syllables:
    # 206.835 - 1.015 * 6 - 84.6 * 1 = 116.145
    assert flesch_reading_ease(6, 1, 6) == 116.1
    figures = measure(doc("The cat sat on the mat."))
    assert figures["flesch_reading_ease"] == 116.1
    assert (figures["words"], figures["sentences"], figures["syllables"]) == (6, 1, 6)


def test_reading_time_uses_the_configured_speed() -> None:
    result = run_pipeline(
        doc(" ".join(["word"] * 100) + "."),
        PLUGIN,
        settings={"readability": {"words_per_minute": 50}},
    )
    assert result.document.annotations["readability"]["reading_time_seconds"] == 120


def test_no_score_for_text_that_is_not_english() -> None:
    assert measure(doc("Это очень простой текст."))["flesch_reading_ease"] is None
    assert measure(doc("The cat sat.", language="de"))["flesch_reading_ease"] is None
    assert measure(doc("The cat sat.", language="en-GB"))["flesch_reading_ease"] is not None


def test_words_keep_inner_apostrophes_and_hyphens() -> None:
    assert words("Russia’s anti-war e-mail, 2022.") == ["Russia’s", "anti-war", "e-mail", "2022"]


def test_words_are_whitespace_separated_tokens_with_a_letter_or_digit() -> None:
    text = "“Yes,” 3,000 and/or U.S. troops — (48%) left…"
    assert words(text) == ["Yes", "3,000", "and/or", "U.S", "troops", "48", "left"]
    figures = measure(doc(text))
    assert (figures["words"], figures["sentences"]) == (7, 1)


def test_long_sentence_warning_with_default_limit() -> None:
    result = run_pipeline(ARTICLE, PLUGIN)
    long = [f for f in result.findings if f.code == "READABILITY_LONG_SENTENCE"]
    assert len(long) == 1
    assert long[0].severity.value == "warning"
    assert long[0].line == 5
    assert long[0].plugin == "readability"
    assert "45 words (limit 40)" in long[0].message
    assert result.status == "warning"


def test_threshold_and_severity_come_from_settings() -> None:
    settings = {"readability": {"max_sentence_words": 50}}
    assert "READABILITY_LONG_SENTENCE" not in finding_codes(
        run_pipeline(ARTICLE, PLUGIN, settings=settings).findings
    )
    settings = {"readability": {"max_sentence_words": 6, "severity": "info"}}
    result = run_pipeline(ARTICLE, PLUGIN, settings=settings)
    assert finding_codes(result.findings).count("READABILITY_LONG_SENTENCE") == 1  # 45 words
    assert result.status == "ok"


def test_bad_settings_are_a_config_error_before_any_document() -> None:
    with pytest.raises(ConfigError, match="max_sentence_words must be an integer"):
        run_pipeline(ARTICLE, PLUGIN, settings={"readability": {"max_sentence_words": "x"}})
    with pytest.raises(ConfigError, match="did you mean 'words_per_minute'"):
        run_pipeline(ARTICLE, PLUGIN, settings={"readability": {"words_per_minut": 200}})


def test_settings_from_corpus_toml_through_the_cli(corpus_cli, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    corpus_cli.register(corpus_readability, name="readability")
    result = corpus_cli.run("validate", "a.txt")
    assert "READABILITY_LONG_SENTENCE" in result.stdout
    (tmp_path / "corpus.toml").write_text("[plugins.readability]\nmax_sentence_words = 60\n")
    result = corpus_cli.run("validate", "a.txt")
    assert "READABILITY_LONG_SENTENCE" not in result.stdout
    assert result.exit_code == 0, result.stdout + result.stderr

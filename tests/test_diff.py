"""Unit tests of the document diff library: units, alignment, classes, summary, apply, schema."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import jsonschema
import pytest

from corpus.diff import (
    DiffConflict,
    DocumentDiff,
    apply_diff,
    diff_documents,
    patch_text,
    reverse_diff,
    without_cosmetic,
)
from corpus.diff.align import align_paragraphs, lis_indices
from corpus.diff.schema import DIFF_SCHEMA
from corpus.diff.text import fingerprint, sentence_bounds, tokens, word_count
from corpus.diff.words import align_sentences, word_changes
from corpus.model import Block, Document, Span

DOCS = Path(__file__).resolve().parent.parent / "docs" / "diff.md"


def doc(*paras: str, title: str = "Title", date: dt.date | None = None, key: str = "k"):
    return Document(key=key, title=title, date=date, blocks=[Block(p) for p in paras])


P = [
    "The minister, John Smith, said on Tuesday that the plan would go ahead.",
    "Critics said the plan was rushed and would cost far more than promised.",
    "Protesters gathered outside parliament on Wednesday evening.",
    "Police said the crowd was peaceful and nobody was arrested.",
    "The vote is expected next week after a second reading.",
]


def test_tokens_cover_text_and_keep_words_whole():
    text = "Hello, “world” — it’s 3.5% of £20,000. മലയാളം ഭാഷ"
    toks = tokens(text)
    assert "".join(toks) == text
    assert "3.5" in toks and "20,000" in toks and "മലയാളം" in toks
    assert word_count(text) == 9


def test_sentence_bounds_partition_text():
    text = "First one. Second? “Third!” Last without stop"
    bounds = sentence_bounds(text)
    assert "".join(text[a:b] for a, b in bounds) == text
    assert [text[a:b].strip() for a, b in bounds] == [
        "First one.",
        "Second?",
        "“Third!”",
        "Last without stop",
    ]


@pytest.mark.parametrize(
    ("a", "b", "cosmetic"),
    [
        ('"Hello," he said', "“hello” he said", True),
        ("don't", "don’t", True),
        ("two  spaces", "two spaces", True),
        ("3.5 million", "35 million", False),
        ("Smith", "Smyth", False),
        ("the plan", "plan", False),
    ],
)
def test_fingerprint_tells_cosmetic(a, b, cosmetic):
    assert (fingerprint(a) == fingerprint(b)) is cosmetic


def test_word_changes_have_exact_offsets():
    old = "The minister, John Smith, said on Tuesday."
    new = "The minister, John Smyth, told reporters on Wednesday."
    changes = word_changes(old, new)
    for c in changes:
        assert old[c.old_start : c.old_end] == c.old
        assert new[c.new_start : c.new_end] == c.new
    # Two replacements around a short kept word ("on") are one, as people mark them.
    assert [(c.old, c.new) for c in changes] == [
        ("Smith", "Smyth"),
        ("said on Tuesday", "told reporters on Wednesday"),
    ]


def test_cosmetic_runs_are_not_merged_with_substantive_ones():
    changes = word_changes("Even the plan", "even a plan")
    assert [(c.old, c.new, c.cls) for c in changes] == [
        ("Even", "even", "cosmetic"),
        ("the", "a", "substantive"),
    ]


def test_lis_indices():
    seq = [3, 1, 2, 5, 4, 6]
    picked = [seq[i] for i in lis_indices(seq)]
    assert len(picked) == 4 and picked == sorted(picked)
    assert lis_indices([]) == []


def test_alignment_pairs_edits_and_finds_moves():
    old = P
    new = [P[3], P[0].replace("Smith", "Smyth"), P[1], P[2], P[4]]
    groups = {tuple(g.old): g for g in align_paragraphs(old, new)}
    assert groups[(3,)].new == [0] and not groups[(3,)].in_order
    assert groups[(0,)].new == [1] and not groups[(0,)].exact
    assert all(groups[(i,)].in_order for i in (0, 1, 2, 4))


def test_edit_move_insert_delete_ops():
    old = doc(*P)
    new = doc(P[3], P[0].replace("Smith", "Smyth"), P[1], "A new paragraph about the budget.", P[4])
    d = diff_documents(old, new)
    ops = [(op.op, op.old, op.new) for op in d.paragraphs]
    assert ("move", (3,), (0,)) in ops
    assert ("edit", (0,), (1,)) in ops
    assert ("delete", (2,), ()) in ops
    assert ("insert", (), (3,)) in ops
    s = d.summary
    assert (s.paragraphs_moved, s.paragraphs_edited) == (1, 1)
    assert (s.paragraphs_inserted, s.paragraphs_deleted) == (1, 1)
    assert d.summary_line() == "+7 -8 words; 1 paragraph edited, 1 moved, 1 inserted, 1 deleted"


def test_split_and_merge():
    old = doc(P[0] + " " + P[1], P[2], P[3])
    new = doc(P[0], P[1], P[2] + " " + P[3])
    ops = [(op.op, op.old, op.new) for op in diff_documents(old, new).paragraphs]
    assert ops == [("split", (0,), (0, 1)), ("merge", (1, 2), (2,))]


def test_deletion_is_shown_where_it_was():
    d = diff_documents(doc(*P), doc(P[0], P[1], P[3], P[4]))
    assert [op.op for op in d.paragraphs] == ["equal", "equal", "delete", "equal", "equal"]


def test_edited_sentence_below_threshold_is_replaced_whole():
    old = doc("It rained. The minister said the plan would go ahead on Monday.")
    new = doc("It rained. The minister said the plan would be delayed until June.")
    words = diff_documents(old, new, whole_below=0.0).paragraphs[0].changes
    whole = diff_documents(old, new, whole_below=0.9).paragraphs[0].changes
    assert len(words) == 1 and words[0].old == "go ahead on Monday"
    assert [(c.old, c.new) for c in whole] == [
        (
            " The minister said the plan would go ahead on Monday.",
            " The minister said the plan would be delayed until June.",
        )
    ]


def test_header_changes_and_classes():
    old = doc(P[0], title="Storm hits the coast", date=dt.date(2022, 2, 26))
    new = doc(P[0], title="Storm Hits The Coast", date=dt.date(2022, 2, 27))
    d = diff_documents(old, new)
    assert [(h.field, h.cls) for h in d.header] == [("title", "cosmetic"), ("date", "substantive")]
    assert d.header[1].old == "2022-02-26"
    assert d.summary_line().startswith("title and date changed")
    shown = without_cosmetic(d)
    assert [h.field for h in shown.header] == ["date"]
    with pytest.raises(DiffConflict):
        apply_diff(old, shown)


def test_without_cosmetic_hides_only_cosmetic_changes():
    old = doc('He said "yes".', P[1])
    new = doc("He said “yes”.", P[1].replace("far more", "less"))
    d = diff_documents(old, new)
    assert d.summary.cosmetic_changes == 2 and d.summary.substantive_changes == 1
    shown = without_cosmetic(d)
    assert [op.op for op in shown.paragraphs] == ["equal", "edit"]
    assert [c.cls for op in shown.paragraphs for c in op.changes] == ["substantive"]
    assert shown.summary.cosmetic_changes == 0


def test_cosmetic_only_diff():
    d = diff_documents(doc("Hello, world."), doc("hello  world!"))
    assert d.is_cosmetic and not d.is_empty
    assert d.summary_line() == "1 paragraph edited; cosmetic only"
    assert without_cosmetic(d).is_empty


def test_markup_change_is_kept_and_applied():
    old = Document("k", blocks=[Block("John Smith spoke.")])
    new = Document("k", blocks=[Block("John Smith spoke.", spans=(Span(0, 10, "person"),))])
    d = diff_documents(old, new)
    assert not d.is_empty and d.paragraphs[0].op == "edit"
    assert apply_diff(old, d).blocks[0].spans == new.blocks[0].spans
    assert apply_diff(new, reverse_diff(d)).blocks[0].spans == ()


def test_apply_refuses_the_wrong_base():
    old, new = doc(*P), doc(P[0], P[1].replace("rushed", "hasty"))
    d = diff_documents(old, new)
    with pytest.raises(DiffConflict) as info:
        apply_diff(doc(P[0], "Something else entirely, unrelated."), d)
    assert info.value.code == "DIFF_CONFLICT"


def test_apply_and_reverse_with_new_key():
    old, new = doc(*P, key="a"), doc(*P[1:], key="b")
    d = diff_documents(old, new)
    assert apply_diff(old, d).key == "b"
    assert apply_diff(new, reverse_diff(d)).key == "a"


def test_json_round_trip_and_schema():
    old = doc(P[0] + " " + P[1], P[2], P[3], date=dt.date(2020, 1, 1))
    new = doc(P[0], P[1], P[3].upper(), "Extra.", title="Other", date=None)
    d = diff_documents(old, new, hashes=True)
    data = json.loads(json.dumps(d.to_dict()))
    jsonschema.validate(data, DIFF_SCHEMA)
    assert DocumentDiff.from_dict(data) == d
    assert data["old_hash"] == old.content_hash
    with pytest.raises(ValueError):
        DocumentDiff.from_dict({**data, "diff_version": 99})


def test_docs_show_the_schema():
    text = DOCS.read_text(encoding="utf-8")
    block = re.search(r"<!-- schema -->\s*```json\n(.*?)```", text, re.S)
    assert block, "docs/diff.md must hold the JSON Schema after a <!-- schema --> marker"
    assert json.loads(block.group(1)) == DIFF_SCHEMA


def test_bad_option_is_an_error():
    with pytest.raises(ValueError):
        diff_documents(doc("a"), doc("b"), whole_below=2)


def test_white_space_is_never_matched_so_kept_words_stay_kept():
    # An LCS over tokens with spaces would pair the spaces and skip "matrix".
    old = "a unitary matrix [MATH] is"
    new = "a matrix in the group [MATH] is"
    changes = word_changes(old, new)
    assert [(c.op, c.old.strip(), c.new.strip()) for c in changes] == [
        ("delete", "unitary", ""),
        ("insert", "", "in the group"),
    ]


def test_punctuation_next_to_a_word_change_is_one_change():
    changes = word_changes("shown in Fig. ( a ) here", "shown in figure a ) here")
    assert [(c.old, c.new, c.cls) for c in changes] == [("Fig. (", "figure", "substantive")]


def test_a_clause_mark_set_apart_at_the_edge_of_a_short_change_is_its_own_change():
    changes = word_changes("While most labels", "In contrast , most labels")
    assert [(c.old, c.new, c.cls) for c in changes] == [
        ("While", "In contrast", "substantive"),
        ("", " ,", "cosmetic"),
    ]
    changes = word_changes("the ambiguity , i.e. for each", "the ambiguity ; that is for each")
    assert [(c.old, c.new) for c in changes] == [(",", ";"), ("i.e.", "that is")]
    # Glued to its word, the mark stays in the change; after a long rewrite, too.
    changes = word_changes("While most labels", "In contrast, most labels")
    assert [(c.old, c.new) for c in changes] == [("While", "In contrast,")]
    changes = word_changes("Note that x", "For every large enough value , x")
    assert [(c.old, c.new) for c in changes] == [("Note that", "For every large enough value ,")]


def test_a_single_word_deleted_alone_and_inserted_alone_moved():
    changes = word_changes("two parties each holding 4 items", "two parties holding 4 items each")
    assert [(c.op, c.old.strip(), c.new.strip(), c.moved) for c in changes] == [
        ("delete", "each", "", True),
        ("insert", "", "each", True),
    ]
    # A short word that is part of a rewrite on either side is not a move.
    changes = word_changes("the box is red", "a box is the red")
    assert not any(c.moved for c in changes)


def test_an_insertion_or_deletion_in_repeated_text_stands_last():
    # The matcher alone would delete "[1] and " and insert "[M] , ".
    changes = word_changes("lies in Figs. [1] and [1] .", "lies in Fig. [1] .")
    assert [(c.op, c.old) for c in changes] == [("replace", "Figs"), ("delete", "and [1] ")]
    changes = word_changes("states in [M] .", "from the states in [M] , [M] .")
    assert [(c.op, c.new) for c in changes] == [("insert", "from the "), ("insert", ", [M] ")]


def test_a_kept_word_repeated_by_the_insertion_beside_it_joins_two_insertions():
    # The matcher alone keeps the first "aid" and inserts "that with " and "from ... of aid ".
    old = "officials said aid trucks reach the city"
    new = "officials said that with aid from the army , a convoy of aid trucks reaches the city"
    changes = word_changes(old, new)
    assert [(c.op, c.old, c.new) for c in changes] == [
        ("insert", "", "that with aid from the army , a convoy of "),
        ("replace", "reach", "reaches"),
    ]
    assert patch_text(old, changes) == new


def test_two_replacements_around_a_short_kept_word_are_one():
    changes = word_changes("the decomposition of unity holds", "the resolution of identity holds")
    assert [(c.old, c.new) for c in changes] == [
        ("decomposition of unity", "resolution of identity")
    ]
    # Not across a longer word, nor beside a pure insertion or deletion.
    changes = word_changes("a big house stands", "a small house falls")
    assert [(c.old, c.new) for c in changes] == [("big", "small"), ("stands", "falls")]
    changes = word_changes("prices rose in May", "prices fell sharply in May")
    assert [(c.old, c.new) for c in changes] == [("rose", "fell sharply")]
    changes = word_changes("he left on Monday", "he quit on")
    assert [(c.old, c.new) for c in changes] == [("left", "quit"), (" Monday", "")]


def test_a_word_recased_inside_a_change_is_not_a_move():
    old = "Thus , senate leaders passed the bill"
    new = "Taking Senate-House talks into account , Senate leaders passed the bill"
    changes = word_changes(old, new)
    assert not any(c.moved for c in changes)
    assert [(c.old, c.new, c.cls) for c in changes][-1] == ("senate", "Senate", "cosmetic")


def test_a_phrase_moved_out_of_a_replacement_leaves_the_rest_paired():
    changes = word_changes(
        "the vote depends in part on turnout", "the vote to a large part on turnout depends"
    )
    assert [(c.op, c.old, c.new, c.moved) for c in changes] == [
        ("delete", "depends", "", True),
        ("replace", " in", "to a large", False),
        ("insert", "", " depends", True),
    ]


def test_one_sentence_standing_alone_between_unchanged_ones_pairs_at_the_lower_floor():
    was = "President Vladimir Putin signed the motion into law on Monday."
    now = "The Kremlin confirmed on Monday that the measure had become law."
    old, new = f"Talks ended. {was} Markets fell.", f"Talks ended. {now} Markets fell."
    ops = align_sentences(old, new)
    assert [op.op for op in ops] == ["equal", "edit", "equal"]
    assert 0.25 <= ops[1].similarity < 0.3  # paired in place, then shown replaced whole
    assert [c.op for c in ops[1].changes] == ["replace"]
    ops = align_sentences(old, new, whole_below=0.0)
    assert len(ops[1].changes) > 1


def test_a_phrase_or_sentence_moved_between_sentences_is_flagged_moved():
    old = "The council met on Monday. After a long debate, the mayor resigned."
    new = "After a long debate, the council met on Monday. The mayor resigned."
    moved = [(c.op, c.old, c.new) for s in align_sentences(old, new) for c in s.changes if c.moved]
    assert moved == [
        ("insert", "", "After a long debate, "),
        ("delete", "After a long debate, ", ""),
    ]
    old = "Rain fell. The council met on Monday. The mayor resigned."
    new = "The council met on Monday. Rain fell. The mayor resigned."
    d = diff_documents(doc(old), doc(new))
    assert apply_diff(doc(old), d).blocks == doc(new).blocks
    flagged = [c for c in d.paragraphs[0].changes if c.moved]
    assert sorted(c.op for c in flagged) == ["delete", "insert"]
    assert {(c.old + c.new).strip() for c in flagged} == {"The council met on Monday."}


def test_adjacent_case_changes_are_one_cosmetic_change():
    changes = word_changes("the Numerical Action Method works", "the numerical action method works")
    assert [(c.old, c.new, c.cls) for c in changes] == [
        ("Numerical Action Method", "numerical action method", "cosmetic")
    ]


def test_a_moved_phrase_is_flagged_and_still_applies():
    old = "In this paper we show that the bound holds."
    new = "We show that the bound holds in this paper."
    changes = word_changes(old, new)
    moved = [c for c in changes if c.moved]
    assert sorted(c.op for c in moved) == ["delete", "insert"]
    assert {(c.old or c.new).strip().casefold() for c in moved} == {"in this paper"}
    assert patch_text(old, changes) == new
    assert patch_text(new, [c.reversed() for c in changes]) == old
    d = diff_documents(doc(old), doc(new))
    assert DocumentDiff.from_dict(json.loads(json.dumps(d.to_dict()))) == d
    jsonschema.validate(d.to_dict(), DIFF_SCHEMA)


def test_a_long_replacement_is_a_deletion_and_an_insertion():
    old = "Russia's foreign ministry sought to punish some of the diplomats."
    new = "Officials in Moscow moved quickly against the diplomats."
    changes = word_changes(old, new)
    assert [c.op for c in changes] == ["delete", "insert"]
    assert patch_text(old, changes) == new


def test_a_paragraph_that_grew_keeps_its_word_changes():
    old = "The council approved the budget on Monday."
    new = (
        "After a long debate that ran past midnight and drew protests outside, the council "
        "finally approved the budget on Monday, officials said, with a narrow majority."
    )
    d = diff_documents(doc(P[0], old, P[1]), doc(P[0], new, P[1]))
    assert [op.op for op in d.paragraphs] == ["equal", "edit", "equal"]
    # Every old word is still there: changes insert words or are cosmetic ("The" -> "the").
    assert all(c.op == "insert" or c.cls == "cosmetic" for c in d.paragraphs[1].changes)


def test_sentences_cut_differently_are_diffed_as_one_unit():
    # "FIG . 3" is cut after "FIG ." (not a known abbreviation); the old sentence is not.
    old = "The result is displayed in Fig. 3 of the paper."
    new = "The result is displayed in FIG . 3 of the paper."
    ops = align_sentences(old, new)
    assert [s.op for s in ops] == ["edit"]
    assert [(c.old, c.new) for c in ops[0].changes] == [("Fig", "FIG"), ("", " ")]


def test_abbreviations_do_not_cut_a_sentence_into_a_whole_replacement():
    old = "As shown in Fig. 3 the signal is weak. It fades."
    new = "As shown in Figure 3 the signal is weak. It fades."
    d = diff_documents(doc(old), doc(new))
    assert [(c.old, c.new) for c in d.paragraphs[0].changes] == [("Fig.", "Figure")]

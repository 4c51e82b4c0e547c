"""The JSON Schema of :meth:`DocumentDiff.to_dict` (docs/diff.md shows the same schema)."""

from __future__ import annotations

from typing import Any

from .model import HEADER_FIELDS

_CLASS = {"enum": ["substantive", "cosmetic"]}
_INDEX_LIST = {"type": "array", "items": {"type": "integer", "minimum": 0}}
_OFFSET = {"type": "integer", "minimum": 0}

DIFF_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "DocumentDiff",
    "type": "object",
    "required": ["diff_version", "old_key", "new_key", "empty", "summary", "header", "paragraphs"],
    "additionalProperties": False,
    "properties": {
        "diff_version": {"const": 1},
        "old_key": {"type": "string"},
        "new_key": {"type": "string"},
        "old_hash": {"type": ["string", "null"]},
        "new_hash": {"type": ["string", "null"]},
        "empty": {"type": "boolean"},
        "ignored": {"type": "array", "items": {"type": "string"}},
        "summary": {"$ref": "#/$defs/summary"},
        "header": {"type": "array", "items": {"$ref": "#/$defs/field_change"}},
        "paragraphs": {"type": "array", "items": {"$ref": "#/$defs/paragraph_op"}},
    },
    "$defs": {
        "word_change": {
            "type": "object",
            "required": ["op", "old_start", "old_end", "new_start", "new_end", "old", "new"],
            "additionalProperties": False,
            "properties": {
                "op": {"enum": ["insert", "delete", "replace"]},
                "old_start": _OFFSET,
                "old_end": _OFFSET,
                "new_start": _OFFSET,
                "new_end": _OFFSET,
                "old": {"type": "string"},
                "new": {"type": "string"},
                "class": _CLASS,
                "moved": {"const": True},
            },
        },
        "sentence_op": {
            "type": "object",
            "required": ["op", "old_start", "old_end", "new_start", "new_end"],
            "additionalProperties": False,
            "properties": {
                "op": {"enum": ["equal", "insert", "delete", "edit"]},
                "old_start": _OFFSET,
                "old_end": _OFFSET,
                "new_start": _OFFSET,
                "new_end": _OFFSET,
                "class": _CLASS,
                "similarity": {"type": "number", "minimum": 0, "maximum": 1},
                "changes": {"type": "array", "items": {"$ref": "#/$defs/word_change"}},
            },
        },
        "block_meta": {
            "type": "object",
            "required": ["kind"],
            "additionalProperties": False,
            "properties": {
                "kind": {"type": "string"},
                "spans": {"type": "array", "items": {"type": "object"}},
            },
        },
        "paragraph_op": {
            "type": "object",
            "required": ["op", "old", "new"],
            "additionalProperties": False,
            "properties": {
                "op": {"enum": ["equal", "insert", "delete", "edit", "move", "split", "merge"]},
                "old": _INDEX_LIST,
                "new": _INDEX_LIST,
                "class": _CLASS,
                "similarity": {"type": "number", "minimum": 0, "maximum": 1},
                "old_text": {"type": "string"},
                "new_text": {"type": "string"},
                "old_lengths": _INDEX_LIST,
                "new_lengths": _INDEX_LIST,
                "old_markup": {"type": "array", "items": {"$ref": "#/$defs/block_meta"}},
                "new_markup": {"type": "array", "items": {"$ref": "#/$defs/block_meta"}},
                "sentences": {"type": "array", "items": {"$ref": "#/$defs/sentence_op"}},
            },
        },
        "field_change": {
            "type": "object",
            "required": ["field", "old", "new", "class"],
            "additionalProperties": False,
            "properties": {
                "field": {"enum": list(HEADER_FIELDS)},
                "old": {},
                "new": {},
                "class": _CLASS,
                "changes": {"type": "array", "items": {"$ref": "#/$defs/word_change"}},
            },
        },
        "summary": {
            "type": "object",
            "additionalProperties": False,
            "required": [
                "words_added",
                "words_removed",
                "paragraphs_changed",
                "paragraphs_moved",
                "changed_ratio",
            ],
            "properties": {
                **{
                    name: {"type": "integer", "minimum": 0}
                    for name in (
                        "words_added",
                        "words_removed",
                        "paragraphs_old",
                        "paragraphs_new",
                        "paragraphs_unchanged",
                        "paragraphs_changed",
                        "paragraphs_inserted",
                        "paragraphs_deleted",
                        "paragraphs_edited",
                        "paragraphs_moved",
                        "paragraphs_split",
                        "paragraphs_merged",
                        "substantive_changes",
                        "cosmetic_changes",
                    )
                },
                "header_changed": {"type": "array", "items": {"type": "string"}},
                "changed_ratio": {"type": "number", "minimum": 0, "maximum": 1},
            },
        },
    },
}

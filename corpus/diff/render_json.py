"""The ``json`` diff format: :meth:`DocumentDiff.to_dict`, schema in docs/diff.md."""

from __future__ import annotations

import json

from .model import DocumentDiff
from .render import RenderOptions


class JsonFormat:
    """The DocumentDiff as JSON (``--stat``: only its summary)."""

    name = "json"
    description = "the DocumentDiff as JSON (schema in docs/diff.md)"

    def render(self, diff: DocumentDiff, options: RenderOptions) -> str:
        data = diff.summary.to_dict() if options.stat else diff.to_dict()
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"

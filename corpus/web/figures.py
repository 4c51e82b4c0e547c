"""Figures for people, shared by the pages and the feed."""

from __future__ import annotations

import math


def pct(ratio: float) -> str:
    """A share of text for people: ``12%``, ``<1%`` for a sliver, ``0%`` for none."""
    if ratio <= 0:
        return "0%"
    if ratio < 0.01:
        return "<1%"
    return f"{math.floor(ratio * 100 + 0.5)}%"

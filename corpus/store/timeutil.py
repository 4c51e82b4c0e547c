"""Timestamps in the store: UTC ISO 8601 text with a fixed width, so text order is time order.

Users type times in many shapes (``2024-05-01``, ``2024-05-01T12:00``, with or without a zone);
:func:`parse_user_time` turns them into the stored form and refuses anything else clearly.
"""

from __future__ import annotations

import datetime as dt

from ..errors import ConfigError

#: strftime pattern of every stored timestamp (microseconds keep two records of one run ordered).
STAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def to_stamp(moment: dt.datetime) -> str:
    """The stored text of an aware or naive (taken as UTC) datetime."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment.strftime(STAMP_FORMAT)


def now_stamp() -> str:
    """The current time as stored text."""
    return to_stamp(dt.datetime.now(dt.timezone.utc))


def captured_stamp(text: str | None) -> str | None:
    """The stored form of a capture time (``2024-11-05T17:31:02Z``), or None if unreadable."""
    if not text:
        return None
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return to_stamp(moment)


def short(stamp: str | None) -> str:
    """A stored timestamp for people: seconds precision, ``Z`` kept, ``-`` when absent."""
    if not stamp:
        return "-"
    return stamp[:19] + "Z"


def _relative_day(word: str) -> dt.date | None:
    """``today``, ``yesterday`` (and ``now``): the UTC day they name, so examples keep working."""
    today = dt.datetime.now(dt.timezone.utc).date()
    return {"now": today, "today": today, "yesterday": today - dt.timedelta(days=1)}.get(word)


def parse_user_time(text: str, *, end_of_day: bool = False) -> str:
    """A user's date or date-time as stored text.

    A bare date means the start of that day in UTC, or its last instant with ``end_of_day``
    (so ``--as-of 2024-05-01`` includes everything recorded that day). A date-time without a
    zone is taken as UTC. ``today`` and ``yesterday`` are those UTC days; ``now`` is now.
    """
    value = text.strip()
    relative = _relative_day(value.lower())
    if relative is not None:
        if value.lower() == "now":
            return to_stamp(dt.datetime.now(dt.timezone.utc))
        value = relative.isoformat()
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            moment = dt.datetime.combine(day, dt.time.max if end_of_day else dt.time.min)
        else:
            if value.endswith(("Z", "z")):
                value = value[:-1] + "+00:00"
            moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"cannot read {text!r} as a date or time; use YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] "
            "(UTC unless a zone such as +02:00 is given), today, yesterday or now",
            code="BAD_TIME",
        ) from None
    return to_stamp(moment)

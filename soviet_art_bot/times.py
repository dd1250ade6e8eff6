"""Slot times: the one place a time from outside is parsed, bounded and formatted.

A slot's time comes from the EventBridge event (``"time":
"2026-11-26T12:00:00Z"``), from ``--slot``, or from a state file. It becomes a
store key, a ledger date and a no-repeat horizon, so it is parsed strictly:

* RFC 3339 only: ``YYYY-MM-DDTHH:MM:SS``, optional fraction (dropped), and
  ``Z`` or a ``+HH:MM`` offset. No other ISO 8601 form, no missing offset
  (a time without one is ambiguous), nothing before or after it.
* A string of at most :data:`MAX_CHARS` characters; anything else is refused
  with its type or length named, and never echoed whole.
* Between :data:`EARLIEST` and :data:`MAX_AHEAD` after now. The bot did not
  exist before 2020, so an earlier slot is a mistake (and year 1 overflows
  the no-repeat arithmetic). EventBridge names the scheduled time, which is
  never after the delivery; a day of slack covers clocks that disagree and an
  operator running tomorrow's first slot early. A later slot would record a
  future date in the ledger and keep that painting from ever being chosen.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from .errors import EventError, brief

EARLIEST = datetime(2020, 1, 1, tzinfo=UTC)
MAX_AHEAD = timedelta(days=1)
MAX_CHARS = 40
EXAMPLE = "2026-11-26T12:00:00Z"
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return {dict: "an object", list: "an array"}.get(type(value), type(value).__name__)


def parse_time(
    value: Any,
    *,
    what: str = "event 'time'",
    now: datetime | None = None,
    bounded: bool = True,
) -> datetime:
    """An RFC 3339 time to an aware UTC datetime, whole seconds.

    ``what`` names the value in errors (``--slot``, ``event 'time'``). With
    ``bounded`` (the default) the time must lie between :data:`EARLIEST` and
    ``now`` (default: the clock) plus :data:`MAX_AHEAD`. Raises
    :class:`~soviet_art_bot.errors.EventError`.
    """
    usage = f"give a UTC time like {EXAMPLE}"
    if not isinstance(value, str):
        raise EventError(f"{what} must be a string, not {_kind(value)}; {usage}")
    if len(value) > MAX_CHARS:
        raise EventError(
            f"{what} is {len(value):,} characters long; a time has at most {MAX_CHARS}: {usage}"
        )
    if not value.strip():
        raise EventError(f"{what} is empty; {usage}")
    if _CONTROL.search(value):
        raise EventError(f"{what} {brief(value)} contains a control character; {usage}")
    match = _RFC3339.fullmatch(value.strip())
    if match is None:
        raise EventError(f"{what} {brief(value)} is not an RFC 3339 time; {usage}")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    try:
        offset = timedelta(0)
        if match.group(8):
            hours, minutes = int(match.group(9)), int(match.group(10))
            if hours > 23 or minutes > 59:
                raise ValueError("offset out of range")
            offset = timedelta(hours=hours, minutes=minutes)
            if match.group(8) == "-":
                offset = -offset
        when = datetime(year, month, day, hour, minute, second, tzinfo=UTC) - offset
    except (ValueError, OverflowError):
        raise EventError(f"{what} {brief(value)} is not a real date and time; {usage}") from None
    if bounded:
        check_bounds(when, what=what, now=now)
    return when


def check_bounds(when: datetime, *, what: str = "the slot", now: datetime | None = None) -> None:
    """Refuse a slot before :data:`EARLIEST` or more than :data:`MAX_AHEAD` after ``now``."""
    latest = (now or datetime.now(UTC)) + MAX_AHEAD
    if when < EARLIEST:
        raise EventError(
            f"{what} {format_time(when)} is before {EARLIEST.year}, long before this bot "
            f"existed; give the slot's real time, like {EXAMPLE}"
        )
    if when > latest:
        raise EventError(
            f"{what} {format_time(when)} is more than a day ahead of now "
            f"({format_time(latest - MAX_AHEAD)}); check the event and the clock, and give the "
            f"slot's own time, like {EXAMPLE}"
        )


def format_time(when: datetime) -> str:
    """The one stored form of a time: ``2026-11-26T12:00:00Z``."""
    w = when.astimezone(UTC)
    return f"{w.year:04d}-{w.month:02d}-{w.day:02d}T{w.hour:02d}:{w.minute:02d}:{w.second:02d}Z"


def parse_stamp(value: Any) -> datetime | None:
    """A stored time as :func:`format_time` wrote it, or None if it is not one."""
    if not isinstance(value, str) or len(value) != 20:
        return None
    try:
        return parse_time(value, bounded=False)
    except EventError:
        return None

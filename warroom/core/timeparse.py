"""Reading and showing times as people type and read them: ISO 8601, `HH:MM`, `-15m`, `+2h`.

Times are stored in UTC and shown in local time. `now` is always passed in, so tests and replays
are deterministic.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

_RELATIVE = re.compile(r"^([+-])\s*(\d+)\s*([smhd])$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


EARLIEST_YEAR = 1970
LATEST_YEAR = 8999
"""The years a typed time may lie in: converting any of them to any time zone stays in the
calendar (see `warroom.core.inputs.checked_time`, which holds commands to the same range)."""


def parse_time(text: str, now: datetime, local: tzinfo | None = None) -> datetime:
    """Read a time (see `_parse_time`); a time out of range is a ValueError like any other."""
    try:
        moment = _parse_time(text, now, local)
    except OverflowError:
        moment = None
    if moment is None or not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise ValueError(
            f"the time {text!r} is out of range: years {EARLIEST_YEAR} to {LATEST_YEAR}"
        )
    return moment


def _parse_time(text: str, now: datetime, local: tzinfo | None = None) -> datetime:
    """Read a time: ISO 8601, `HH:MM` (today, local time), `now`, or relative (`-15m`, `+2h`).

    Args:
        text: what the user typed.
        now: the current time (timezone-aware).
        local: the local time zone (the machine's by default); naive ISO times are read in it.

    Returns:
        The time in UTC.

    Raises:
        ValueError: with a sentence showing the accepted forms.
    """
    value = text.strip()

    def localize(naive: datetime) -> datetime:
        # The zone's offset on that date, not today's: a typed time across a DST change.
        return naive.replace(tzinfo=local) if local is not None else naive.astimezone()

    if value.lower() == "now":
        return now.astimezone(UTC)
    relative = _RELATIVE.match(value)
    if relative:
        sign, amount, unit = relative.groups()
        delta = timedelta(**{_UNITS[unit]: int(amount)})
        return (now + delta if sign == "+" else now - delta).astimezone(UTC)
    clock = _CLOCK.match(value)
    if clock:
        hour, minute = int(clock.group(1)), int(clock.group(2))
        if hour > 23 or minute > 59:
            raise ValueError(f"{text!r} is not a time of day")
        today = now.astimezone(local) if local is not None else now.astimezone()
        naive = today.replace(hour=hour, minute=minute, second=0, microsecond=0, tzinfo=None)
        return localize(naive).astimezone(UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"cannot read the time {text!r}: use ISO 8601 (2026-11-27T14:05), HH:MM (today), "
            "or a relative time such as -15m or +2h"
        ) from None
    if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
        raise OverflowError(text)
    if parsed.tzinfo is None:
        parsed = localize(parsed)
    return parsed.astimezone(UTC)


def in_local_zone(moment: datetime) -> datetime:
    """`moment` in the local time zone; at the calendar's edges (a year-1 or year-9999 time in
    an old log) where that would overflow, `moment` as it is, so showing a time never fails."""
    try:
        return moment.astimezone()
    except (OverflowError, ValueError, OSError):
        return moment


def local(moment: datetime) -> str:
    """A time as local `YYYY-MM-DD HH:MM`."""
    return in_local_zone(moment).strftime("%Y-%m-%d %H:%M")


def relative(moment: datetime, now: datetime) -> str:
    """How far `moment` is from `now`, as people say it: `12m ago`, `in 25m`, `2h 5m ago`."""
    try:
        seconds = int((moment - now).total_seconds())
    except OverflowError:
        seconds = -(2**62) if moment < now else 2**62
    span = abs(seconds)
    if span < 60:
        words = f"{span}s"
    elif span < 3600:
        words = f"{span // 60}m"
    elif span < 86400:
        words = f"{span // 3600}h {span % 3600 // 60}m"
    else:
        words = f"{span // 86400}d {span % 86400 // 3600}h"
    return f"in {words}" if seconds > 0 else f"{words} ago"

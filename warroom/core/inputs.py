"""Bounds on what users type: every text a command carries is trimmed, checked and bounded here
before it becomes an event."""

from __future__ import annotations

from datetime import timedelta

from warroom.core.domain import parse_audience, unique
from warroom.core.rejections import Rejected

MAX_TITLE = 200
MAX_TEXT = 16_000
MAX_NAME = 80
CLOCK_SKEW = timedelta(minutes=2)
"""How far in the future a note's time may lie before it is refused (clients' clocks drift)."""


def checked_text(value: str, what: str, limit: int) -> str:
    text = value.strip()
    if not text:
        raise Rejected("invalid", f"the {what} is empty")
    if len(text) > limit:
        raise Rejected(
            "invalid", f"the {what} is {len(text)} characters long; the limit is {limit}"
        )
    return text


def checked_name(value: str, what: str) -> str:
    return checked_text(value, what, MAX_NAME)


def checked_apps(names: tuple[str, ...]) -> tuple[str, ...]:
    return unique(checked_name(name, "application name") for name in names)


def checked_audience(value: str) -> str:
    try:
        return parse_audience(value)
    except ValueError as error:
        raise Rejected("invalid", str(error)) from None

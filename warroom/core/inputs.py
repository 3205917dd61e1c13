"""Bounds on what users type: every text a command carries is trimmed, checked and bounded here
before it becomes an event, and every time it carries is kept within the calendar.

What a terminal would act on (control characters, DEL, bidi overrides; see `warroom.core.text`)
never enters the log, field by field:

- Long texts (note, impact statement, action, workaround, question, answer, dismiss reason) keep
  their newlines and tabs, which are how command output and lists read; a carriage return
  (Windows line ends, pasted text) becomes a newline. Any other control character is refused
  with the field and its position named: the author is at the keyboard to remove it, and
  changing it silently would record something nobody wrote. (Colour codes in piped output are
  stripped before, by the CLI.)
- The title is one line wherever it is shown (lists, headers, window rows): its newlines and
  tabs fold into single spaces; other control characters are refused.
- Names (applications, owners, invited users) identify things and are compared: besides
  control characters they refuse zero-width characters, direction marks and other invisible
  formatting, with which two different names would look the same. User and group names are
  checked stricter still where they are made (letters, digits and a little punctuation).

Lists are bounded too: an incident affects at most `MAX_APPS` applications, and an audience
names at most `MAX_GROUPS` stakeholder groups. Whatever a user sends, the event it becomes and
every frame that carries it stay small.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from warroom.core.domain import parse_audience, unique
from warroom.core.rejections import Rejected
from warroom.core.text import first_hidden

MAX_TITLE = 200
MAX_TEXT = 16_000
MAX_NAME = 80
MAX_APPS = 50
"""Applications an incident (or a workaround) may name."""
MAX_GROUPS = 32
"""Stakeholder groups an audience may name."""
CLOCK_SKEW = timedelta(minutes=2)
"""How far in the future a note's time may lie before it is refused (clients' clocks drift)."""

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
"""The times a note or an ETA may carry: far inside the calendar (years 1..9999), so converting
any of them to any local time zone (at most a day away) can never overflow."""

_LINE_ENDS = re.compile(r"\r\n?")
_FOLDED = re.compile(r"\s*[\n\t]\s*")


def _refuse_hidden(text: str, what: str, allowed: str, names: bool = False) -> None:
    found = first_hidden(text, allowed, names)
    if found is not None:
        position, char = found
        kind = "an invisible character" if char.isprintable() or names else "a control character"
        raise Rejected(
            "invalid",
            f"the {what} holds {kind} (U+{ord(char):04X}) at position {position + 1}: "
            "terminals would act on it or hide it; remove it",
        )


def _bounded(text: str, what: str, limit: int) -> str:
    if not text:
        raise Rejected("invalid", f"the {what} is empty")
    if len(text) > limit:
        raise Rejected(
            "invalid", f"the {what} is {len(text)} characters long; the limit is {limit}"
        )
    return text


def checked_text(value: str, what: str, limit: int, allow_empty: bool = False) -> str:
    """A long text (see the module): trimmed, line ends made newlines, newlines and tabs kept,
    other control characters refused."""
    text = _LINE_ENDS.sub("\n", value).strip()
    _refuse_hidden(text, what, "\n\t")
    return text if allow_empty and not text else _bounded(text, what, limit)


def checked_title(value: str, limit: int) -> str:
    """A title: one line (newlines and tabs fold into spaces), no other control character."""
    text = _FOLDED.sub(" ", _LINE_ENDS.sub("\n", value)).strip()
    _refuse_hidden(text, "title", "")
    return _bounded(text, "title", limit)


def checked_name(value: str, what: str) -> str:
    """A name: one line, no control or invisible character."""
    text = value.strip()
    _refuse_hidden(text, what, "", names=True)
    return _bounded(text, what, MAX_NAME)


def checked_apps(names: tuple[str, ...], already: int = 0) -> tuple[str, ...]:
    """Application names, deduplicated; with the `already` named, at most `MAX_APPS`."""
    if len(names) + already > MAX_APPS:
        raise Rejected("invalid", f"an incident may name at most {MAX_APPS} applications")
    return unique(checked_name(name, "application name") for name in names)


def checked_audience(value: str) -> str:
    if value.count(",") >= MAX_GROUPS:
        raise Rejected("invalid", f"an audience may name at most {MAX_GROUPS} stakeholder groups")
    try:
        return parse_audience(value)
    except ValueError as error:
        raise Rejected("invalid", str(error)) from None


def checked_time(moment: datetime, what: str) -> datetime:
    """`moment` in UTC, if it lies between `EARLIEST` and `LATEST`; else refused naming `what`."""
    try:
        utc = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        raise Rejected(
            "invalid",
            f"the {what} (year {moment.year}) must lie between the years {EARLIEST.year} "
            f"and {LATEST.year - 1}",
        )
    return utc

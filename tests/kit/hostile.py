"""Hostile text: strings a terminal or a markup parser would obey, and an incident holding one of
them in every text field, as an older warroom (which accepted anything) may have logged it.

Each string is wrapped in its own name (`osc-title<...>`), so a test can find where it landed
and check what surrounds its payload.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from warroom.core import events as e
from warroom.core.domain import (
    ActionState,
    Confidence,
    MitigationState,
    Severity,
)
from warroom.core.text import visible

HOSTILE: dict[str, str] = {
    "csi-clear": "\x1b[2J\x1b[H",
    "osc-title": "\x1b]0;pwned\x07",
    "osc52-clipboard": "\x1b]52;c;cm0gLXJmIH4=\x07",
    "osc8-link": "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\",
    "c1-csi": "\x9b2J",
    "bel": "ding\x07",
    "backspace": "abc\x08\x08\x08xyz",
    "del": "x\x7fy",
    "bidi-override": "\u202eexe.txt",
    "nul": "a\x00b",
    "markup-close": "[/]",
    "markup-bold": "[bold]x",
    "markup-click": "[@click=app.screenshot('/tmp/x')]x",
    "long-line": "L" * 3000,
}
"""name -> payload: escape sequences, C0 and C1 controls, DEL, a bidi override, NUL, markup."""

CONTROL = [name for name, payload in HOSTILE.items() if visible(payload) != payload]
"""The hostile strings with a character a terminal would act on."""

MARKUP = ["markup-close", "markup-bold", "markup-click"]


TOO_EARLY = datetime(1, 1, 1, tzinfo=UTC)
TOO_LATE = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
"""A note time and an ETA at the calendar's edges: converting them to a local zone overflows."""

AUTHOR = "morgan"
T0 = datetime(2026, 11, 27, 13, 0, tzinfo=UTC)


def wrapped(name: str) -> str:
    """The hostile string `name`, wrapped in its name."""
    return f"{name}<{HOSTILE[name]}>"


def hostile_incident(number: int, text: str) -> list[e.Event]:
    """The events of INC-`number`, every text field of which holds `text`; its last question is
    left open, its timeline holds a note dated year 1 and its ETA is in year 9999."""
    inc = f"INC-{number}"

    def at(minutes: int) -> datetime:
        return T0 + timedelta(minutes=minutes)

    return [
        e.IncidentDeclared(
            incident=inc,
            actor=AUTHOR,
            at=at(0),
            title=text,
            severity=Severity.SEV1,
            apps=(text,),
            manager=AUTHOR,
        ),
        e.ImpactUpdated(
            incident=inc, actor=AUTHOR, at=at(1), statement=text, customer_facing=True, version=1
        ),
        e.AppAdded(incident=inc, actor=text, at=at(2), app=f"second {text}"),
        e.NoteAdded(incident=inc, actor=AUTHOR, at=at(3), note=1, text=text, occurred_at=at(3)),
        e.NoteAdded(
            incident=inc, actor=AUTHOR, at=at(4), note=2, text="the year 1", occurred_at=TOO_EARLY
        ),
        e.EtaSet(
            incident=inc, actor=AUTHOR, at=at(5), eta=TOO_LATE, confidence=Confidence.LOW, version=1
        ),
        e.ActionAdded(incident=inc, actor=AUTHOR, at=at(6), action=1, text=text, owner=text),
        e.ActionAdded(
            incident=inc, actor=AUTHOR, at=at(7), action=2, text=text, state=ActionState.IN_PROGRESS
        ),
        e.ActionAssigned(incident=inc, actor=AUTHOR, at=at(8), action=2, owner=text),
        e.MitigationAdded(
            incident=inc,
            actor=AUTHOR,
            at=at(9),
            mitigation=1,
            text=text,
            apps=(text,),
            state=MitigationState.PROPOSED,
        ),
        e.QuestionAsked(incident=inc, actor=AUTHOR, at=at(10), question=1, text=text),
        e.QuestionAnswered(
            incident=inc, actor=AUTHOR, at=at(11), question=1, text=text, question_text=text
        ),
        e.QuestionAsked(incident=inc, actor=AUTHOR, at=at(12), question=2, text=text),
        e.QuestionDismissed(incident=inc, actor=AUTHOR, at=at(13), question=2, reason=text),
        e.QuestionAsked(incident=inc, actor=AUTHOR, at=at(14), question=3, text=text),
    ]


def hostile_log() -> list[e.Event]:
    """One hostile incident per hostile string: INC-1 holds the first, and so on."""
    return [
        event
        for number, name in enumerate(HOSTILE, start=1)
        for event in hostile_incident(number, wrapped(name))
    ]


def incident_of(name: str) -> str:
    """The id of the incident `hostile_log` fills with `name`."""
    return f"INC-{list(HOSTILE).index(name) + 1}"


ALL_AT_ONCE = " ".join(wrapped(name) for name in HOSTILE if name != "long-line")
"""Every short hostile string in one text."""


def room_of_everything(number: int) -> list[e.Event]:
    """INC-`number`, every field of which holds `ALL_AT_ONCE`, with one note per hostile string."""
    events = hostile_incident(number, ALL_AT_ONCE)
    last = events[-1].at
    notes = [
        e.NoteAdded(
            incident=f"INC-{number}",
            actor=AUTHOR,
            at=last + timedelta(seconds=n),
            note=3 + n,
            text=wrapped(name),
            occurred_at=last + timedelta(seconds=n),
        )
        for n, name in enumerate(HOSTILE)
        if name != "long-line"
    ]
    return [*events, *notes]

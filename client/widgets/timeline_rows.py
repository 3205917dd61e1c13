"""The timeline's rows: what each event is filed under (its time, its applications, the entry
it adds) and the filters that choose among them. Pure: no widget here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import assert_never

from warroom.core import events as e
from warroom.core.timeparse import in_local_zone


class TimelineFilter(StrEnum):
    """What the timeline shows."""

    ALL = "all"
    PINNED = "pinned"
    NOTES = "notes"


@dataclass(frozen=True, order=True)
class When:
    """A cell that shows a time and sorts by it (ties broken by log order)."""

    moment: datetime
    seq: int
    today: date = field(compare=False)
    """Local today: a time of today shows as HH:MM, any other with its date."""

    def __str__(self) -> str:
        local = in_local_zone(self.moment)
        return local.strftime("%H:%M" if local.date() == self.today else "%b%d %H:%M")


def moment(event: e.Event) -> datetime:
    return event.occurred_at if isinstance(event, e.NoteAdded) else event.at


def apps_of(event: e.Event) -> tuple[str, ...]:
    """The applications an event names, for the timeline's application filter."""
    match event:
        case e.IncidentDeclared() | e.MitigationAdded():
            return event.apps
        case e.AppAdded() | e.AppRemoved():
            return (event.app,)
        case (
            e.StatusChanged()
            | e.SeverityChanged()
            | e.ImpactUpdated()
            | e.EtaSet()
            | e.NoteAdded()
            | e.NotePinned()
            | e.ActionAdded()
            | e.ActionStateChanged()
            | e.ActionAssigned()
            | e.MitigationStateChanged()
            | e.QuestionAsked()
            | e.QuestionAnswered()
            | e.QuestionDismissed()
            | e.QuestionMerged()
            | e.UpdatePublished()
            | e.AudienceChanged()
            | e.PrivacyChanged()
            | e.AccessChanged()
        ):
            return ()
        case _:
            assert_never(event)


def number(entry: str) -> int:
    digits = entry[1:]
    return int(digits) if digits.isdigit() else 0


IMPACT = ("I", 0)
"""The impact statement, as an entry the viewer holds or not."""


def entry_of(event: e.Event) -> tuple[str, int] | None:
    """The entry whose row an event adds (a note, an action, a workaround, the impact
    statement), if any."""
    if isinstance(event, e.ImpactUpdated):
        return IMPACT
    if isinstance(event, e.NoteAdded):
        return ("N", event.note)
    if isinstance(event, e.ActionAdded):
        return ("A", event.action)
    if isinstance(event, e.MitigationAdded):
        return ("M", event.mitigation)
    return None

"""The updates published to stakeholders, newest first: when, what kind, to whom, by whom, and in
the war room how their delivery stands ("2 sent · 1 retrying").

Enter asks for an update's deliveries (war room) or reads it whole (a stakeholder's room); r
reads it whole, exactly as its audience received it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message

from client.comms_render import delivery_summary, kind_text, message_text
from client.entry_text import EntryText
from client.render import clock, shown
from client.screens.entry import read_entry
from client.widgets.keyed_table import KeyedTable
from warroom.core import protocol
from warroom.core.domain import IncidentState, Update
from warroom.core.messages import body
from warroom.core.text import visible
from warroom.core.timeparse import local, relative

EMPTY = ""
"""The key of the row that says there is nothing yet."""

Deliveries = Callable[[int], Sequence[protocol.DeliveryFrame]]
"""The deliveries of an update, by its number."""


def first_line(update: Update) -> str:
    """The line a row shows: the summary's first line (or the first part that has one)."""
    text = update.summary or update.impact or update.timeline or update.progress
    return (text or update.mitigation).strip().split("\n", 1)[0]


def of_update(incident: IncidentState, update: Update, numbered: bool) -> EntryText:
    """The reading view of an update: in the war room, the subject and body exactly as sent;
    in a stakeholder's room, the body under when it came (their numbers mean nothing)."""
    if numbered:
        heading = f"U{update.id} {update.kind.value} to {update.audience} · {update.author}"
        return EntryText(
            visible(heading, multiline=False), message_text(incident, update, update.id)
        )
    heading = f"{update.kind.value} from the incident team · {local(update.published_at)}"
    return EntryText(heading, visible(body(update)))


class UpdatesPanel(KeyedTable):
    """The updates of an incident; with `deliveries`, a column that sums up their delivery."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open"),
        Binding("r", "read", "Read"),
    ]
    """Enter opens the update's deliveries (or, without them, reads it); r reads it whole."""

    @dataclass
    class DeliveriesRequested(Message):
        """Show how the delivery of the update stands, recipient by recipient."""

        update: int

    def __init__(
        self, *, deliveries: bool = False, numbered: bool = True, id: str | None = None
    ) -> None:
        columns: list[tuple[str, int | None]] = [("id", 3), ("sent", 15), ("kind", 6)]
        if deliveries:
            columns += [("to", 12), ("by", 8), ("delivery", 22)]
        columns.append(("summary", None))
        super().__init__(columns, numbered=numbered, id=id)
        self.deliveries = deliveries
        self._incident: IncidentState | None = None

    def _selected(self) -> Update | None:
        key, incident = self.selected_key, self._incident
        if key is None or key == EMPTY or incident is None:
            self.notify("No update to open yet.", severity="warning")
            return None
        return next((u for u in incident.updates if f"U{u.id}" == key), None)

    def action_open(self) -> None:
        """The deliveries of the update under the cursor, or (without them) the update whole."""
        update = self._selected()
        if update is None:
            return
        if self.deliveries:
            self.post_message(self.DeliveriesRequested(update.id))
        else:
            self.action_read()

    def action_read(self) -> None:
        """Read the update under the cursor whole, as its audience received it."""
        update, incident = self._selected(), self._incident
        if update is not None and incident is not None:
            read_entry(self, of_update(incident, update, self.numbered))

    def show_updates(
        self, incident: IncidentState, now: datetime, deliveries: Deliveries | None = None
    ) -> None:
        """Render `incident`'s updates at `now`, newest first (`deliveries`: each one's)."""
        self._incident = incident
        rows: list[tuple[str, tuple[Text, ...]]] = []
        for update in reversed(incident.updates):
            when = update.published_at
            cells: list[Text] = [
                Text(f"{clock(when)} {relative(when, now)}"),
                kind_text(update.kind),
            ]
            if self.deliveries:
                cells += [
                    shown(update.audience, multiline=False),
                    shown(update.author, "italic", multiline=False),
                    delivery_summary(deliveries(update.id) if deliveries else ()),
                ]
            cells.append(shown(first_line(update)))
            rows.append((f"U{update.id}", tuple(cells)))
        if not rows:
            blank = [Text("") for _ in range(5 if self.deliveries else 2)]
            rows.append((EMPTY, (*blank, Text(self.empty_text(), style="dim italic"))))
        self.show(rows)

    def empty_text(self) -> str:
        """What the panel says before the first update."""
        if self.deliveries:
            return "No update sent yet. U in the war room composes one."
        return "No update yet: the incident team's updates to you appear here."

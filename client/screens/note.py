"""Add a note to the timeline: text, when it happened (backdate), pinned or not, audience."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from textual.app import ComposeResult
from textual.widgets import Checkbox, Input, Label, TextArea

from client.screens.form import FormError, FormScreen, audience_of, required
from client.widgets.audience_picker import AudiencePicker
from warroom.core.commands import AddNote
from warroom.core.timeparse import parse_time


class NoteScreen(FormScreen[AddNote]):
    """The note form for one incident."""

    TITLE = "Add a note"

    def __init__(
        self, incident: str, now: datetime | None = None, groups: Sequence[str] = ()
    ) -> None:
        super().__init__(now)
        self.incident = incident
        self.groups = groups

    def fields(self) -> ComposeResult:
        yield Label(f"Note on {self.incident}")
        yield TextArea(id="text")
        yield Label("When it happened (blank: now; -15m, 14:05 or ISO 8601 to backdate)")
        yield Input(placeholder="now", id="when")
        yield Checkbox("Pin as a key moment", id="pin")
        yield Label("Who sees it (Space ticks; groups combine)")
        yield AudiencePicker(self.groups, id="audience")

    def result(self) -> AddNote:
        when = self.query_one("#when", Input).value.strip()
        try:
            occurred = parse_time(when, self.now) if when else None
        except ValueError as error:
            raise FormError(str(error)) from None
        return AddNote(
            incident=self.incident,
            text=required(self.query_one("#text", TextArea).text, "note"),
            occurred_at=occurred,
            pinned=self.query_one("#pin", Checkbox).value,
            audience=audience_of(self.query_one("#audience", AudiencePicker)),
        )

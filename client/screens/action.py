"""Add an action: what to do and who owns it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from textual.app import ComposeResult
from textual.widgets import Input, Label

from client.screens.form import FormScreen, audience_of, required
from client.widgets.audience_picker import AudiencePicker
from warroom.core.commands import AddAction


class ActionScreen(FormScreen[AddAction]):
    """The action form."""

    TITLE = "Add an action"

    def __init__(
        self, incident: str, now: datetime | None = None, groups: Sequence[str] = ()
    ) -> None:
        super().__init__(now)
        self.incident = incident
        self.groups = groups

    def fields(self) -> ComposeResult:
        yield Label("What is to be done (or was done)")
        yield Input(id="text")
        yield Label("Owner (blank: nobody yet)")
        yield Input(id="owner")
        yield Label("Who sees it (Space ticks; groups combine)")
        yield AudiencePicker(self.groups, id="audience")

    def result(self) -> AddAction:
        owner = self.query_one("#owner", Input).value.strip()
        return AddAction(
            incident=self.incident,
            text=required(self.query_one("#text", Input).value, "action"),
            owner=owner or None,
            audience=audience_of(self.query_one("#audience", AudiencePicker)),
        )

"""Add a workaround and the applications it helps."""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.widgets import Input, Label

from client.screens.form import FormScreen, audience_of, names, required
from warroom.core.commands import AddMitigation


class MitigationScreen(FormScreen[AddMitigation]):
    """The workaround form."""

    TITLE = "Add a workaround"

    def __init__(self, incident: str, apps: tuple[str, ...], now: datetime | None = None) -> None:
        super().__init__(now)
        self.incident = incident
        self.apps = apps

    def fields(self) -> ComposeResult:
        yield Label("The workaround or temporary fix")
        yield Input(id="text")
        yield Label(
            f"Applications it helps (comma-separated; affected: {', '.join(self.apps) or 'none'})"
        )
        yield Input(id="apps")
        yield Label("Audience: internal, all, or stakeholder groups")
        yield Input(value="internal", id="audience")

    def result(self) -> AddMitigation:
        return AddMitigation(
            incident=self.incident,
            text=required(self.query_one("#text", Input).value, "workaround"),
            apps=names(self.query_one("#apps", Input).value),
            audience=audience_of(self.query_one("#audience", Input).value),
        )

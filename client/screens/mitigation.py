"""Add a workaround and the applications it helps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from textual.app import ComposeResult
from textual.widgets import Input, Label

from client.screens.form import FormScreen, audience_of, names, required
from client.widgets.audience_picker import AudiencePicker
from warroom.core.commands import AddMitigation


class MitigationScreen(FormScreen[AddMitigation]):
    """The workaround form."""

    TITLE = "Add a workaround"

    def __init__(
        self,
        incident: str,
        apps: tuple[str, ...],
        now: datetime | None = None,
        groups: Sequence[str] = (),
    ) -> None:
        super().__init__(now)
        self.incident = incident
        self.apps = apps
        self.groups = groups

    def fields(self) -> ComposeResult:
        yield Label("The workaround or temporary fix")
        yield Input(id="text")
        yield Label(
            f"Applications it helps (comma-separated; affected: {', '.join(self.apps) or 'none'})"
        )
        yield Input(id="apps")
        yield Label("Who sees it (Space ticks; groups combine)")
        yield AudiencePicker(self.groups, id="audience")

    def result(self) -> AddMitigation:
        return AddMitigation(
            incident=self.incident,
            text=required(self.query_one("#text", Input).value, "workaround"),
            apps=names(self.query_one("#apps", Input).value),
            audience=audience_of(self.query_one("#audience", AudiencePicker)),
        )

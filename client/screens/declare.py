"""Declare a new incident: title, severity and affected applications."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Checkbox, Input, Label, Select

from client.screens.form import FormScreen, names, required
from warroom.core.commands import DeclareIncident
from warroom.core.domain import Severity


class DeclareScreen(FormScreen[DeclareIncident]):
    """The declare form."""

    TITLE = "Declare an incident"

    def fields(self) -> ComposeResult:
        yield Label("Title")
        yield Input(placeholder="What is broken, for whom", id="title")
        yield Label("Severity (SEV1 is worst)")
        yield Select(
            [(f"{s.value}", s) for s in Severity],
            value=Severity.SEV2,
            allow_blank=False,
            id="severity",
        )
        yield Label("Affected applications (comma-separated)")
        yield Input(placeholder="checkout, payments", id="apps")
        yield Checkbox("Private: only incident managers, you and whom you invite", id="private")

    def result(self) -> DeclareIncident:
        severity = self.query_one("#severity", Select).value
        assert isinstance(severity, Severity)
        return DeclareIncident(
            title=required(self.query_one("#title", Input).value, "title"),
            severity=severity,
            apps=names(self.query_one("#apps", Input).value),
            private=self.query_one("#private", Checkbox).value,
        )

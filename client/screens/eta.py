"""Set the ETA and how sure the room is of it, based on the ETA version shown."""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.widgets import Input, Label, Select

from client.screens.form import FormError, FormScreen
from warroom.core.commands import SetEta
from warroom.core.domain import Confidence, IncidentState
from warroom.core.timeparse import in_local_zone, parse_time


class EtaScreen(FormScreen[SetEta]):
    """The ETA form."""

    TITLE = "Set the ETA"

    def __init__(self, incident: IncidentState, now: datetime | None = None) -> None:
        super().__init__(now)
        self.incident = incident

    def fields(self) -> ComposeResult:
        current = self.incident.eta
        shown = ""
        if current is not None and current.eta is not None:
            eta = in_local_zone(current.eta)
            # Today's ETA reads as HH:MM; any other day keeps its date, so saving keeps it.
            today = eta.date() == self.now.astimezone().date()
            shown = eta.strftime("%H:%M" if today else "%Y-%m-%d %H:%M")
        yield Label(
            f"Expected resolution (+45m, 15:30, ISO 8601; 'none' withdraws it), "
            f"editing v{self.incident.eta_version}"
        )
        yield Input(value=shown, placeholder="+1h", id="eta")
        yield Label("Confidence")
        yield Select(
            [(c.value, c) for c in Confidence],
            value=current.confidence if current else Confidence.MEDIUM,
            allow_blank=False,
            id="confidence",
        )

    def result(self) -> SetEta:
        text = self.query_one("#eta", Input).value.strip()
        if not text:
            raise FormError("the ETA is empty (type 'none' to withdraw it)")
        try:
            eta = None if text.lower() in ("none", "unknown") else parse_time(text, self.now)
        except ValueError as error:
            raise FormError(str(error)) from None
        confidence = self.query_one("#confidence", Select).value
        assert isinstance(confidence, Confidence)
        return SetEta(
            incident=self.incident.id,
            eta=eta,
            confidence=confidence,
            base_version=self.incident.eta_version,
        )

"""Edit the impact statement, based on the version shown when the form opened."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from textual.app import ComposeResult
from textual.widgets import Checkbox, Label, TextArea

from client.screens.form import FormScreen, audience_of, required
from client.widgets.audience_picker import AudiencePicker
from warroom.core.commands import SetImpact
from warroom.core.domain import Impact


class ImpactScreen(FormScreen[SetImpact]):
    """The impact form; `text` pre-fills the statement (the current one, or a merge)."""

    TITLE = "Edit the impact statement"

    def __init__(
        self,
        incident: str,
        impact: Impact,
        text: str | None = None,
        now: datetime | None = None,
        groups: Sequence[str] = (),
    ) -> None:
        super().__init__(now)
        self.incident = incident
        self.groups = groups
        self.impact = impact
        self.text = impact.statement if text is None else text

    def fields(self) -> ComposeResult:
        yield Label(
            f"Which systems, users and business functions are hit? (editing v{self.impact.version})"
        )
        yield TextArea(self.text, id="statement")
        yield Checkbox("Customer-facing", value=self.impact.customer_facing, id="customer")
        yield Label("Who sees it (Space ticks; groups combine)")
        yield AudiencePicker(self.groups, self.impact.audience, id="audience")

    def result(self) -> SetImpact:
        return SetImpact(
            incident=self.incident,
            statement=required(self.query_one("#statement", TextArea).text, "impact statement"),
            customer_facing=self.query_one("#customer", Checkbox).value,
            base_version=self.impact.version,
            audience=audience_of(self.query_one("#audience", AudiencePicker)),
        )

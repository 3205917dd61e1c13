"""The Impact panel: the statement, whether customers see it, the affected applications."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.console import Group
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Static

from client.render import names, shown
from client.widgets.requests import offered
from warroom.core.domain import IncidentState


def render_impact(incident: IncidentState, numbered: bool = True) -> Group:
    """The panel's content for one incident (`numbered`: the war room's, with the statement's
    version and the keys that edit; else a stakeholder's, or the preview of one)."""
    impact = incident.impact
    if not numbered and not impact.statement:
        # A stakeholder has no key to press, and nothing to know of an unshared statement.
        apps = Text.assemble(("Applications: ", "bold"), names(incident.apps) or "none")
        return Group(Text("No impact statement shared yet.", "dim"), Text(""), apps)
    facing = (
        Text(" CUSTOMER-FACING ", style="bold white on red")
        if impact.customer_facing
        else Text("internal impact only", style="dim")
    )
    meta = Text.assemble(
        facing,
        (f"  v{impact.version}" if numbered else "", "dim"),
        (f"  to {impact.audience}", "dim"),
        (f"  by {names([impact.updated_by], '')}" if impact.updated_by else "", "dim"),
    )
    statement = (
        shown(impact.statement)
        if impact.statement
        else Text("No impact statement yet: press i to describe who and what is hit.", "dim")
    )
    apps = Text.assemble(
        ("Applications: ", "bold"),
        names(incident.apps) if incident.apps else ("none yet: press p to add one", "dim"),
    )
    return Group(meta, statement, Text(""), apps)


class ImpactPanel(Static, can_focus=True):
    """Shows the impact of the incident it is given."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("u", "audience", "Audience"),
    ]
    """u shows the impact statement to another audience."""

    @dataclass
    class AudienceRequested(Message):
        """Show the impact statement to another audience."""

    REQUESTS: ClassVar[dict[str, type[Message]]] = {
        "audience": AudienceRequested,
    }
    """Which request each of the panel's actions posts."""

    def __init__(self, *, numbered: bool = True, id: str | None = None) -> None:
        super().__init__(id=id)
        self.numbered = numbered

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return offered(self, self.REQUESTS.get(action))

    def action_audience(self) -> None:
        """Ask to show the impact statement to another audience."""
        self.post_message(self.AudienceRequested())

    def show(self, incident: IncidentState) -> None:
        """Render `incident`'s impact."""
        self.update(render_impact(incident, self.numbered))

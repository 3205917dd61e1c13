"""The Impact panel: the statement, whether customers see it, the affected applications."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from client.entry_text import of_impact
from client.render import names, shown
from client.screens.entry import read_entry
from client.widgets.requests import offered
from warroom.core.domain import IncidentState


def render_impact(incident: IncidentState, numbered: bool = True, hints: bool = True) -> Group:
    """The panel's content for one incident.

    Args:
        incident: the incident.
        numbered: the war room's view: the statement's version and audience, and whether the
            impact is internal only (a stakeholder's view says none of it).
        hints: say which key adds what is missing (for a user who may add it).
    """
    impact = incident.impact
    if not numbered and not impact.statement:
        # A stakeholder has no key to press, and nothing to know of an unshared statement.
        apps = Text.assemble(("Applications: ", "bold"), names(incident.apps) or "none")
        return Group(Text("No impact statement shared yet.", "dim"), Text(""), apps)
    facing = (
        Text(" CUSTOMER-FACING ", style="bold white on red")
        if impact.customer_facing
        else Text("internal impact only" if numbered else "", style="dim")
    )
    meta = Text.assemble(
        facing,
        (f"  v{impact.version}" if numbered else "", "dim"),
        (f"  to {impact.audience}" if numbered else "", "dim"),
        (f"  by {names([impact.updated_by], '')}" if impact.updated_by else "", "dim"),
    )
    statement = (
        shown(impact.statement)
        if impact.statement
        else Text(
            "No impact statement yet"
            + (": press i to describe who and what is hit." if hints else "."),
            "dim",
        )
    )
    apps = Text.assemble(
        ("Applications: ", "bold"),
        names(incident.apps)
        if incident.apps
        else ("none yet: press p to add one" if hints else "none named yet", "dim"),
    )
    return Group(meta, statement, Text(""), apps)


class ImpactPanel(VerticalScroll, can_focus=True):
    """Shows the impact of the incident it is given; a long statement scrolls."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r,enter", "read", "Read"),
        Binding("u", "audience", "Audience"),
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
    ]
    """r (or Enter) reads the statement whole; u shows it to another audience; the arrows (and j,
    k) scroll a statement longer than the panel."""

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
        self._incident: IncidentState | None = None
        self._shown: list[RenderableType] | None = None
        """The lines the panel shows now."""

    def compose(self) -> ComposeResult:
        yield Static(id="impact-body")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return offered(self, self.REQUESTS.get(action))

    def action_read(self) -> None:
        """Read the impact statement whole."""
        incident = self._incident
        read_entry(self, of_impact(incident, self.numbered) if incident else None)

    def action_audience(self) -> None:
        """Ask to show the impact statement to another audience."""
        self.post_message(self.AudienceRequested())

    def show(self, incident: IncidentState, hints: bool = True) -> None:
        """Render `incident`'s impact (`hints`: name the keys that add what is missing, in the
        war room's view only)."""
        self._incident = incident
        shown = render_impact(incident, self.numbered, hints and self.numbered)
        if shown.renderables != self._shown:  # the same lines: no layout of the screen for them
            self._shown = shown.renderables
            self.query_one("#impact-body", Static).update(shown)

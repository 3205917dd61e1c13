"""Who sees what, asked in small dialogs: the audience of an entry, the audience to preview the
room as, and who may see a private incident.

Each function opens its chooser over the current screen and sends the command the user picks;
the war room's keys and its panels' requests call them.
"""

from __future__ import annotations

from client.app_protocol import ClientApp
from client.screens.audience import AudienceScreen
from client.screens.choice import ChoiceScreen
from client.screens.confirm import ConfirmScreen, confirmed
from client.screens.editing import Built, open_prompt
from client.screens.preview import PreviewScreen
from client.screens.prompt import PromptScreen
from client.widgets.audience_picker import audience_choices
from client.widgets.impact_panel import ImpactPanel
from client.widgets.mitigation_panel import MitigationPanel
from client.widgets.progress_panel import ProgressPanel
from client.widgets.timeline_panel import TimelinePanel
from warroom.core import commands as c
from warroom.core.domain import IncidentState, find_entry

AudienceRequest = (
    ImpactPanel.AudienceRequested
    | TimelinePanel.AudienceRequested
    | ProgressPanel.AudienceRequested
    | MitigationPanel.AudienceRequested
)
"""A panel asks to show the entry under its cursor to another audience."""


def entry_of(incident: IncidentState, request: AudienceRequest) -> tuple[str, str] | None:
    """The entry `request` is about (impact, N3, A2, M1) and the audience it is shown to now."""
    if isinstance(request, ImpactPanel.AudienceRequested):
        return "impact", incident.impact.audience
    if isinstance(request, TimelinePanel.AudienceRequested):
        note = find_entry(incident.notes, request.note)
        return (f"N{note.id}", note.audience) if note else None
    if isinstance(request, ProgressPanel.AudienceRequested):
        action = find_entry(incident.actions, request.action)
        return (f"A{action.id}", action.audience) if action else None
    mitigation = find_entry(incident.mitigations, request.mitigation)
    return (f"M{mitigation.id}", mitigation.audience) if mitigation else None


def choose_audience(app: ClientApp, incident: str, entry: str, current: str) -> None:
    """Show `entry` (the impact statement, N3, A2, M1) to another audience: one of those there
    are (the groups some stakeholder holds), or several groups at once."""
    several = "several groups…"
    groups = app.known_groups
    choices = audience_choices(groups)
    if len(groups) > 1:
        choices.append((several, several))

    def send(audience: str | None) -> None:
        if audience and audience != current:
            command = c.ChangeAudience(incident=incident, entry=entry, audience=audience)
            app.submit(command, f"{entry} to {audience}")

    def chosen(audience: str | None) -> None:
        if audience == several:
            app.push_screen(AudienceScreen(f"Show {entry} to", groups, current), send)
        else:
            send(audience)

    app.push_screen(ChoiceScreen(f"Show {entry} to", choices, current), chosen)


def choose_preview(app: ClientApp, incident: str) -> None:
    """See the room as one stakeholder group, or all stakeholders, sees it now."""
    choices = [("all stakeholders", "all"), *((f"group {g}", g) for g in app.known_groups)]

    def chosen(audience: str | None) -> None:
        if audience is not None:
            app.push_screen(PreviewScreen(incident, audience))

    app.push_screen(ChoiceScreen("Preview as", choices), chosen)


def choose_access(app: ClientApp, incident_id: str) -> None:
    """Who may see the incident: make it private or public, invite someone, or take an
    invitation back."""
    incident = app.state.world.incident(incident_id)
    if incident is None:
        return
    choices: list[tuple[str, str]] = [
        ("make it public" if incident.private else "make it private", "privacy"),
        ("invite someone", "invite"),
        *((f"take back {name}'s invitation", f"remove:{name}") for name in incident.invited),
    ]

    def chosen(choice: str | None) -> None:
        incident = app.state.world.incident(incident_id)
        if choice is None or incident is None:
            return
        if choice == "privacy":
            private = not incident.private
            command = c.ChangePrivacy(incident=incident.id, private=private)
            label = "private" if private else "public"
            detail = (
                "Only incident managers and those invited will see it; everyone else loses it."
                if private
                else "Everyone who may see incidents will see it, with its whole history."
            )
            confirm = ConfirmScreen(f"Make {incident.id} {label}?", detail, yes=f"Make it {label}")
            app.push_screen(confirm, confirmed(lambda: app.submit(command, label)))
        elif choice.startswith("remove:"):
            name = choice.removeprefix("remove:")
            app.submit(c.ChangeAccess(incident=incident.id, user=name, invited=False), "access")
        else:

            def invited(name: str) -> Built:
                command = c.ChangeAccess(incident=incident_id, user=name)
                return (command, f"invite {name}") if name else None

            open_prompt(app, lambda: PromptScreen(f"Invite to {incident_id}", "User name"), invited)

    app.push_screen(ChoiceScreen("Who may see it", choices), chosen)

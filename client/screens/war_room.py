"""The war room of one incident: header, Impact, Timeline, Progress, Mitigation and Questions.

Every edit the CLI can make has a key here. Keys the user's role may not use are greyed out (and
hidden for observers); the server refuses them anyway. Nothing changes on screen until the
server's event arrives.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding, BindingType
from textual.message import Message
from textual.widgets import Footer, Static

from client.comms_render import countdown
from client.screens import disclosure
from client.screens.choice import ChoiceScreen
from client.screens.confirm import ConfirmScreen, confirmed
from client.screens.editing import Built, open_form, open_prompt
from client.screens.key_order import by_role
from client.screens.panel_requests import PanelRequestsScreen
from client.screens.replay import ReplayScreen
from client.screens.report import ReportScreen
from client.state import ClientState
from client.widgets.impact_panel import ImpactPanel
from client.widgets.incident_header import IncidentHeader
from client.widgets.link_bar import LinkBar, ObserverBanner
from client.widgets.mitigation_panel import MitigationPanel
from client.widgets.progress_panel import ProgressPanel
from client.widgets.questions_panel import QuestionsPanel
from client.widgets.room_panels import room_panels
from client.widgets.timeline_panel import TimelinePanel
from warroom.core import commands as c
from warroom.core.domain import IncidentState, Severity, Status

ACTION_COMMANDS: dict[str, type[c.Command]] = {
    "note": c.AddNote,
    "impact": c.SetImpact,
    "eta": c.SetEta,
    "status": c.ChangeStatus,
    "severity": c.ChangeSeverity,
    "add_action": c.AddAction,
    "workaround": c.AddMitigation,
    "apps": c.AddApp,
    "ask": c.AskQuestion,
    "access": c.ChangeAccess,
    "compose": c.PublishUpdate,
}
"""Which command each of the room's keys sends: the policy decides whether the key is usable."""

REQUEST_COMMANDS: dict[type[Message], type[c.Command]] = {
    ImpactPanel.AudienceRequested: c.ChangeAudience,
    TimelinePanel.PinRequested: c.PinNote,
    TimelinePanel.AudienceRequested: c.ChangeAudience,
    ProgressPanel.AdvanceRequested: c.ChangeActionState,
    ProgressPanel.OwnerRequested: c.AssignAction,
    ProgressPanel.DropRequested: c.ChangeActionState,
    ProgressPanel.AudienceRequested: c.ChangeAudience,
    MitigationPanel.VerifyRequested: c.ChangeMitigationState,
    MitigationPanel.WithdrawRequested: c.ChangeMitigationState,
    MitigationPanel.AudienceRequested: c.ChangeAudience,
    QuestionsPanel.AnswerRequested: c.AnswerQuestion,
    QuestionsPanel.DismissRequested: c.DismissQuestion,
    QuestionsPanel.MergeRequested: c.MergeQuestion,
    QuestionsPanel.PromoteRequested: c.PublishUpdate,
}
"""Which command each of the panels' edit requests sends, likewise."""

ALERTING = (Severity.SEV1, Severity.SEV2)
"""The severities whose declaration or raise is worth an alert to stakeholders."""


class WarRoomScreen(PanelRequestsScreen):
    """One incident's war room."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "leave", "Lobby"),
        Binding("question_mark", "app.show_help_panel", "Keys"),
        Binding("n", "note", "Note"),
        Binding("i", "impact", "Impact"),
        Binding("e", "eta", "ETA"),
        Binding("s", "status", "Status"),
        Binding("v", "severity", "Severity"),
        Binding("a", "add_action", "Action"),
        Binding("w", "workaround", "Workaround"),
        Binding("p", "apps", "Apps"),
        Binding("1", "focus_panel('impact')", "Impact", show=False),
        Binding("2", "focus_panel('timeline')", "Timeline", show=False),
        Binding("3", "focus_panel('progress')", "Progress", show=False),
        Binding("4", "focus_panel('mitigation')", "Mitigation", show=False),
        Binding("5", "focus_panel('questions')", "Questions", show=False),
        Binding("Q", "ask", "Ask"),
        Binding("P", "preview", "Preview as"),
        Binding("I", "access", "Access"),
        Binding("U", "compose", "Update"),
        Binding("D", "updates", "Updates sent"),
        Binding("R", "report", "Post-mortem"),
        Binding("H", "replay", "Replay"),
    ]
    """Edits (n i e s v a w p), panels 1-5 (Tab cycles), ? lists every key, q back to the lobby;
    U composes an update to stakeholders, D lists those sent and how their delivery stands."""

    SHOWS_PRESENCE = True

    def __init__(self, incident: str, offer_alert: bool = False) -> None:
        super().__init__(incident)
        self._keys_depend_on: tuple[object, bool] | None = None
        self._offer_alert = offer_alert
        """The user just declared the incident: once it is read, offer the alert (an incident
        manager only)."""

    def compose(self) -> ComposeResult:
        yield LinkBar(id="link")
        yield ObserverBanner(id="observer")
        yield IncidentHeader(id="header")
        yield room_panels(numbered=True, detail=True)
        yield Static("", id="gone")
        yield Footer()

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """The keys in the order the footer shows them: what the role needs most first."""
        own = {key for key, _ in self._bindings}
        return by_role(super().active_bindings, self.warroom.state.role, own)

    def show_state(self, state: ClientState) -> None:
        """Re-render the room, and the keys when what they depend on changed."""
        super().show_state(state)
        self.query_one("#observer", ObserverBanner).show(state)
        # Refreshing bindings rebuilds the footer: do it only when what the keys depend on moved.
        keys_depend_on = (state.role, self.incident is None)
        if keys_depend_on != self._keys_depend_on:
            self._keys_depend_on = keys_depend_on
            self.refresh_bindings()
        if self._offer_alert and self.incident is not None and state.role is not None:
            self._offer_alert = False
            if self.warroom.allowed(c.PublishUpdate) is True:
                from client.screens.composer import offer_alert

                offer_alert(self.warroom, self.incident_id)

    def due(self, incident: IncidentState, state: ClientState, now: datetime) -> Text:
        """The countdown to the next update owed to stakeholders, or how overdue it is."""
        return countdown(incident, state.cadence, now)

    # Keys the role may not use ---------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "preview":
            # Previewing an audience is the incident manager's, who decides what it is shown.
            return self.warroom.allowed(c.ChangeAudience)
        command = ACTION_COMMANDS.get(action)
        return True if command is None else self._may_send(command)

    def offers(self, request: type[Message]) -> bool | None:
        """Whether a panel's key that posts `request` is usable (see `client.widgets.requests`)."""
        if request is TimelinePanel.FilterRequested:
            return True  # only changes what this screen shows
        command = REQUEST_COMMANDS.get(request)
        return False if command is None else self._may_send(command)

    def _may_send(self, command: type) -> bool | None:
        if self.incident is None:
            return None
        return self.warroom.allowed(command)

    # Edits ----------------------------------------------------------------------------------------

    def action_note(self) -> None:
        """Add a note (pin and backdate in the form)."""
        from client.screens.note import NoteScreen

        app, incident = self.warroom, self.incident_id
        open_form(app, lambda: NoteScreen(incident, app.now(), app.known_groups), "note")

    def action_impact(self) -> None:
        """Edit the impact statement."""
        from client.screens.impact import ImpactScreen

        incident, app = self.incident, self.warroom
        if incident is not None:
            impact, groups = incident.impact, app.known_groups
            open_form(
                app,
                lambda: ImpactScreen(incident.id, impact, now=app.now(), groups=groups),
                "impact",
            )

    def action_eta(self) -> None:
        """Set the ETA."""
        from client.screens.eta import EtaScreen

        incident, app = self.incident, self.warroom
        if incident is not None:
            open_form(app, lambda: EtaScreen(incident, app.now()), "ETA")

    def action_status(self) -> None:
        """Change the status (choose resolved to close, anything else to reopen)."""
        incident = self.incident
        if incident is None:
            return

        def send(status: Status) -> None:
            self._send(c.ChangeStatus(incident=incident.id, status=status), f"status {status}")

        def chosen(status: Status | None) -> None:
            if status is Status.RESOLVED:
                question = f"Resolve {incident.id}?"
                detail = "It closes the incident for everyone following it; s reopens it."
                confirm = ConfirmScreen(question, detail, yes="Resolve")
                self.app.push_screen(confirm, confirmed(lambda: send(Status.RESOLVED)))
            elif status is not None:
                send(status)

        order = list(Status)
        # The likely next step: on to the next status, or from resolved, reopen.
        following = order[(order.index(incident.status) + 1) % len(order)]
        choices = [(s.value, s) for s in order]
        picker = ChoiceScreen("Status", choices, incident.status, start=following)
        self.app.push_screen(picker, chosen)

    def action_severity(self) -> None:
        """Change the severity."""
        incident = self.incident
        if incident is None:
            return

        def send(severity: Severity) -> None:
            from client.screens.composer import offer_alert

            command = c.ChangeSeverity(incident=incident.id, severity=severity)
            order, app = list(Severity), self.warroom
            raised = order.index(severity) < order.index(incident.severity)
            alerts = raised and severity in ALERTING and app.allowed(c.PublishUpdate) is True
            # Raised into SEV1/SEV2: once the hub accepts it, stakeholders may need to hear.
            accepted = (lambda: offer_alert(app, incident.id)) if alerts else None
            app.submit(command, f"severity {severity}", accepted=accepted)

        def chosen(severity: Severity | None) -> None:
            if severity is not None:
                question = f"Change {incident.id} from {incident.severity} to {severity}?"
                detail = "The severity sets who is alerted and how often updates go out."
                confirm = ConfirmScreen(question, detail, yes=f"Make it {severity}")
                self.app.push_screen(confirm, confirmed(lambda: send(severity)))

        choices = [(s.value, s) for s in Severity]
        self.app.push_screen(ChoiceScreen("Severity", choices, incident.severity), chosen)

    def action_add_action(self) -> None:
        """Add an action."""
        from client.screens.action import ActionScreen

        app, incident = self.warroom, self.incident_id
        open_form(app, lambda: ActionScreen(incident, app.now(), app.known_groups), "action")

    def action_workaround(self) -> None:
        """Add a workaround."""
        from client.screens.mitigation import MitigationScreen

        incident, app = self.incident, self.warroom
        if incident is not None:
            apps, groups = incident.apps, app.known_groups
            open_form(
                app, lambda: MitigationScreen(incident.id, apps, app.now(), groups), "workaround"
            )

    def action_apps(self) -> None:
        """Add an affected application, or remove one."""
        from client.screens.prompt import PromptScreen

        incident = self.incident
        if incident is None:
            return
        add = "+ add an application…"
        choices = [(add, add), *((f"- remove {app}", app) for app in incident.apps)]

        def asked() -> PromptScreen:
            return PromptScreen("Add an application", "Application name")

        def added(app: str) -> Built:
            return (c.AddApp(incident=incident.id, app=app), f"add {app}") if app else None

        def chosen(choice: str | None) -> None:
            if choice == add:
                open_prompt(self.warroom, asked, added)
            elif choice is not None:
                self._send(c.RemoveApp(incident=incident.id, app=choice), f"remove {choice}")

        self.app.push_screen(ChoiceScreen("Affected applications", choices), chosen)

    def action_ask(self) -> None:
        """Ask the incident manager a question (stakeholders)."""
        from client.screens.prompt import PromptScreen

        def asked(text: str | None) -> None:
            if text:
                self._send(c.AskQuestion(incident=self.incident_id, text=text), "question")

        self.app.push_screen(PromptScreen("Ask the incident manager", "Your question"), asked)

    # Who sees what ---------------------------------------------------------------------------

    @on(ImpactPanel.AudienceRequested)
    @on(TimelinePanel.AudienceRequested)
    @on(ProgressPanel.AudienceRequested)
    @on(MitigationPanel.AudienceRequested)
    def move_audience(self, request: disclosure.AudienceRequest) -> None:
        """Show the entry a panel asks about to another audience."""
        incident = self.incident
        entry = disclosure.entry_of(incident, request) if incident is not None else None
        if entry is not None:
            disclosure.choose_audience(self.warroom, self.incident_id, *entry)

    # Stakeholder communication ---------------------------------------------------------------

    def action_compose(self) -> None:
        """Compose an update to stakeholders (all of them, unless another audience is ticked)."""
        from client.screens.composer import open_composer

        open_composer(self.warroom, self.incident_id)

    def action_updates(self) -> None:
        """List the updates sent, with how their delivery stands."""
        from client.screens.updates import UpdatesScreen

        self.app.push_screen(UpdatesScreen(self.incident_id))

    def action_preview(self) -> None:
        """See the room as one stakeholder group, or all stakeholders, sees it now."""
        disclosure.choose_preview(self.warroom, self.incident_id)

    def action_report(self) -> None:
        """Read the incident's post-mortem, written from the log as `warroom report` writes it."""
        self.app.push_screen(ReportScreen(self.incident_id))

    def action_replay(self) -> None:
        """Replay the room: step through its log and see every panel as it stood (read only)."""
        self.app.push_screen(ReplayScreen(self.incident_id))

    def action_access(self) -> None:
        """Who may see the incident: make it private or public, invite someone, or take an
        invitation back (incident manager)."""
        disclosure.choose_access(self.warroom, self.incident_id)

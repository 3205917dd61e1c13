"""The war room of one incident: header, Impact, Timeline, Progress, Mitigation and Questions.

Every edit the CLI can make has a key here. Keys the user's role may not use are greyed out (and
hidden for observers); the server refuses them anyway. Nothing changes on screen until the
server's event arrives.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Static

from client.screens.base import RoomScreen
from client.screens.choice import ChoiceScreen
from client.state import ClientState
from client.widgets.impact_panel import ImpactPanel
from client.widgets.incident_header import IncidentHeader
from client.widgets.link_bar import LinkBar, ObserverBanner
from client.widgets.mitigation_panel import MitigationPanel
from client.widgets.progress_panel import ProgressPanel
from client.widgets.questions_panel import QuestionsPanel
from client.widgets.room_panels import room_panels
from client.widgets.timeline_panel import TimelineFilter, TimelinePanel
from warroom.core import commands as c
from warroom.core.domain import (
    ActionState,
    IncidentState,
    MitigationState,
    QuestionState,
    Severity,
    Status,
    audience_groups,
    entry_number,
    find_entry,
)
from warroom.core.policy import visible_part

_NEXT_STATE = {ActionState.NEXT: ActionState.IN_PROGRESS, ActionState.IN_PROGRESS: ActionState.DONE}

ACTION_COMMANDS: dict[str, type[c.Command]] = {
    "note": c.AddNote,
    "impact": c.SetImpact,
    "eta": c.SetEta,
    "status": c.ChangeStatus,
    "severity": c.ChangeSeverity,
    "add_action": c.AddAction,
    "workaround": c.AddMitigation,
    "apps": c.AddApp,
    "pin": c.PinNote,
    "advance_action": c.ChangeActionState,
    "drop_action": c.ChangeActionState,
    "action_owner": c.AssignAction,
    "verify_mitigation": c.ChangeMitigationState,
    "withdraw_mitigation": c.ChangeMitigationState,
    "answer": c.AnswerQuestion,
    "move_audience": c.ChangeAudience,
    "ask": c.AskQuestion,
    "dismiss_question": c.DismissQuestion,
    "access": c.ChangeAccess,
}
"""Which command each key's action sends: the policy decides whether the key is usable."""


class WarRoomScreen(RoomScreen):
    """One incident's war room."""

    DEFAULT_CLASSES = "room"

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
    ]
    """Edits (n i e s v a w p), panels 1-5 (Tab cycles), ? lists every key, q back to the lobby."""

    def __init__(self, incident: str) -> None:
        super().__init__()
        self.incident_id = incident
        self._keys_depend_on: tuple[object, bool] | None = None

    @property
    def incident(self) -> IncidentState | None:
        """The incident as the client knows it now."""
        return self.warroom.state.world.incident(self.incident_id)

    def compose(self) -> ComposeResult:
        yield LinkBar(id="link")
        yield ObserverBanner(id="observer")
        yield IncidentHeader(id="header")
        yield room_panels(numbered=True, detail=True)
        yield Static("", id="gone")
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.warroom, "state", self.show_state)
        self.set_interval(1, self._tick)
        self.query_one("#timeline", TimelinePanel).focus()

    def on_screen_resume(self) -> None:
        if self.app.screen is self:
            self.warroom.view(self.incident_id)

    def _tick(self) -> None:
        incident = self.incident
        if incident is not None:
            self._show_clock(incident, self.warroom.state)

    def _show_clock(self, incident: IncidentState, state: ClientState) -> None:
        now = self.warroom.now()
        present = state.presence.get(incident.id, ())
        self.query_one("#header", IncidentHeader).show(incident, now, present)
        self.query_one("#questions", QuestionsPanel).show_incident(incident, now)

    def show_state(self, state: ClientState) -> None:
        """Re-render every panel from the client state."""
        self.query_one("#link", LinkBar).show(state)
        self.query_one("#observer", ObserverBanner).show(state)
        incident = state.world.incident(self.incident_id)
        if incident is not None and state.me is not None:
            incident = visible_part(incident, state.me)
        self.show_gone(incident is None and state.synced)
        if incident is None:
            if self._keys_depend_on != (state.role, True):
                self._keys_depend_on = (state.role, True)
                self.refresh_bindings()
            return
        self._show_clock(incident, state)
        self.query_one("#impact", ImpactPanel).show(incident)
        self.query_one("#timeline", TimelinePanel).show(incident, state.log, self.warroom.now())
        self.query_one("#progress", ProgressPanel).show_incident(incident)
        self.query_one("#mitigation", MitigationPanel).show_incident(incident)
        timeline = self.query_one("#timeline", TimelinePanel)
        timeline.border_title = f"2 Timeline ({timeline.describe_filter()}, {timeline.row_count})"
        self.show_detail()
        # Refreshing bindings rebuilds the footer: do it only when what the keys depend on moved.
        keys_depend_on = (state.role, incident is None)
        if keys_depend_on != self._keys_depend_on:
            self._keys_depend_on = keys_depend_on
            self.refresh_bindings()

    # Keys the role may not use ---------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "preview":
            # Previewing an audience is the incident manager's, who decides what it is shown.
            return self.warroom.allowed(c.ChangeAudience)
        command = ACTION_COMMANDS.get(action)
        if command is None:
            return True
        if self.incident is None:
            return None
        return self.warroom.allowed(command)

    # Panels --------------------------------------------------------------------------------------

    def action_focus_panel(self, panel: str) -> None:
        """Jump to a panel (1-5)."""
        self.query_one(f"#{panel}").focus()

    def action_leave(self) -> None:
        """Back to the lobby."""
        self.app.pop_screen()

    # Edits ----------------------------------------------------------------------------------------

    def _send(self, command: c.Command | None, label: str) -> None:
        if command is not None:
            self.warroom.submit(command, label)

    def action_note(self) -> None:
        """Add a note (pin and backdate in the form)."""
        from client.screens.note import NoteScreen

        self.app.push_screen(
            NoteScreen(self.incident_id, self.warroom.now()), lambda cmd: self._send(cmd, "note")
        )

    def action_impact(self) -> None:
        """Edit the impact statement."""
        from client.screens.impact import ImpactScreen

        incident = self.incident
        if incident is not None:
            self.app.push_screen(
                ImpactScreen(incident.id, incident.impact, now=self.warroom.now()),
                lambda cmd: self._send(cmd, "impact"),
            )

    def action_eta(self) -> None:
        """Set the ETA."""
        from client.screens.eta import EtaScreen

        incident = self.incident
        if incident is not None:
            self.app.push_screen(
                EtaScreen(incident, self.warroom.now()), lambda cmd: self._send(cmd, "ETA")
            )

    def action_status(self) -> None:
        """Change the status (choose resolved to close, anything else to reopen)."""
        incident = self.incident
        if incident is None:
            return

        def chosen(status: Status | None) -> None:
            if status is not None:
                self._send(c.ChangeStatus(incident=incident.id, status=status), f"status {status}")

        choices = [(s.value, s) for s in Status]
        self.app.push_screen(ChoiceScreen("Status", choices, incident.status), chosen)

    def action_severity(self) -> None:
        """Change the severity."""
        incident = self.incident
        if incident is None:
            return

        def chosen(severity: Severity | None) -> None:
            if severity is not None:
                command = c.ChangeSeverity(incident=incident.id, severity=severity)
                self._send(command, f"severity {severity}")

        choices = [(s.value, s) for s in Severity]
        self.app.push_screen(ChoiceScreen("Severity", choices, incident.severity), chosen)

    def action_add_action(self) -> None:
        """Add an action."""
        from client.screens.action import ActionScreen

        self.app.push_screen(
            ActionScreen(self.incident_id, self.warroom.now()),
            lambda cmd: self._send(cmd, "action"),
        )

    def action_workaround(self) -> None:
        """Add a workaround."""
        from client.screens.mitigation import MitigationScreen

        incident = self.incident
        if incident is not None:
            self.app.push_screen(
                MitigationScreen(incident.id, incident.apps, self.warroom.now()),
                lambda cmd: self._send(cmd, "workaround"),
            )

    def action_apps(self) -> None:
        """Add an affected application, or remove one."""
        from client.screens.prompt import PromptScreen

        incident = self.incident
        if incident is None:
            return
        add = "+ add an application…"
        choices = [(add, add), *((f"- remove {app}", app) for app in incident.apps)]

        def added(app: str | None) -> None:
            if app:
                self._send(c.AddApp(incident=incident.id, app=app), f"add {app}")

        def chosen(choice: str | None) -> None:
            if choice == add:
                self.app.push_screen(PromptScreen("Add an application", "Application name"), added)
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

    def _known_groups(self) -> list[str]:
        groups: set[str] = set()
        for incident in self.warroom.state.world.incidents.values():
            audiences = [incident.impact.audience]
            audiences += [n.audience for n in incident.notes]
            audiences += [a.audience for a in incident.actions]
            audiences += [m.audience for m in incident.mitigations]
            for audience in audiences:
                groups |= audience_groups(audience)
        return sorted(groups)

    def action_move_audience(self) -> None:
        """Show the entry under the cursor (or the impact statement) to another audience."""
        from client.screens.prompt import PromptScreen

        incident = self.incident
        focused = self.focused
        if incident is None or focused is None:
            return
        entry: str | None
        if focused.id == "impact":
            entry, current = "impact", incident.impact.audience
        elif focused.id == "timeline":
            number = self.query_one("#timeline", TimelinePanel).selected_note
            note = find_entry(incident.notes, number) if number is not None else None
            entry, current = (f"N{number}", note.audience) if note else (None, "")
        else:
            prefix = {"progress": "A", "mitigation": "M"}.get(focused.id or "")
            number = self._selected(focused.id or "", prefix) if prefix else None
            audiences = {
                "A": {a.id: a.audience for a in incident.actions},
                "M": {m.id: m.audience for m in incident.mitigations},
            }.get(prefix or "", {})
            found = audiences.get(number) if number is not None else None
            entry, current = (f"{prefix}{number}", found) if found else (None, "")
        if entry is None:
            self.notify("Put the cursor on a note, an action or a workaround.", severity="warning")
            return
        other = "other groups…"
        choices = [("internal (the war room only)", "internal"), ("all stakeholders", "all")]
        choices += [(f"group {g}", g) for g in self._known_groups()]
        choices.append((other, other))
        moved = entry

        def send(audience: str | None) -> None:
            if audience:
                command = c.ChangeAudience(
                    incident=self.incident_id, entry=moved, audience=audience
                )
                self._send(command, f"{moved} to {audience}")

        def chosen(audience: str | None) -> None:
            if audience == other:
                prompt = PromptScreen(f"Show {moved} to", "Stakeholder groups (comma-separated)")
                self.app.push_screen(prompt, send)
            else:
                send(audience)

        self.app.push_screen(ChoiceScreen(f"Show {entry} to", choices, current), chosen)

    def action_preview(self) -> None:
        """See the room as one stakeholder group, or all stakeholders, sees it now."""
        from client.screens.preview import PreviewScreen

        choices = [("all stakeholders", "all"), *((f"group {g}", g) for g in self._known_groups())]

        def chosen(audience: str | None) -> None:
            if audience is not None:
                self.app.push_screen(PreviewScreen(self.incident_id, audience))

        self.app.push_screen(ChoiceScreen("Preview as", choices), chosen)

    def action_access(self) -> None:
        """Who may see the incident: make it private or public, invite someone, or take an
        invitation back (incident manager)."""
        incident = self.incident
        if incident is None:
            return
        choices: list[tuple[str, str]] = [
            ("make it public" if incident.private else "make it private", "privacy"),
            ("invite someone", "invite"),
            *((f"take back {name}'s invitation", f"remove:{name}") for name in incident.invited),
        ]
        self.app.push_screen(ChoiceScreen("Who may see it", choices), self._access_chosen)

    def _access_chosen(self, choice: str | None) -> None:
        from client.screens.prompt import PromptScreen

        incident = self.incident
        if choice is None or incident is None:
            return
        if choice == "privacy":
            private = not incident.private
            command = c.ChangePrivacy(incident=incident.id, private=private)
            self._send(command, "private" if private else "public")
        elif choice.startswith("remove:"):
            name = choice.removeprefix("remove:")
            self._send(c.ChangeAccess(incident=incident.id, user=name, invited=False), "access")
        else:

            def invited(name: str | None) -> None:
                if name:
                    self._send(c.ChangeAccess(incident=incident.id, user=name), f"invite {name}")

            self.app.push_screen(PromptScreen(f"Invite to {incident.id}", "User name"), invited)

    # Entries under the cursor -------------------------------------------------------------------

    def _selected(self, panel: str, prefix: str) -> int | None:
        from client.widgets.keyed_table import KeyedTable

        key = self.query_one(f"#{panel}", KeyedTable).selected_key
        if key is None:
            self.notify(f"Nothing selected in {panel}.", severity="warning")
            return None
        return entry_number(key, prefix)

    def action_pin(self) -> None:
        """Pin or unpin the note under the cursor."""
        incident = self.incident
        number = self.query_one("#timeline", TimelinePanel).selected_note
        if incident is None or number is None:
            self.notify("Put the cursor on a note to pin it.", severity="warning")
            return
        note = find_entry(incident.notes, number)
        if note is not None:
            pinned = not note.pinned
            command = c.PinNote(incident=incident.id, note=number, pinned=pinned)
            self._send(command, f"{'pin' if pinned else 'unpin'} N{number}")

    def action_timeline_filter(self) -> None:
        """Cycle the timeline filter: all, pinned, notes, then each application."""
        incident = self.incident
        timeline = self.query_one("#timeline", TimelinePanel)
        if incident is None:
            return
        steps: list[tuple[TimelineFilter, str | None]] = [
            (TimelineFilter.ALL, None),
            (TimelineFilter.PINNED, None),
            (TimelineFilter.NOTES, None),
            *((TimelineFilter.ALL, app) for app in incident.apps),
        ]
        current = (timeline.filter, timeline.app_filter)
        index = steps.index(current) if current in steps else -1
        kind, app = steps[(index + 1) % len(steps)]
        timeline.set_filter(kind, app, self.warroom.state.log)
        timeline.border_title = f"2 Timeline ({timeline.describe_filter()}, {timeline.row_count})"

    def action_advance_action(self) -> None:
        """Move the action under the cursor on: next, in progress, done."""
        incident, number = self.incident, self._selected("progress", "A")
        if incident is None or number is None:
            return
        action = find_entry(incident.actions, number)
        if action is None:
            return
        following = _NEXT_STATE.get(action.state, ActionState.NEXT)
        command = c.ChangeActionState(incident=incident.id, action=number, state=following)
        self._send(command, f"A{number} {following}")

    def action_drop_action(self) -> None:
        """Drop the action under the cursor."""
        incident, number = self.incident, self._selected("progress", "A")
        if incident is not None and number is not None:
            command = c.ChangeActionState(
                incident=incident.id, action=number, state=ActionState.DROPPED
            )
            self._send(command, f"drop A{number}")

    def action_action_owner(self) -> None:
        """Give the action under the cursor an owner."""
        from client.screens.prompt import PromptScreen

        incident, number = self.incident, self._selected("progress", "A")
        if incident is None or number is None:
            return
        action = find_entry(incident.actions, number)

        def owned(owner: str | None) -> None:
            if owner is not None:
                command = c.AssignAction(incident=incident.id, action=number, owner=owner or None)
                self._send(command, f"A{number} owner")

        prompt = PromptScreen(
            f"Owner of A{number}",
            "Who owns it (blank: nobody)",
            (action.owner or "") if action else "",
            allow_empty=True,
        )
        self.app.push_screen(prompt, owned)

    def _mitigation(self, state: MitigationState) -> None:
        incident, number = self.incident, self._selected("mitigation", "M")
        if incident is not None and number is not None:
            command = c.ChangeMitigationState(incident=incident.id, mitigation=number, state=state)
            self._send(command, f"M{number} {state}")

    def action_verify_mitigation(self) -> None:
        """Mark the workaround under the cursor as verified."""
        self._mitigation(MitigationState.VERIFIED)

    def action_withdraw_mitigation(self) -> None:
        """Withdraw the workaround under the cursor."""
        self._mitigation(MitigationState.WITHDRAWN)

    def _open_question(self) -> tuple[IncidentState, int] | None:
        incident, number = self.incident, self._selected("questions", "Q")
        if incident is None or number is None:
            return None
        question = find_entry(incident.questions, number)
        if question is None or question.state is not QuestionState.OPEN:
            self.notify(f"Q{number} is not open.", severity="warning")
            return None
        return incident, number

    def action_answer(self) -> None:
        """Answer the question under the cursor."""
        from client.screens.answer import AnswerScreen

        selected = self._open_question()
        if selected is None:
            return
        incident, number = selected
        question = find_entry(incident.questions, number)
        assert question is not None
        self.app.push_screen(
            AnswerScreen(incident.id, question, self.warroom.now()),
            lambda cmd: self._send(cmd, f"answer Q{number}"),
        )

    def action_dismiss_question(self) -> None:
        """Dismiss the question under the cursor, with an optional reason."""
        from client.screens.prompt import PromptScreen

        selected = self._open_question()
        if selected is None:
            return
        incident, number = selected

        def reason(text: str | None) -> None:
            if text is not None:
                command = c.DismissQuestion(incident=incident.id, question=number, reason=text)
                self._send(command, f"dismiss Q{number}")

        self.app.push_screen(
            PromptScreen(f"Dismiss Q{number}", "Reason (optional)", allow_empty=True), reason
        )

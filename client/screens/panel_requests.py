"""What the war room does when a panel asks about the entry under its cursor: pin a note, move
an action on, give it an owner, drop it, verify or withdraw a workaround, answer or dismiss a
question, and change what the timeline shows.

The panels only post requests (see `client.widgets.requests`); this base of the war room turns
them into commands, asking first where a form or a reason is needed.
"""

from __future__ import annotations

from client.screens.base import RoomScreen
from client.screens.editing import Built, open_form, open_prompt
from client.widgets.mitigation_panel import MitigationPanel
from client.widgets.progress_panel import ProgressPanel
from client.widgets.questions_panel import QuestionsPanel
from client.widgets.timeline_panel import TimelinePanel
from warroom.core import commands as c
from warroom.core.domain import (
    EVERYONE,
    INTERNAL,
    ActionState,
    IncidentState,
    MitigationState,
    Question,
    QuestionState,
    entry_number,
    find_entry,
)

_NEXT_STATE = {ActionState.NEXT: ActionState.IN_PROGRESS, ActionState.IN_PROGRESS: ActionState.DONE}


class PanelRequestsScreen(RoomScreen):
    """A room whose panels' requests become commands (the war room)."""

    @property
    def incident(self) -> IncidentState | None:
        """The incident as the client knows it now."""
        return self.warroom.state.world.incident(self.incident_id)

    def _send(self, command: c.Command | None, label: str) -> None:
        if command is not None:
            self.warroom.submit(command, label)

    # Entries under the cursor, as the panels ask ---------------------------------------------

    def on_timeline_panel_pin_requested(self, request: TimelinePanel.PinRequested) -> None:
        incident = self.incident
        note = find_entry(incident.notes, request.note) if incident is not None else None
        if incident is not None and note is not None:
            pinned = not note.pinned
            command = c.PinNote(incident=incident.id, note=note.id, pinned=pinned)
            self._send(command, f"{'pin' if pinned else 'unpin'} N{note.id}")

    def on_timeline_panel_filter_requested(self) -> None:
        incident = self.incident
        if incident is not None:
            timeline = self.query_one("#timeline", TimelinePanel)
            timeline.set_filter(*timeline.next_filter(incident.apps), self.warroom.state.log)
            self.title_timeline()

    def on_progress_panel_advance_requested(self, request: ProgressPanel.AdvanceRequested) -> None:
        incident, number = self.incident, request.action
        action = find_entry(incident.actions, number) if incident is not None else None
        if incident is None or action is None:
            return
        following = _NEXT_STATE.get(action.state, ActionState.NEXT)
        command = c.ChangeActionState(incident=incident.id, action=number, state=following)
        self._send(command, f"A{number} {following}")

    def on_progress_panel_drop_requested(self, request: ProgressPanel.DropRequested) -> None:
        number = request.action
        command = c.ChangeActionState(
            incident=self.incident_id, action=number, state=ActionState.DROPPED
        )
        self._send(command, f"drop A{number}")

    def on_progress_panel_owner_requested(self, request: ProgressPanel.OwnerRequested) -> None:
        from client.screens.prompt import PromptScreen

        incident, number = self.incident, request.action
        if incident is None:
            return
        action = find_entry(incident.actions, number)

        def owned(owner: str) -> Built:
            command = c.AssignAction(incident=incident.id, action=number, owner=owner or None)
            return command, f"A{number} owner"

        current = (action.owner or "") if action else ""
        open_prompt(
            self.warroom,
            lambda: PromptScreen(
                f"Owner of A{number}", "Who owns it (blank: nobody)", current, allow_empty=True
            ),
            owned,
        )

    def on_mitigation_panel_verify_requested(
        self, request: MitigationPanel.VerifyRequested
    ) -> None:
        self._mitigation(request.mitigation, MitigationState.VERIFIED)

    def on_mitigation_panel_withdraw_requested(
        self, request: MitigationPanel.WithdrawRequested
    ) -> None:
        self._mitigation(request.mitigation, MitigationState.WITHDRAWN)

    def _mitigation(self, number: int, state: MitigationState) -> None:
        command = c.ChangeMitigationState(incident=self.incident_id, mitigation=number, state=state)
        self._send(command, f"M{number} {state}")

    def _open_question(self, number: int) -> tuple[IncidentState, Question] | None:
        incident = self.incident
        question = find_entry(incident.questions, number) if incident is not None else None
        if incident is None or question is None or question.state is not QuestionState.OPEN:
            self.notify(f"Q{number} is not open.", severity="warning")
            return None
        return incident, question

    def on_questions_panel_answer_requested(self, request: QuestionsPanel.AnswerRequested) -> None:
        from client.screens.answer import AnswerScreen

        selected = self._open_question(request.question)
        if selected is None:
            return
        incident, question = selected
        app, groups = self.warroom, self.warroom.known_groups
        open_form(
            app,
            lambda: AnswerScreen(incident.id, question, app.now(), groups),
            f"answer Q{question.id}",
        )

    def on_questions_panel_dismiss_requested(
        self, request: QuestionsPanel.DismissRequested
    ) -> None:
        from client.screens.prompt import PromptScreen

        selected = self._open_question(request.question)
        if selected is None:
            return
        incident, question = selected
        number = question.id

        def reason(text: str) -> Built:
            command = c.DismissQuestion(incident=incident.id, question=number, reason=text)
            return command, f"dismiss Q{number}"

        open_prompt(
            self.warroom,
            lambda: PromptScreen(f"Dismiss Q{number}", "Reason (optional)", allow_empty=True),
            reason,
        )

    def on_questions_panel_merge_requested(self, request: QuestionsPanel.MergeRequested) -> None:
        from client.screens.prompt import PromptScreen

        selected = self._open_question(request.question)
        if selected is None:
            return
        incident, question = selected
        number = question.id

        def target(text: str) -> str | None:
            try:
                into = entry_number(text, "Q")
            except ValueError:
                return f"name the question Q{number} duplicates by its number, as in Q1"
            if into == number:
                return f"Q{number} cannot be merged into itself"
            if find_entry(incident.questions, into) is None:
                return f"{incident.id} has no question Q{into}"
            return None

        def merge(text: str) -> Built:
            into = entry_number(text, "Q")  # checked by the prompt
            command = c.MergeQuestion(incident=incident.id, question=number, into=into)
            return command, f"merge Q{number} into Q{into}"

        open_prompt(
            self.warroom,
            lambda: PromptScreen(
                f"Merge Q{number} into another question",
                f"The question Q{number} duplicates (Q1): its asker gets that one's answer",
                check=target,
            ),
            merge,
        )

    def on_questions_panel_promote_requested(
        self, request: QuestionsPanel.PromoteRequested
    ) -> None:
        from client.screens.composer import open_composer

        incident, number = self.incident, request.question
        question = find_entry(incident.questions, number) if incident is not None else None
        if question is None or question.state is not QuestionState.ANSWERED:
            self.notify(f"Q{number} has no answer to publish yet.", severity="warning")
            return
        audience = question.answer_audience
        shared = audience if audience is not None and audience != INTERNAL else EVERYONE
        open_composer(self.warroom, self.incident_id, shared, question=number)

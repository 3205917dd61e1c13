"""The composer: an update (or the initial alert) to stakeholders, drafted from the room for one
audience, edited by the incident manager, previewed exactly as sent, then published.

The draft holds only what every group of the audience may see (`warroom.core.updates.compose`).
Choosing another audience drafts the parts again, after asking if they were edited. f2 shows the
subject and body the audience will receive, byte for byte what email and webhooks carry. ctrl+s
sends; a refusal opens the composer again with the text as edited and the hub's reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Button, Label, SelectionList, Static, TextArea

from client.app_protocol import ClientApp
from client.comms_render import message_text
from client.entry_text import EntryText
from client.screens.confirm import ConfirmScreen, confirmed
from client.screens.editing import open_form
from client.screens.entry import EntryScreen
from client.screens.form import FormError, FormScreen, Typed, audience_of
from client.widgets.audience_picker import AudiencePicker
from warroom.core import commands as c
from warroom.core.domain import EVERYONE, IncidentState, UpdateKind
from warroom.core.updates import Draft, compose, promoted

PARTS = ("summary", "impact", "timeline", "progress", "mitigation")
"""The parts of an update, in the order the audience reads them (the fields' ids)."""

Redraft = Callable[[str], Draft]
"""Drafts the update again for another audience."""


def audience_words(audience: str) -> str:
    """`all stakeholders`, `group exec`, `groups exec, support`."""
    if audience == EVERYONE:
        return "all stakeholders"
    groups = audience.split(",")
    return f"group{'s' if len(groups) > 1 else ''} {', '.join(groups)}"


class ComposerScreen(FormScreen[c.PublishUpdate]):
    """The composer of one update; the result is the command that publishes it."""

    SAVE = "Send"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2", "preview", "Preview", priority=True),
    ]
    """f2 shows exactly what the audience will receive (Esc cancels, ctrl+s sends)."""

    AUTO_FOCUS = "#summary"

    def __init__(
        self,
        incident: IncidentState,
        draft: Draft,
        redraft: Redraft,
        groups: Sequence[str] = (),
    ) -> None:
        super().__init__()
        self.incident = incident
        self.draft = draft
        self.redraft = redraft
        self.groups = groups
        self.audience = draft.audience
        """The audience the parts were written for."""
        self._drafted = self._parts_of(draft)
        self._asking: str | None = None
        """The audience the user is being asked to draft again for, if any."""

    @staticmethod
    def _parts_of(draft: Draft) -> dict[str, str]:
        return {part: getattr(draft, part) for part in PARTS}

    def heading(self) -> str:
        if self.draft.question is not None:
            return f"Publish the answer to Q{self.draft.question} as an update ({self.incident.id})"
        if self.draft.kind is UpdateKind.ALERT:
            return f"Send the initial alert of {self.incident.id} to stakeholders"
        return f"Compose an update on {self.incident.id} to stakeholders"

    def fields(self) -> ComposeResult:
        yield Static(
            "Drafted from what the audience may see. It goes by email and webhook and shows in "
            "their room; f2 previews it exactly.",
            classes="composer-hint",
        )
        yield Label("Who receives it (Space ticks; groups combine; the parts are drafted again)")
        yield AudiencePicker(self.groups, self.audience, internal=False, id="audience")
        for part in PARTS:
            yield Label(part.title())
            yield TextArea(getattr(self.draft, part), id=part, soft_wrap=True)

    def on_mount(self) -> None:
        # Focusing the summary scrolls the fields past the hint and the audience: show them.
        self.call_after_refresh(self._show_top)

    def _show_top(self) -> None:
        self.query_one(".form-fields", VerticalScroll).scroll_home(animate=False)

    def more_buttons(self) -> ComposeResult:
        yield Button("Preview (f2)", id="preview")

    def refill(self, typed: Typed, reason: str) -> ComposerScreen:
        """Open with what was typed (for the audience it was typed for) and the reason."""
        ticked = typed.get("audience")
        if isinstance(ticked, tuple) and ticked:
            self.audience = EVERYONE if EVERYONE in ticked else ",".join(sorted(map(str, ticked)))
        super().refill(typed, reason)
        return self

    # The draft as it stands --------------------------------------------------------------------

    def _parts(self) -> dict[str, str]:
        return {part: self.query_one(f"#{part}", TextArea).text for part in PARTS}

    def _edited(self) -> Draft:
        """The draft with the parts as edited, to the audience ticked."""
        audience = audience_of(self.query_one("#audience", AudiencePicker))
        parts = {part: text.strip() for part, text in self._parts().items()}
        return Draft(audience=audience, kind=self.draft.kind, question=self.draft.question, **parts)

    def result(self) -> c.PublishUpdate:
        draft = self._edited()
        if not any(getattr(draft, part) for part in PARTS):
            raise FormError("the update is empty: write a summary or one of its parts")
        return draft.command(self.incident.id)

    # Another audience --------------------------------------------------------------------------

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged[str]) -> None:
        event.stop()
        # The picker unticks `all` after a group is ticked: decide once it has settled.
        self.call_after_refresh(self._audience_changed)

    def _audience_changed(self) -> None:
        audience = self.query_one("#audience", AudiencePicker).audience
        if audience is None or audience in (self.audience, self._asking):
            return
        if self._parts() == self._drafted:
            self._redraft(audience)
            return

        def answered(yes: bool | None) -> None:
            self._asking = None
            if yes:
                self._redraft(audience)
            else:
                self.audience = audience

        question = f"Draft the update again for {audience_words(audience)}?"
        detail = (
            "The parts are drafted from what they may see; your edits are replaced. "
            "Keep your text to send it as it is (f2 shows what they would receive)."
        )
        screen = ConfirmScreen(question, detail, yes="Draft again", no="Keep my text")
        self._asking = audience
        self.app.push_screen(screen, answered)

    def _redraft(self, audience: str) -> None:
        draft = self.redraft(audience)
        for part in PARTS:
            self.query_one(f"#{part}", TextArea).load_text(getattr(draft, part))
        self.audience = audience
        self._drafted = self._parts_of(draft)

    # The preview -------------------------------------------------------------------------------

    def action_preview(self) -> None:
        """Show the subject and body the audience will receive, as plain text."""
        try:
            draft = self._edited()
        except FormError as error:
            self.notify(str(error), severity="warning", markup=False)
            return
        number = len(self.incident.updates) + 1
        heading = f"Preview: what {audience_words(draft.audience)} will receive (Esc goes back)"
        self.app.push_screen(
            EntryScreen(EntryText(heading, message_text(self.incident, draft, number)))
        )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "preview":
            event.stop()
            self.action_preview()


# Opening it ----------------------------------------------------------------------------------


def open_composer(
    app: ClientApp,
    incident_id: str,
    audience: str = EVERYONE,
    kind: UpdateKind = UpdateKind.UPDATE,
    question: int | None = None,
) -> None:
    """Open the composer on `incident_id` for `audience`: an update, the alert (`kind`), or the
    answer to `question` promoted; send what it describes, and open it again if refused."""
    first = app.state.world.incident(incident_id)
    if first is None:
        return

    def make() -> ComposerScreen:
        # Made again when the hub refuses: the room may have moved on since.
        incident = app.state.world.incident(incident_id) or first

        def redraft(to: str) -> Draft:
            if question is not None:
                return promoted(incident, question, to)
            return compose(incident, to, app.now(), app.state.cadence, kind)

        return ComposerScreen(incident, redraft(audience), redraft, app.known_groups)

    if question is not None:
        label = f"publish Q{question}'s answer"
    else:
        label = "publish the alert" if kind is UpdateKind.ALERT else "publish an update"
    open_form(app, make, label)


def offer_alert(app: ClientApp, incident_id: str) -> None:
    """Ask the incident manager whether to alert stakeholders now; on yes, open the composer
    on the alert to all of them."""
    question = "Send the initial alert to stakeholders?"
    detail = (
        f"The composer opens with an alert on {incident_id} to all stakeholders, drafted from "
        "what they may see; nothing is sent until you send it."
    )
    screen = ConfirmScreen(question, detail, yes="Compose the alert", no="Not now")
    app.push_screen(
        screen, confirmed(lambda: open_composer(app, incident_id, EVERYONE, UpdateKind.ALERT))
    )

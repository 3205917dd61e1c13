"""The lobby: every incident the user may see, newest first, filtered live; declare from here.

It shows the hub's summaries: no incident's log is read until its room opens."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Footer, Input, Select, Static

from client.render import names, severity_badge, shown, status_text
from client.screens.base import AppScreen
from client.screens.editing import open_form
from client.state import ClientState
from client.widgets import steady
from client.widgets.keyed_table import KeyedTable
from client.widgets.link_bar import LinkBar, ObserverBanner
from warroom.core.commands import DeclareIncident
from warroom.core.domain import Severity, Status
from warroom.core.summary import IncidentSummary
from warroom.core.timeparse import relative


def matches(
    incident: IncidentSummary, text: str, status: object, severity: object, app: object
) -> bool:
    """True if `incident` passes the lobby's filters."""
    if isinstance(status, Status) and incident.status is not status:
        return False
    if isinstance(severity, Severity) and incident.severity is not severity:
        return False
    if isinstance(app, str) and app.lower() not in (a.lower() for a in incident.apps):
        return False
    needle = text.strip().lower()
    if needle:
        haystack = " ".join((incident.id, incident.title, *incident.apps, incident.impact))
        return needle in haystack.lower()
    return True


def newest_first(state: ClientState) -> list[IncidentSummary]:
    """The incidents of the lobby, most recently declared first."""
    return sorted(state.summaries.values(), key=lambda i: i.declared_at, reverse=True)


class LobbyScreen(AppScreen):
    """All incidents, newest first."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open"),
        Binding("d", "declare", "Declare"),
        Binding("slash", "search", "Search"),
        Binding("escape", "clear_filters", "Clear filters", show=False),
        Binding("question_mark", "app.show_help_panel", "Keys"),
        Binding("q", "app.quit", "Quit"),
    ]
    """Enter opens the war room, d declares, / searches, ? lists every key, q quits."""

    _role: object = None

    def compose(self) -> ComposeResult:
        yield LinkBar(id="link")
        yield ObserverBanner(id="observer")
        with Horizontal(id="filters"):
            yield Input(placeholder="/ search id, title, application, impact", id="search")
            yield Select([(s.value, s) for s in Status], prompt="any status", id="status")
            yield Select([(s.value, s) for s in Severity], prompt="any severity", id="severity")
            yield Select([], prompt="any app", id="app-filter")
        columns = [("id", 7), ("sev", 6), ("status", 13), ("title", None)]
        columns += [("applications", 18), ("age", 10), ("questions", 9)]
        yield KeyedTable(columns, id="incidents", spare=("applications",))
        yield Static("", id="empty")
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.app, "state", self.follow_state)
        self.set_interval(30, lambda: self.follow_state(self.warroom.state))
        self.query_one("#incidents", KeyedTable).focus()

    def on_screen_resume(self) -> None:
        # Resume events of screens pushed together arrive in any order: only the top one counts.
        if self.app.screen is self:
            self.warroom.view(None)
        # Shown again whatever changed: the incidents' ages counted on while it was covered
        # (`AppScreen.on_screen_resume`, which Textual calls after this one, shows it).
        self._behind = True

    def show_state(self, state: ClientState) -> None:
        """Re-render from the client state."""
        self.show_link(state)
        self.query_one("#observer", ObserverBanner).show(state)
        self._update_app_choices(state)
        text = self.query_one("#search", Input).value
        status = self.query_one("#status", Select).value
        severity = self.query_one("#severity", Select).value
        app = self.query_one("#app-filter", Select).value
        now = self.warroom.now()
        rows = []
        everything = newest_first(state)
        for incident in everything:
            if not matches(incident, text, status, severity, app):
                continue
            open_questions = incident.open_questions
            rows.append(
                (
                    incident.id,
                    (
                        severity_badge(incident.severity),
                        status_text(incident.status),
                        Text.assemble(
                            ("private  " if incident.private else "", "bold magenta"),
                            shown(incident.title, multiline=False),
                        ),
                        Text(names(incident.apps)),
                        Text(relative(incident.declared_at, now)),
                        Text(
                            f"{open_questions} open" if open_questions else "-",
                            style="bold yellow" if open_questions else "dim",
                        ),
                    ),
                )
            )
        self.query_one("#incidents", KeyedTable).show(rows)
        if state.role != self._role:
            self._role = state.role
            self.refresh_bindings()
        empty = self.query_one("#empty", Static)
        if not state.synced and not everything:
            steady.update(empty, "Loading incidents…")
        elif not everything:
            may_declare = self.warroom.allowed(DeclareIncident) is True
            declare = " Press d to declare one." if may_declare else ""
            steady.update(empty, "No incidents yet." + declare)
        elif not rows:
            steady.update(empty, "No incident matches these filters. Press Esc to clear them.")
        else:
            steady.update(empty, "")
        empty.display = not rows

    def _update_app_choices(self, state: ClientState) -> None:
        apps = sorted(
            {app for incident in state.summaries.values() for app in incident.apps},
            key=str.lower,
        )
        select = self.query_one("#app-filter", Select)
        if getattr(self, "_apps", None) != apps:
            self._apps = apps
            current = select.value
            select.set_options([(shown(app, multiline=False), app) for app in apps])
            if current in apps:
                select.value = current

    def on_input_changed(self, event: Input.Changed) -> None:
        self.show_state(self.warroom.state)

    def on_select_changed(self, event: Select.Changed) -> None:
        self.show_state(self.warroom.state)

    def on_keyed_table_selected(self, event: KeyedTable.Selected) -> None:
        event.stop()
        self.action_open()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "declare":
            return self.warroom.allowed(DeclareIncident)
        return True

    def action_open(self) -> None:
        """Open the war room of the incident under the cursor."""
        key = self.query_one("#incidents", KeyedTable).selected_key
        if key is not None:
            self.warroom.open_room(key)

    def action_declare(self) -> None:
        """Open the declare form."""
        from client.screens.declare import DeclareScreen

        app = self.warroom
        # Refused (a title too long), it opens again with what was typed and the reason.
        open_form(app, lambda: DeclareScreen(app.now()), "declare")

    def action_search(self) -> None:
        """Focus the search box."""
        self.query_one("#search", Input).focus()

    def action_clear_filters(self) -> None:
        """Clear every filter and go back to the list."""
        self.query_one("#search", Input).value = ""
        for select_id in ("#status", "#severity", "#app-filter"):
            self.query_one(select_id, Select).clear()
        self.query_one("#incidents", KeyedTable).focus()

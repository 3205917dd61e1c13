"""The post-mortem on screen: the report `warroom report` writes, drawn by Textual's Markdown
widget from the log the client holds. Read only.

Whatever people wrote arrives escaped or fenced (`warroom.core.report`), and the document is read
as plain CommonMark, which turns no bare address into a link; links are never opened either.
"""

from __future__ import annotations

from typing import ClassVar

from markdown_it import MarkdownIt
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Markdown, Static

from client.screens.base import AppScreen
from warroom.core.report import report


def _commonmark() -> MarkdownIt:
    return MarkdownIt("commonmark")


class ReportScreen(AppScreen):
    """The post-mortem of one incident as the user may see it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "leave", "Back to the war room"),
        Binding("j", "scroll('down')", "Down", show=False),
        Binding("k", "scroll('up')", "Up", show=False),
        Binding("home,g", "scroll('home')", "Top", show=False),
        Binding("end,G", "scroll('end')", "Bottom", show=False),
    ]
    """Esc or q goes back; j, k, Home and End scroll."""

    def __init__(self, incident: str) -> None:
        super().__init__()
        self.incident_id = incident
        self.document = ""
        """The Markdown shown, as `warroom report` would write it."""

    def compose(self) -> ComposeResult:
        self.document = self._written()
        banner = Text(
            f" POST-MORTEM of {self.incident_id}, written from the log. Esc goes back. ",
            style="bold black on cyan",
        )
        yield Static(banner, id="report-banner")
        with VerticalScroll(id="report-scroll"):
            yield Markdown(self.document, id="report", parser_factory=_commonmark, open_links=False)
        yield Footer()

    def _written(self) -> str:
        """The report of the log the client holds (a stakeholder's: what they received)."""
        state = self.warroom.state
        me = state.me
        viewer = None if me is None or me.internal else me
        events = (item.event for item in state.log)
        try:
            return report(events, self.incident_id, state.cadence, viewer=viewer)
        except LookupError:
            return f"There is no incident {self.incident_id} to report on yet.\n"

    def on_mount(self) -> None:
        self.query_one("#report-scroll", VerticalScroll).focus()

    def action_scroll(self, where: str) -> None:
        """Scroll the document."""
        scroll = self.query_one("#report-scroll", VerticalScroll)
        match where:
            case "down":
                scroll.scroll_down()
            case "up":
                scroll.scroll_up()
            case "home":
                scroll.scroll_home()
            case _:
                scroll.scroll_end()

    def action_leave(self) -> None:
        """Back to the war room."""
        self.app.pop_screen()

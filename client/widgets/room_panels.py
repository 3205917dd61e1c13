"""The five panels of a war room, laid out in two columns: shared by the room and its preview."""

from __future__ import annotations

from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Static

from client.widgets.impact_panel import ImpactPanel
from client.widgets.mitigation_panel import MitigationPanel
from client.widgets.progress_panel import ProgressPanel
from client.widgets.questions_panel import QuestionsPanel
from client.widgets.timeline_panel import TimelinePanel
from client.widgets.timeline_search import TimelineSearch
from client.widgets.updates_panel import UpdatesPanel


def _framed(widget: Widget, title: str) -> Widget:
    widget.border_title = title
    widget.add_class("panel")
    return widget


def room_panels(
    numbered: bool, detail: bool, ids: bool = True, updates: bool = False
) -> Horizontal:
    """Impact, Progress and Mitigation on the left; Timeline and Questions on the right (and
    with `updates`, above them, the updates the viewer received: a stakeholder's room).

    Args:
        numbered: prefix the titles with the keys that jump to them (1-5).
        detail: add the line under the timeline that shows the highlighted entry in full, and
            the timeline's search box.
        ids: show entry numbers (N3, A2) and versions; a stakeholder's view leaves them out.
    """

    def title(key: str, name: str) -> str:
        return f"{key} {name}" if numbered else name

    right: list[Widget] = []
    if updates:
        right.append(
            _framed(UpdatesPanel(numbered=ids, id="updates"), title("6", "Updates to you"))
        )
    right.append(_framed(TimelinePanel(numbered=ids, id="timeline"), title("2", "Timeline")))
    if detail:
        right.append(TimelineSearch(id="timeline-search"))
        right.append(Static("", id="timeline-detail"))
    right.append(_framed(QuestionsPanel(numbered=ids, id="questions"), title("5", "Questions")))
    return Horizontal(
        Vertical(
            _framed(ImpactPanel(numbered=ids, id="impact"), title("1", "Impact")),
            _framed(ProgressPanel(numbered=ids, id="progress"), title("3", "Progress")),
            _framed(MitigationPanel(numbered=ids, id="mitigation"), title("4", "Mitigation")),
            id="left",
        ),
        Vertical(*right, id="right"),
        id="panels",
    )

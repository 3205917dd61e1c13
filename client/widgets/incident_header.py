"""The war room's header: id, severity, status, title, the next update's countdown, elapsed time,
ETA countdown, presence."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from client.render import header_line
from client.widgets.steady import Lines
from warroom.core.domain import IncidentState


class IncidentHeader(Lines):
    """Two lines at the top of the war room."""

    DEFAULT_CSS = """
    IncidentHeader { height: 2; }
    """

    def show(
        self,
        incident: IncidentState,
        now: datetime,
        present: tuple[str, ...] | None,
        questions: bool = False,
        due: Text | None = None,
    ) -> None:
        """Render the header for `incident` at `now` (`present`: who is in the room, None if
        not known; `questions`: count the open ones; `due`: when the next update is due, see
        `client.comms_render`)."""
        line = header_line(incident, now, present, questions, due)
        if line != self.content:
            # Two lines whatever it says (its height is fixed): no layout of the screen for it.
            self.update(line, layout=False)

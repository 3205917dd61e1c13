"""Choose an audience of several groups: the picker of the groups there are, Save or Esc."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.widgets import Label

from client.render import shown
from client.screens.form import FormScreen, audience_of
from client.widgets.audience_picker import AudiencePicker


class AudienceScreen(FormScreen[str]):
    """Tick internal, all, or any groups; ctrl+s applies. The result is the audience."""

    def __init__(self, title: str, groups: Sequence[str], current: str) -> None:
        super().__init__()
        self.title_text = title
        self.groups = groups
        self.current = current

    def heading(self) -> str:
        return self.title_text

    def fields(self) -> ComposeResult:
        yield Label(shown("Space ticks a group; groups combine. ctrl+s applies.", multiline=False))
        yield AudiencePicker(self.groups, self.current, id="audience")

    def result(self) -> str:
        return audience_of(self.query_one("#audience", AudiencePicker))

"""The audience picker: internal, all stakeholders, or any of the groups there are.

Every form and dialog that asks for an audience uses it, with the groups the hub names (some
stakeholder holds each), so a typo can never address an entry to nobody. `internal` and `all`
stand alone: choosing one clears the rest, and choosing a group clears them.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from rich.text import Text
from textual.strip import Strip
from textual.widgets import Checkbox, SelectionList
from textual.widgets.option_list import OptionDoesNotExist
from textual.widgets.selection_list import Selection

from warroom.core.domain import EVERYONE, INTERNAL, audience_groups

ASKER = "(asker)"
"""The value of the answer form's extra choice: the asker alone, published to nobody (no
group can be named so)."""

_ALONE = (INTERNAL, EVERYONE, ASKER)


def audience_choices(groups: Sequence[str], internal: bool = True) -> list[tuple[str, str]]:
    """The audiences to choose from, labelled: the war room (unless not `internal`), everyone,
    then each group."""
    return [
        *([("internal (the war room only)", INTERNAL)] if internal else []),
        ("all stakeholders", EVERYONE),
        *((f"group {group}", group) for group in groups),
    ]


class AudiencePicker(SelectionList[str]):
    """Arrows move, Space ticks; the value is `internal`, `all` or the groups ticked.

    Without `internal` (an update goes to stakeholders only) the war room is no choice."""

    DEFAULT_CSS = """
    AudiencePicker { height: auto; max-height: 8; }
    """

    def __init__(
        self,
        groups: Sequence[str],
        current: str = INTERNAL,
        *,
        asker: bool = False,
        internal: bool = True,
        id: str | None = None,
    ) -> None:
        choices = audience_choices(groups, internal)
        if asker:
            choices.insert(0, ("the asker only (not published)", ASKER))
        ticked = {current} if current in _ALONE else audience_groups(current)
        # Text, not markup: a group name is anyone's text.
        selections = [
            Selection(Text(label), value, value in ticked, id=value) for label, value in choices
        ]
        super().__init__(*selections, id=id)

    @property
    def audience(self) -> str | None:
        """The audience ticked (`asker` for the asker alone); None if nothing is."""
        ticked = self.selected
        for alone in _ALONE:
            if alone in ticked:
                return alone
        return ",".join(sorted(ticked)) or None

    def render_line(self, y: int) -> Strip:
        """A ticked box shows its X, an unticked one none: colour alone would not say which
        (a 16-colour terminal, a screen reader of the scrollback)."""
        strip = super().render_line(y)
        segments = list(strip)
        if len(segments) < 2 or segments[1].text != Checkbox.BUTTON_INNER:
            return strip
        try:
            selection = self.get_option_at_index(self.scroll_offset.y + y)
        except OptionDoesNotExist:
            return strip
        if selection.value in self.selected:
            return strip
        segments[1] = Segment(" " * len(Checkbox.BUTTON_INNER), segments[1].style)
        return Strip(segments, strip.cell_length)

    def on_selection_list_selection_toggled(
        self, event: SelectionList.SelectionToggled[str]
    ) -> None:
        value = event.selection.value
        if value not in self.selected:
            return
        # internal, all and the asker stand alone; groups combine with each other only.
        for other in list(self.selected):
            if other != value and (value in _ALONE or other in _ALONE):
                self.deselect(other)

"""`Lines`, the Static of the header and the replay's scrubber: each line of its text drawn as
written on its own row, cut at the width and never wrapped onto the next (a long title would
push the header's second line out of its two rows), and never read as markup."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from client.widgets.steady import Lines
from tests.kit.tui import rendered

TITLE = "[bold]Checkout[/bold] failing for EU customers, every card scheme, since the deploy"


class _Two(App[None]):
    DEFAULT_CSS = "Lines { height: 2; width: 40; }"

    def compose(self) -> ComposeResult:
        yield Lines(id="lines")


async def test_each_line_is_cut_at_the_width_and_none_wraps_onto_the_next() -> None:
    app = _Two()
    async with app.run_test(size=(60, 5)) as pilot:
        lines = app.query_one("#lines", Lines)
        lines.update(Text(f"{TITLE}\nnext update in 09:00", style="bold"), layout=False)
        await pilot.pause()
        first, second = rendered(lines).split("\n")
        assert first == TITLE[:40]  # as written: the brackets are text
        assert second.rstrip() == "next update in 09:00"
        lines.update("one line", layout=False)
        await pilot.pause()
        first, second = rendered(lines).split("\n")
        assert first.rstrip() == "one line" and second.strip() == ""

"""Statics told what to show on every change of state, updated only when it differs, and laid
out again only when it takes another number of lines: a layout is of the whole screen, and a
room of ten thousand entries changes many times a second."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual.widgets import Static


def update(static: Static, content: Text | str) -> None:
    """Show `content` in `static` unless it shows just that already."""
    if static.content == content:
        return
    width = static.content_region.width
    shaped = static.styles.width
    if not static.is_mounted or not width or (shaped is not None and shaped.is_auto):
        static.update(content)  # its width may follow what it shows: lay it out
        return
    container, viewport = static.size, static.app.size
    before = static.get_content_height(container, viewport, width)
    static.update(content, layout=False)
    static.clear_cached_dimensions()
    if static.get_content_height(container, viewport, width) != before:
        static.refresh(layout=True)


class Lines(Static):
    """A Static of a line or two of rich Text, drawn as the text is: each line cut at the
    widget's width, none wrapped, and drawn again only when the text, the width or the style
    changes. Textual's content pipeline takes milliseconds to wrap and style two lines, and the
    replay's header and scrubber change on every step."""

    _drawn_for: tuple[object, int, Style] | None = None
    _drawn: tuple[Strip, ...] = ()

    def render_line(self, y: int) -> Strip:
        width, style = self.size.width, self.visual_style.rich_style
        content = self.content
        drawn_for = self._drawn_for
        if drawn_for is None or drawn_for[0] is not content or drawn_for[1:] != (width, style):
            text = content if isinstance(content, Text) else Text(str(content))
            console = self.app.console
            self._drawn = tuple(
                Strip(Segment.apply_style(line.render(console), style)).adjust_cell_length(
                    width, style
                )
                for line in text.split("\n", allow_blank=True)
            )
            self._drawn_for = (content, width, style)
        return self._drawn[y] if y < len(self._drawn) else Strip.blank(width, style)

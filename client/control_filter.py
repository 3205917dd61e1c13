"""The last filter on every line the client writes to its terminal: no control character."""

from __future__ import annotations

from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter

from warroom.core.text import BIDI_CONTROLS, LINE_BREAKS

_DROPPED = {code: None for code in (*range(0x20), *range(0x7F, 0xA0), *BIDI_CONTROLS, *LINE_BREAKS)}


class ControlCharacters(LineFilter):
    """Drops every control character (and bidi control) left in the text of a line on screen.

    The renderers already show typed text through `client.render.shown`, which makes such
    characters visible; this is the net under them, for anything that reaches the screen another
    way. Dropped rather than replaced: they take no cell, so the line keeps its width.
    """

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        if all(segment.text.isprintable() for segment in segments):
            return segments
        return [
            segment
            if segment.control or segment.text.isprintable()
            else Segment(segment.text.translate(_DROPPED), segment.style)
            for segment in segments
        ]


CONTROL_CHARACTERS = ControlCharacters()

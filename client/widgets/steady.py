"""Statics told what to show on every change of state, updated only when it differs, and laid
out again only when it takes another number of lines: a layout is of the whole screen, and a
room of ten thousand entries changes many times a second."""

from __future__ import annotations

from rich.text import Text
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

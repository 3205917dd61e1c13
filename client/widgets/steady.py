"""Statics told what to show on every change of state, updated only when it differs: an update
lays the whole screen out again, and a room of ten thousand entries changes many times a
second."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


def update(static: Static, content: Text | str) -> None:
    """Show `content` in `static` unless it shows just that already."""
    if static.content != content:
        static.update(content)

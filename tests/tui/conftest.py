"""Fixtures of the TUI tests: a fixed time zone, still cursors, and a fake connection."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from textual.widgets import Input, TextArea

from tests.kit.tui import FakeConnection

ZONE = "UTC"
"""The local time zone every TUI test renders times in."""


@pytest.fixture(autouse=True)
def local_zone() -> Iterator[str]:
    """The process's local time zone set to `ZONE` for the test, then put back."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = ZONE
    time.tzset()
    try:
        yield ZONE
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


@pytest.fixture(autouse=True)
def still_cursors(monkeypatch: pytest.MonkeyPatch) -> None:
    """Text fields draw their cursor without blinking.

    A focused `Input` or `TextArea` toggles its cursor on a 0.5 s wall-clock timer, so a picture
    taken a little late (a loaded machine) catches it hidden. With `cursor_blink` off at the class
    level the timer never runs and a focused field always shows its cursor; the app itself
    still blinks for its users.
    """
    monkeypatch.setattr(Input, "cursor_blink", False)
    monkeypatch.setattr(TextArea, "cursor_blink", False)


@pytest.fixture
def fake() -> FakeConnection:
    """A fresh fake link to the hub."""
    return FakeConnection()

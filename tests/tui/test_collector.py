"""`warroom join` collects Python's youngest generation less often than the default, so objects
that live a frame or two die young instead of filling the old generation, whose full passes
froze a room of 10,000 entries for 170-220 ms each (`client.launch.YOUNG_THRESHOLD`)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from client import launch
from client.app import WarRoomApp


@pytest.fixture
def thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


@pytest.mark.usefixtures("thresholds")
def test_join_runs_the_app_with_the_young_generation_spared(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gc.set_threshold(700, 10, 10)  # Python's defaults
    seen: list[tuple[int, int, int]] = []
    monkeypatch.setattr(WarRoomApp, "run", lambda self: seen.append(gc.get_threshold()))
    monkeypatch.setattr(launch, "take_terminal", lambda: None)
    launch.join(["ws://127.0.0.1:9"], "token", None, observer=False)
    assert seen == [(launch.YOUNG_THRESHOLD, 10, 10)]
    assert launch.YOUNG_THRESHOLD > 700

"""`warroom serve` collects Python's youngest generation less often than the default: a flood
of commands makes objects that live until their group commit is answered, which were promoted
and gone through again by the older generations' passes (`server.app.YOUNG_THRESHOLD`)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server import app


@pytest.fixture
def thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


@pytest.mark.usefixtures("thresholds")
def test_serve_runs_the_hub_with_the_young_generation_spared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gc.set_threshold(700, 10, 10)  # Python's defaults
    seen: list[tuple[int, int, int]] = []

    async def serving(*_: Any, **__: Any) -> None:
        seen.append(gc.get_threshold())

    monkeypatch.setattr(app, "run", serving)
    code = app.main(str(tmp_path / "room.db"), "127.0.0.1", 0, session_command=[])
    assert code == 0
    assert seen == [(app.YOUNG_THRESHOLD, 10, 10)]
    assert app.YOUNG_THRESHOLD > 700

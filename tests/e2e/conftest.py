"""Fixtures of the end-to-end tests (the harness itself is `tests.kit.harness`)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kit.harness import ZONE, Hub, isolated_env


@pytest.fixture
def local_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process renders times in the zone the `warroom` processes run in."""
    monkeypatch.setenv("TZ", ZONE)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The isolated environment of this test's processes."""
    return isolated_env(tmp_path)


@pytest.fixture
def hub(tmp_path: Path, env: dict[str, str]) -> Iterator[Hub]:
    """A running hub on a fresh database, stopped (and checked for tracebacks) at teardown."""
    running = Hub(tmp_path, env)
    running.start()
    try:
        yield running
    finally:
        running.close()
    problems = running.server_stderr()
    assert "Traceback" not in problems, f"warroom serve printed a traceback:\n{problems}"


@pytest.fixture
def ssh_hub(tmp_path: Path, env: dict[str, str]) -> Iterator[Hub]:
    """A running hub that also serves SSH (`--ssh-port 0`), checked like `hub` at teardown."""
    running = Hub(tmp_path, env)
    running.start(ssh=True)
    try:
        yield running
    finally:
        running.close()
    problems = running.server_stderr()
    assert "Traceback" not in problems, f"warroom serve printed a traceback:\n{problems}"

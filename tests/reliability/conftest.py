"""Fixtures of the reliability tests: a real `warroom serve` process (`tests.kit.harness`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kit.harness import Hub, isolated_env


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The isolated environment of this test's processes."""
    return isolated_env(tmp_path)


@pytest.fixture
def hub(tmp_path: Path, env: dict[str, str]) -> Iterator[Hub]:
    """A running hub on a fresh SQLite file, stopped (and checked for tracebacks) at teardown."""
    running = Hub(tmp_path, env)
    running.start()
    try:
        yield running
    finally:
        running.close()
    problems = running.server_stderr()
    assert "Traceback" not in problems, f"warroom serve printed a traceback:\n{problems}"

"""Fixtures of the TUI tests: a fixed time zone for the whole tier and a fake connection."""

from __future__ import annotations

import os
import time

import pytest

from tests.kit.tui import FakeConnection

os.environ["TZ"] = "UTC"
time.tzset()


@pytest.fixture
def fake() -> FakeConnection:
    """A fresh fake link to the hub."""
    return FakeConnection()

"""Fixtures of the browser tests: a real `warroom serve`, and headless Chromium driven by
Playwright (Debian's `chromium` package, launched by its path: browser downloads are not used)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, sync_playwright

from tests.e2e.conftest import env, hub  # noqa: F401  (the e2e tier's real hub, shared)
from tests.kit.harness import ZONE

CHROMIUM = Path("/usr/bin/chromium")
ARTEFACTS = Path(__file__).parent / "artefacts"
"""Screenshots of the run, to look at (git-ignored: they are not golden files)."""


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    # A missing browser fails the tests rather than skipping them: `.ci/run` installs it.
    assert CHROMIUM.exists(), f"no browser at {CHROMIUM}: apt-get install chromium"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox"], headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile in the test processes' zone, so times read as local."""
    opened = browser.new_context(
        timezone_id=ZONE, locale="en-GB", viewport={"width": 1280, "height": 800}
    )
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture(scope="session")
def artefacts() -> Path:
    ARTEFACTS.mkdir(exist_ok=True)
    return ARTEFACTS

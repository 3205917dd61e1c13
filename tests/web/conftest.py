"""Fixtures of the browser tests: a real `warroom serve`, and headless Chromium driven by
Playwright (Debian's `chromium` package, launched by its path: browser downloads are not used)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, sync_playwright

from tests.kit.harness import ZONE, Hub, isolated_env

CHROMIUM = Path("/usr/bin/chromium")
ARTEFACTS = Path(__file__).parent / "artefacts"
"""Screenshots of the run, to look at (git-ignored: they are not golden files)."""

if not CHROMIUM.exists():  # pragma: no cover - CI installs it (.ci/run)
    pytest.skip(f"no browser at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
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


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return isolated_env(tmp_path)


@pytest.fixture
def hub(tmp_path: Path, env: dict[str, str]) -> Iterator[Hub]:
    """A running hub on a fresh database, checked for tracebacks at teardown."""
    running = Hub(tmp_path, env)
    running.start()
    try:
        yield running
    finally:
        running.close()
    problems = running.server_stderr()
    assert "Traceback" not in problems, f"warroom serve printed a traceback:\n{problems}"


@pytest.fixture(scope="session")
def artefacts() -> Path:
    ARTEFACTS.mkdir(exist_ok=True)
    return ARTEFACTS

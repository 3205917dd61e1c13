"""What a person sees of the post-mortem and the replay: SVG snapshots at a fixed terminal size,
on the seeded room (fixed times, frozen clock).

Regenerate with `pytest tests/tui/test_postmortem_snapshots.py --snapshot-update` and look at
the SVGs before committing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual.pilot import Pilot

from tests.kit.tui import FakeConnection, connect, make_app, steady

WIDE = (120, 36)


def _shot(snap_compare: Callable[..., bool], *keys: str) -> bool:
    fake = FakeConnection()

    async def run_before(pilot: Pilot[None]) -> None:
        await connect(pilot, fake)
        await pilot.press(*keys)
        await steady(pilot)

    before: Callable[[Pilot[None]], Awaitable[None]] = run_before
    return snap_compare(make_app(fake, "INC-2"), terminal_size=WIDE, run_before=before)


def test_post_mortem_screen(snap_compare):
    assert _shot(snap_compare, "R")


def test_replay_screen_at_the_sixth_event(snap_compare):
    assert _shot(snap_compare, "H", "home", "right", "right", "right", "right", "right")


def test_replay_screen_as_the_exec_group_at_the_latest_event(snap_compare):
    assert _shot(snap_compare, "H", "a", "down", "enter")

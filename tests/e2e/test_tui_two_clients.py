"""Two real terminal clients in one war room: `warroom join` in tmux panes against a real
`warroom serve`, through a live note, presence, a SIGKILL of the hub and its restart.

Each client runs in a 120x36 tmux pane with the harness's private HOME and XDG dirs and no
WARROOM_* settings; keys go in with `tmux send-keys`, the screen is read with `capture-pane`.
Every wait is a bounded poll of the screen.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest

from tests.kit.harness import Hub
from tests.kit.tmux import OFFLINE, ONLINE, TMUX, Pane, Screen, Tmux

pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")

INC = "INC-1"
TITLE = "Checkout failing in EU"
SEEDED = "Deploy 4812 rolled out"
MANAGER, RESPONDER = "morgan", "ana"

LIVE = 5.0
"""How long an event may take to reach the other client's screen."""
START = 10.0
"""How long a client may take to start, connect and paint."""
RECONNECT = 15.0
"""How long a client may take to come back after the hub restarts (backoff: 0.5, 1, 2, 4 s)."""


@pytest.fixture
def tmux(hub: Hub) -> Iterator[Tmux]:
    """A private tmux server, killed (with every client in it) before the hub stops."""
    server = Tmux()
    try:
        yield server
    finally:
        server.close()


def _in_room(screen: Screen) -> bool:
    return INC in screen and TITLE in screen and screen.presence() is not None


def _online(screen: Screen) -> bool:
    return screen.lines[0].startswith(ONLINE)


def _open(pane: Pane, who: str) -> Screen:
    """Wait until `pane` shows the war room, online, as `who`."""
    screen, _ = pane.wait_for(
        lambda s: _in_room(s) and _online(s) and f"{ONLINE}  {who} " in s,
        "in the war room and online",
        START,
    )
    return screen


def _timeline(screen: Screen) -> list[str]:
    return screen.panel("2 Timeline")


def _notes(hub: Hub) -> list[str]:
    shown = json.loads(hub.ok("show", INC, "--json"))
    return [note["text"] for note in shown["incident"]["notes"]]


def test_two_clients_share_the_war_room_across_a_hub_crash(hub: Hub, tmux: Tmux) -> None:
    manager = hub.user_add(MANAGER, "incident-manager")
    responder = hub.user_add(RESPONDER, "responder")
    assert hub.ok("declare", TITLE, "-s", "1", "--app", "checkout", token=manager).strip() == INC
    hub.ok("note", INC, SEEDED, token=manager)

    # (1) Both open the war room: header, title, online.
    alpha = tmux.join("alpha", hub.url, manager, hub.env, INC)
    bravo = tmux.join("bravo", hub.url, responder, hub.env, INC)
    for pane, who in ((alpha, MANAGER), (bravo, RESPONDER)):
        screen = _open(pane, who)
        assert screen.count(SEEDED) == 1, screen.text
        header = screen.line_with(TITLE)
        assert header is not None and INC in header and "SEV1" in header, header

    # ...and each sees both people in the room.
    for pane in (alpha, bravo):
        pane.wait_for(lambda s: s.presence() == {MANAGER, RESPONDER}, "showing both in room")

    # (2) A note typed in A reaches B's screen with no key pressed in B.
    typed = f"Rollback started from the TUI {uuid.uuid4().hex[:8]}"
    alpha.keys("n")
    alpha.wait_text("Add a note")
    alpha.type(typed)
    alpha.wait_text(typed)
    alpha.keys("C-s")
    _, waited = bravo.wait_for(lambda s: typed in s, f"showing {typed!r}", LIVE)
    screen = alpha.wait_for(
        lambda s: typed in s and "Add a note" not in s and "sending" not in s,
        "showing its own note, settled",
        LIVE,
    )[0]
    assert screen.count(typed) == 1, screen.text
    assert bravo.capture().count(typed) == 1
    for pane in (alpha, bravo):
        presence = pane.capture().presence()
        assert presence == {MANAGER, RESPONDER}, (pane.name, presence)
    assert waited < LIVE

    # (3) SIGKILL the hub: both say OFFLINE. Restart it on the same port and db: both come back.
    hub.kill()
    for pane in (alpha, bravo):
        pane.wait_for(lambda s: s.lines[0].startswith(OFFLINE), "OFFLINE", LIVE)
    hub.start(hub.port)
    for pane, who in ((alpha, MANAGER), (bravo, RESPONDER)):
        _open(pane, who)
        pane.wait_for(
            lambda s: s.presence() == {MANAGER, RESPONDER}, "showing both in room", RECONNECT
        )

    after = f"Error rate back to normal {uuid.uuid4().hex[:8]}"
    hub.ok("note", INC, after, token=responder)
    for pane in (alpha, bravo):
        pane.wait_text(after, LIVE)
    # Exactly once each, and it stays so (a replay after the reconnect adds nothing twice).
    for pane in (alpha, bravo):
        pane.hold(
            lambda s: s.count(after) == 1 and s.count(typed) == 1 and s.count(SEEDED) == 1,
            "showing each note exactly once",
            0.5,
        )

    # (4) Both show the same timeline, holding every note the hub has.
    notes = _notes(hub)
    assert notes == [SEEDED, typed, after]
    timelines = [_timeline(pane.capture()) for pane in (alpha, bravo)]
    assert timelines[0], tmux.screens()
    assert timelines[0] == timelines[1], tmux.screens()
    # The title counts the table's rows: the declaration and three notes, none of them twice
    # (a duplicate scrolled out of sight would still be counted).
    assert "2 Timeline (all, 4)" in timelines[0][0], timelines[0][0]
    for note in notes:
        assert sum(note in line for line in timelines[0]) == 1, (note, timelines[0])

    # A leaves to the lobby: B sees it leave. Both lobbies list the incident.
    alpha.keys("q")
    bravo.wait_for(lambda s: s.presence() == {RESPONDER}, "showing A gone from the room", LIVE)
    bravo.keys("q")
    for pane in (alpha, bravo):
        screen, _ = pane.wait_for(
            lambda s: "search id" in s and s.presence() is None, "in the lobby", LIVE
        )
        row = screen.line_with(INC)
        assert row is not None and TITLE in row and "SEV1" in row, screen.text
        assert _online(screen), screen.text
    assert not any(pane.dead() for pane in (alpha, bravo)), tmux.screens()


def test_an_observer_sees_the_room_and_cannot_open_a_form(hub: Hub, tmux: Tmux) -> None:
    manager = hub.user_add(MANAGER, "incident-manager")
    hub.ok("declare", TITLE, "-s", "2", token=manager)
    hub.ok("note", INC, SEEDED, token=manager)

    watcher = tmux.join("watcher", hub.url, manager, hub.env, INC, observer=True)
    screen, _ = watcher.wait_for(
        lambda s: _in_room(s) and "OBSERVER" in s and SEEDED in s, "the observer's war room", START
    )
    assert "read only" in screen.line_with("OBSERVER")  # type: ignore[operator]
    # The footer offers no edit key (it is refreshed once the role is known).
    watcher.wait_for(
        lambda s: "Filter" in s.lines[-1] and "Note" not in s.lines[-1],
        "offering no edit key in the footer",
        LIVE,
    )

    # n does nothing. f (allowed) comes after it: once its effect shows, n was handled.
    watcher.keys("n")
    watcher.keys("f")
    screen, _ = watcher.wait_for(
        lambda s: "(pinned, 0)" in s, "showing the pinned filter after n then f", LIVE
    )
    assert "Add a note" not in screen, screen.text
    assert "Note on" not in screen, screen.text

    # Live events still arrive.
    later = f"Observed live {uuid.uuid4().hex[:8]}"
    watcher.keys("f")  # notes only
    watcher.wait_text("(notes, 1)")
    hub.ok("note", INC, later, token=manager)
    watcher.wait_text(later, LIVE)
    assert not watcher.dead()


def test_an_observer_still_sees_the_link_state(hub: Hub, tmux: Tmux) -> None:
    hub.ok("declare", TITLE, "-s", "2")
    watcher = tmux.join("watcher", hub.url, hub.token, hub.env, INC, observer=True)
    watcher.wait_for(lambda s: _in_room(s) and "OBSERVER" in s, "the observer's war room", START)
    watcher.wait_text(ONLINE, 2.0)

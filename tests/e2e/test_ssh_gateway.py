"""The war room over SSH: the real OpenSSH client (`ssh -tt` in tmux) against `warroom serve
--ssh-port 0`, keys made with `ssh-keygen`, every user logged in by their key alone.

What a person at the terminal sees is read with `tmux capture-pane`; what the hub holds is read
with `warroom show --json`; what the gateway started is read from /proc. Every wait is a bounded
poll.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.kit.harness import Hub
from tests.kit.ssh import (
    GONE,
    PAINT,
    Ssh,
    alive,
    command_line,
    environ,
    exit_status,
    missing,
    new_tui,
    online_as,
    owns_its_terminal,
    tuis,
    user_with_key,
    wait_until,
)
from tests.kit.tmux import Pane, Screen, Tmux

pytestmark = pytest.mark.skipif(missing() is not None, reason=str(missing()))

INC = "INC-1"
TITLE = "Checkout failing in EU"
INTERNAL_NOTE = "Deploy 4812 rolled out"
PUBLIC_IMPACT = "EU customers cannot pay by card"
LIVE = 5.0

PEOPLE = {
    "ana": ("responder", ()),
    "bob": ("responder", ()),
    "olga": ("observer", ()),
    "carol": ("stakeholder", ("exec",)),
}


@dataclass
class Room:
    """A hub serving SSH, one incident in it, and a key for each person."""

    hub: Hub
    ssh: Ssh
    keys: dict[str, Path]

    def notes(self) -> list[tuple[str, str]]:
        shown = json.loads(self.hub.ok("show", INC, "--json"))
        return [(note["author"], note["text"]) for note in shown["incident"]["notes"]]


@pytest.fixture
def room(ssh_hub: Hub, tmp_path: Path) -> Room:
    keys: dict[str, Path] = {}
    for name, (role, groups) in PEOPLE.items():
        keys[name] = user_with_key(ssh_hub, tmp_path / "keys", name, role, *groups).key
    assert ssh_hub.ok("declare", TITLE, "-s", "1", "--app", "checkout").strip() == INC
    ssh_hub.ok("note", INC, INTERNAL_NOTE)
    ssh_hub.ok("impact", INC, PUBLIC_IMPACT, "--audience", "all")
    return Room(ssh_hub, Ssh(ssh_hub, tmp_path / "ssh"), keys)


@pytest.fixture
def tmux(room: Room) -> Iterator[Tmux]:
    """A private tmux server, killed (with every ssh client in it) before the hub stops."""
    server = Tmux()
    try:
        yield server
    finally:
        server.close()


def _in_room(pane: Pane, who: str) -> Screen:
    """Wait until `pane` shows the war room of INC-1, online, as `who`."""
    screen, _ = pane.wait_for(
        lambda s: online_as(who)(s) and TITLE in s and s.presence() is not None,
        f"{who}'s war room on {INC}",
        PAINT,
    )
    return screen


def _lobby(screen: Screen) -> bool:
    return "search id" in screen and screen.presence() is None


def test_a_responder_edits_the_incident_over_ssh_and_another_client_sees_it(
    room: Room, tmux: Tmux
) -> None:
    hub, ssh = room.hub, room.ssh
    before = tuis(hub)
    ana = ssh.open(
        tmux, "ana", room.keys["ana"], user=INC, extra=["-o", "SetEnv=COLORTERM=truecolor"]
    )
    screen = _in_room(ana, "ana")
    assert INTERNAL_NOTE in screen and "SEV1" in screen, screen.text

    # The TUI runs with the client's terminal, and with neither the server's settings nor any
    # credential but its own session token.
    pid = new_tui(hub, before)
    env = environ(pid)
    assert env["TERM"] == "xterm-256color"
    assert env["COLORTERM"] == "truecolor"
    assert env["WARROOM_TOKEN"].startswith("wrs_")
    assert not {"WARROOM_DB", "WARROOM_URL", "SSH_AUTH_SOCK"} & env.keys()
    # It is `warroom join` on the hub's URL, as `warroom serve` wired it (for a terminal on
    # another machine: see RemoteWarRoomApp), and its PTY is its controlling terminal (resizes
    # reach it).
    assert command_line(pid)[1:] == [
        "-m", "warroom", "join", "--remote-terminal", hub.url, INC
    ]  # fmt: skip
    assert owns_its_terminal(pid)

    # A second SSH session, another responder, in the same room.
    bob = ssh.open(tmux, "bob", room.keys["bob"], user=INC)
    _in_room(bob, "bob")
    for pane in (ana, bob):
        pane.wait_for(lambda s: s.presence() == {"ana", "bob"}, "showing both in the room", LIVE)

    # A key press over SSH changes the incident; bob's screen and the CLI both see it.
    typed = f"Rolled back over ssh {uuid.uuid4().hex[:8]}"
    ana.keys("n")
    ana.wait_text("Add a note")
    ana.type(typed)
    ana.wait_text(typed)
    ana.keys("C-s")
    bob.wait_text(typed, LIVE)
    assert room.notes() == [("alice", INTERNAL_NOTE), ("ana", typed)]

    # q twice (war room, lobby) quits the TUI: ssh ends with its status, the TUI is gone, and
    # its session token with it.
    ana.keys("q")
    ana.wait_for(_lobby, "in the lobby", LIVE)
    ana.keys("q")
    assert exit_status(ana) == 0, ana.capture().text
    wait_until(lambda: not alive(pid), "the TUI gone", GONE)
    refused = hub.run("list", token=env["WARROOM_TOKEN"])
    assert refused.returncode == 4, refused.stdout
    bob.wait_for(lambda s: s.presence() == {"bob"}, "showing ana gone", LIVE)


def test_the_ssh_user_name_picks_the_incident_and_never_the_user(room: Room, tmux: Tmux) -> None:
    # Ana's key, asking to be bob: she is ana, in the lobby.
    posing = room.ssh.open(tmux, "posing", room.keys["ana"], user="bob")
    screen, _ = posing.wait_for(
        lambda s: online_as("ana")(s) and _lobby(s) and INC in s, "ana's lobby", PAINT
    )
    assert "bob" not in screen.lines[0], screen.lines[0]

    # inc-1 (any case) opens that incident's war room.
    direct = room.ssh.open(tmux, "direct", room.keys["ana"], user="inc-1")
    _in_room(direct, "ana")


def test_a_resize_lays_the_war_room_out_again(room: Room, tmux: Tmux) -> None:
    ana = room.ssh.open(tmux, "ana", room.keys["ana"], user=INC)
    wide = _in_room(ana, "ana")
    assert max(len(line) for line in wide.lines) == 120
    wide_impact = wide.panel("1 Impact")
    assert wide_impact, wide.text

    tmux.run("resize-window", "-t", ana.target, "-x", "80", "-y", "30")

    def relaid(screen: Screen) -> bool:
        impact = screen.panel("1 Impact")
        return (
            len(screen.lines) == 30
            and max(len(line) for line in screen.lines) <= 80
            and bool(impact)
            and len(impact[0]) < len(wide_impact[0])
            and "Timeline" in screen
        )

    narrow, _ = ana.wait_for(relaid, "laid out again for 80x30", LIVE)
    # The whole screen is drawn for the new size: the header, the panels and the footer.
    assert online_as("ana")(narrow) and TITLE in narrow, narrow.text
    assert narrow.lines[-1].strip(), narrow.text


def test_an_observer_over_ssh_sees_the_room_and_cannot_edit(room: Room, tmux: Tmux) -> None:
    olga = room.ssh.open(tmux, "olga", room.keys["olga"], user=INC)
    screen = _in_room(olga, "olga")
    assert "OBSERVER" in screen and INTERNAL_NOTE in screen, screen.text
    olga.wait_for(
        lambda s: "Filter" in s.lines[-1] and "Note" not in s.lines[-1],
        "offering no edit key in the footer",
        LIVE,
    )
    # n does nothing; f (allowed) after it shows n was handled first.
    olga.keys("n")
    olga.keys("f")
    screen, _ = olga.wait_for(lambda s: "(pinned, 0)" in s, "the pinned filter", LIVE)
    assert "Add a note" not in screen, screen.text
    olga.keys("i")
    olga.keys("f")
    screen, _ = olga.wait_for(lambda s: "(notes, 1)" in s, "the notes filter", LIVE)
    assert "Impact statement" not in screen and "Add a note" not in screen, screen.text
    assert room.notes() == [("alice", INTERNAL_NOTE)]


def test_a_stakeholder_over_ssh_sees_the_stakeholder_view(room: Room, tmux: Tmux) -> None:
    carol = room.ssh.open(tmux, "carol", room.keys["carol"], user=INC)
    screen, _ = carol.wait_for(
        lambda s: online_as("carol")(s) and PUBLIC_IMPACT in s, "carol's view of INC-1", PAINT
    )
    assert "carol (stakeholder)" in screen.lines[0], screen.lines[0]
    # What is internal never reaches her screen.
    carol.hold(lambda s: INTERNAL_NOTE not in s, "hiding the internal note", 1.0)

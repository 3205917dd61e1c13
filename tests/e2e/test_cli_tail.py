"""`warroom tail`: live events within a second, across a hub restart, filtered by audience."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.kit.harness import ZONE, Hub, Spawned

INC = "INC-1"
CONNECT_TIMEOUT = 15.0
LIVE_LATENCY = 1.0


def _event(line: str) -> dict[str, Any]:
    data = json.loads(line)
    assert set(data) == {"seq", "event"}, line
    event: dict[str, Any] = data["event"]
    return event


def _is_note(text: str) -> Callable[[str], bool]:
    def matches(line: str) -> bool:
        event = _event(line)
        return bool(event["type"] == "note.added" and event.get("text") == text)

    return matches


def _wait_until_live(hub: Hub, tail: Spawned) -> None:
    """Add probe notes until the tail prints one: from then on it is subscribed."""
    deadline = time.monotonic() + CONNECT_TIMEOUT
    attempt = 0
    while True:
        attempt += 1
        hub.ok("note", INC, f"probe {attempt}")
        try:
            tail.lines.wait_for(lambda line: _event(line).get("text", "").startswith("probe "), 1.0)
            return
        except TimeoutError:
            assert tail.proc.poll() is None, f"tail exited {tail.proc.returncode}: {tail.stderr()}"
            if time.monotonic() > deadline:
                pytest.fail(f"tail printed nothing in {CONNECT_TIMEOUT}s: {tail.stderr()}")


def test_tail_is_live_and_resumes_after_a_restart(hub: Hub) -> None:
    assert hub.ok("declare", "Payments degraded", "-s", "2") == f"{INC}\n"
    tail = hub.spawn("tail", "--json")
    _wait_until_live(hub, tail)

    hub.ok("note", INC, "first live note")
    returned = time.monotonic()
    arrived, line = tail.lines.wait_for(_is_note("first live note"), 5.0)
    assert arrived - returned <= LIVE_LATENCY, f"printed {arrived - returned:.2f}s after the ack"
    first = json.loads(line)
    assert first["event"]["incident"] == INC
    assert first["event"]["actor"] == "alice"

    port = hub.port
    hub.restart()
    assert hub.port == port
    assert tail.proc.poll() is None, f"tail ended with the hub: {tail.stderr()}"

    hub.ok("note", INC, "after the restart")
    _, line = tail.lines.wait_for(_is_note("after the restart"), CONNECT_TIMEOUT)
    second = json.loads(line)
    assert second["seq"] > first["seq"]
    tail.lines.drain(0.5)

    printed = [json.loads(text) for text in tail.lines.texts()]
    seqs = [item["seq"] for item in printed]
    assert seqs == sorted(set(seqs)), f"repeated or out of order: {seqs}"
    texts = [item["event"].get("text") for item in printed]
    assert texts.count("first live note") == 1
    assert texts.count("after the restart") == 1
    assert texts[-2:] == ["first live note", "after the restart"]

    assert tail.interrupt() == 0
    assert tail.stderr() == ""


def test_tail_shows_each_user_what_their_audience_allows(hub: Hub) -> None:
    hub.ok("declare", "Payments degraded", "-s", "2")
    hub.ok("declare", "Unrelated search outage", "-s", "4")
    carol = hub.user_add("carol", "stakeholder", "exec")
    hub.user_add("dave", "stakeholder", "support")  # a note for support must reach someone
    exec_tail = hub.spawn("tail", "--json", "--all", token=carol)
    room_tail = hub.spawn("tail", INC, "--all")  # text, one incident, the incident manager
    for tail in (exec_tail, room_tail):  # --all replays the declaration: then it is connected
        tail.lines.wait_for(lambda line: "declared" in line, CONNECT_TIMEOUT)

    hub.ok("note", INC, "internal detail")
    hub.ok("note", INC, "for the executives", "--audience", "exec")
    hub.ok("note", INC, "for support", "--audience", "support")
    hub.ok("note", "INC-2", "another incident")
    hub.ok("note", INC, "for everyone", "--audience", "all")

    # Events arrive in log order: once the last is printed, nothing hidden came before it.
    exec_tail.lines.wait_for(_is_note("for everyone"), 5.0)
    exec_events = [_event(line) for line in exec_tail.lines.texts()]
    exec_notes = [event["text"] for event in exec_events if event["type"] == "note.added"]
    assert exec_notes == ["for the executives", "for everyone"]
    declared = [e["incident"] for e in exec_events if e["type"] == "incident.declared"]
    assert declared == [INC, "INC-2"]

    room_tail.lines.wait_for(lambda line: "for everyone" in line, 5.0)
    room = room_tail.lines.texts()
    assert all(f"  {INC}  " in line for line in room), room
    assert not any("another incident" in line for line in room)
    notes = [line for line in room if " note N" in line]
    assert [line.split(": ", 1)[1] for line in notes] == [
        "internal detail",
        "for the executives",
        "for support",
        "for everyone",
    ]
    assert "note N2 [to exec]: " in notes[1]
    for line in notes:
        assert re.match(rf"^\d{{4}}-\d\d-\d\d \d\d:\d\d  {INC}    alice        note N\d", line)
    # The time is local (Europe/Paris), not UTC.
    everyone = next(e for e in exec_events if e.get("text") == "for everyone")
    at = datetime.fromisoformat(everyone["at"].replace("Z", "+00:00"))
    assert notes[-1].startswith(at.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%d %H:%M  "))

    assert exec_tail.interrupt() == 0
    assert room_tail.interrupt() == 0

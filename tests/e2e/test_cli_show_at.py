"""`warroom show INC --at TIME [--as AUDIENCE]` against a real hub: the room as it stood at that
moment, folded from the events recorded up to then, as the war room or an audience had it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from tests.kit.harness import Hub, concurrently

CANARY = "CANARY-internal-show-at"


def test_show_at_prints_the_room_as_it_stood_then(hub: Hub) -> None:
    incident = hub.ok("declare", "Checkout failing", "-s", "1").strip()
    hub.ok("note", incident, "first, for everyone", "--audience", "all")
    hub.ok("note", incident, f"second {CANARY}")
    hub.ok("status", incident, "identified")
    events = json.loads(hub.ok("export", incident))["events"]
    declared = datetime.fromisoformat(events[0]["event"]["at"])
    first = events[1]["event"]["at"]

    then, data, execs, now, early, bad = concurrently(
        lambda: hub.run("show", incident, "--at", first),
        lambda: hub.run("show", incident, "--at", first, "--json"),
        lambda: hub.run("show", incident, "--at", first, "--as", "all"),
        lambda: hub.run("show", incident, "--at", "+1h", "--as", "all"),
        lambda: hub.run("show", incident, "--at", (declared - timedelta(days=1)).isoformat()),
        lambda: hub.run("show", incident, "--at", "soon"),
    )
    assert then.returncode == 0, then.stderr
    assert then.stdout.startswith("as it stood at ")
    assert "first, for everyone" in then.stdout
    assert CANARY not in then.stdout and "identified" not in then.stdout
    shown = json.loads(data.stdout)
    assert datetime.fromisoformat(shown["at"]) == datetime.fromisoformat(first)
    assert [note["text"] for note in shown["incident"]["notes"]] == ["first, for everyone"]
    assert shown["incident"]["status"] == "investigating"
    assert "first, for everyone" in execs.stdout and CANARY not in execs.stdout
    assert "identified" in now.stdout and CANARY not in now.stdout
    assert early.returncode == 1 and "was not declared yet" in early.stderr
    assert bad.returncode == 2 and "cannot read the time 'soon'" in bad.stderr

"""Private incidents and the leak scan over real processes: `declare --private`, `invite`,
`privacy`; what `list`, `show`, `export` and `tail` print to the uninvited and to a group-A
stakeholder holds no canary, and the positions a stakeholder's tail prints are opaque."""

from __future__ import annotations

import json
import re

from tests.kit.harness import Hub, Spawned

CONNECT_TIMEOUT = 15.0
CANARY = "CANARY"


def _tail_until(tail: Spawned, text: str) -> list[str]:
    """Wait until the tail prints `text`; every line it printed so far."""
    tail.lines.wait_for(lambda line: text in line, CONNECT_TIMEOUT)
    return tail.lines.texts()


def test_a_private_incident_is_invisible_to_the_uninvited_in_every_verb(hub: Hub) -> None:
    ana = hub.user_add("ana", "responder")
    uma = hub.user_add("uma", "responder")
    carol = hub.user_add("carol", "stakeholder", "exec")
    uma_tail = hub.spawn("tail", "--json", "--all", token=uma)
    carol_tail = hub.spawn("tail", "--json", "--all", token=carol)
    public = hub.ok("declare", "Public outage", "-s", "3").strip()
    for tail in (uma_tail, carol_tail):
        tail.lines.wait_for(lambda line: "Public outage" in line, CONNECT_TIMEOUT)

    private = hub.ok("declare", f"{CANARY} breach", "-s", "1", "--private", "--app", "vault")
    private = private.strip()
    assert re.fullmatch(r"INC-P[0-9A-Z]{6}", private), private  # its id counts nothing
    hub.ok("note", private, f"{CANARY} forensics", "--audience", "all")
    hub.ok("invite", private, "ana")
    hub.ok("invite", private, "carol")
    assert "ana" in hub.ok("show", private, token=ana)
    hub.ok("note", public, "after the secret work", "--audience", "all")

    refusals = {}
    for incident in (private, "INC-P99"):
        shown = hub.run("show", incident, token=uma)
        exported = hub.run("export", incident, token=uma)
        noted = hub.run("note", incident, "x", token=uma)
        refusals[incident] = [
            (r.returncode, r.stderr.replace(incident, "X")) for r in (shown, exported, noted)
        ]
    # The uninvited cannot tell the private incident from one that never existed.
    assert refusals[private] == refusals["INC-P99"]
    assert all(code != 0 for code, _ in refusals[private])
    listed = hub.ok("list", "--json", token=uma)
    assert [row["id"] for row in json.loads(listed)] == [public]

    uma_lines = _tail_until(uma_tail, "after the secret work")
    assert not any(CANARY in line or private in line for line in uma_lines)
    # carol was invited while her tail ran: it goes on, now with the incident's future.
    hub.ok("note", private, "for the invited execs", "--audience", "exec")
    carol_lines = _tail_until(carol_tail, "for the invited execs")
    assert uma_tail.interrupt() == 0 and carol_tail.interrupt() == 0
    assert any(private in line for line in carol_lines)
    # And a fresh look shows carol the whole of it she may see, history included.
    seen = json.loads(hub.ok("show", private, "--json", token=carol))["incident"]
    assert [note["text"] for note in seen["notes"]] == [
        f"{CANARY} forensics",
        "for the invited execs",
    ]

    hub.ok("privacy", private, "public")
    assert private in hub.ok("list", token=uma)
    refused = hub.run("invite", public, "nobody-such")
    assert refused.returncode == 1 and "no active user named nobody-such" in refused.stderr


def test_a_group_a_tail_prints_no_canary_and_no_plain_position(hub: Hub) -> None:
    erin = hub.user_add("erin", "stakeholder", "exec")
    sam = hub.user_add("sam", "stakeholder", "support")
    incident = hub.ok("declare", "Checkout failing", "-s", "1").strip()
    erin_tail = hub.spawn("tail", "--json", "--all", token=erin)
    erin_tail.lines.wait_for(lambda line: "incident.declared" in line, CONNECT_TIMEOUT)

    hub.ok("note", incident, f"{CANARY} internal note")
    hub.ok("note", incident, f"{CANARY} support only", "--audience", "support")
    hub.ok("action", incident, f"{CANARY} internal action")
    hub.ok("mitigate", incident, f"{CANARY} support fix", "--audience", "support")
    hub.ok("impact", incident, f"{CANARY} internal impact")
    hub.ok("ask", incident, f"{CANARY} sam asks", token=sam)
    hub.ok("answer", incident, "Q1", f"{CANARY} only for sam")
    hub.ok("action-state", incident, "A1", "done")
    secret = hub.ok("declare", f"{CANARY} private", "-s", "2", "--private").strip()
    hub.ok("note", secret, f"{CANARY} in the private room", "--audience", "all")
    hub.ok("note", incident, "for the execs", "--audience", "exec")
    hub.ok("note", incident, "for everyone", "--audience", "all")

    lines = _tail_until(erin_tail, "for everyone")
    assert erin_tail.interrupt() == 0
    # Catch-up from the start prints the same, in a second process.
    again = hub.spawn("tail", "--json", "--all", token=erin)
    replayed = _tail_until(again, "for everyone")
    assert again.interrupt() == 0
    for printed in (lines, replayed):
        assert [line for line in printed if CANARY in line or "sam" in line] == []
        texts = [json.loads(line)["event"].get("text") for line in printed]
        assert texts.count("for the execs") == 1 and texts.count("for everyone") == 1
        positions = [json.loads(line)["seq"] for line in printed]
        assert all(isinstance(p, str) and re.match(r"^c[0-9a-f]{16}$", p) for p in positions)
    assert [json.loads(line)["seq"] for line in lines] == [
        json.loads(line)["seq"] for line in replayed
    ]

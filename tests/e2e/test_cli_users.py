"""`warroom user add/list/revoke` on the hub's database while the hub runs."""

from __future__ import annotations

import json

from tests.kit.harness import MANAGER, Hub, concurrently

INC = "INC-1"


def test_user_list_and_revoke(hub: Hub) -> None:
    hub.ok("declare", "Checkout failing", "-s", "2")
    bob, carol = concurrently(
        lambda: hub.user_add("bob", "responder"),
        lambda: hub.user_add("carol", "stakeholder", "support", "exec"),
    )
    assert bob != carol and hub.token not in (bob, carol)
    bob_tail = hub.spawn("tail", "--json", "--all", token=bob)
    bob_tail.lines.wait_for(lambda line: "incident.declared" in line, 15)

    listed = hub.admin("user", "list")
    assert listed.returncode == 0, listed.stderr
    rows = [line.split() for line in listed.stdout.splitlines()]
    assert rows == [
        [MANAGER, "incident-manager", "-", "active"],
        ["bob", "responder", "-", "active"],
        ["carol", "stakeholder", "exec,support", "active"],
    ]

    revoked = hub.admin("user", "revoke", "bob")
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout == "revoked bob\n"

    users = json.loads(hub.admin("user", "list", "--json").stdout)
    assert [(u["name"], u["role"], u["groups"], u["revoked"]) for u in users] == [
        (MANAGER, "incident-manager", [], False),
        ("bob", "responder", [], True),
        ("carol", "stakeholder", ["exec", "support"], False),
    ]

    refused = hub.run("note", INC, "from a revoked token", token=bob)
    assert refused.returncode == 4
    assert refused.stderr.splitlines() == [
        f"warroom: {hub.url} refused the token (unknown or revoked)"
    ]
    assert hub.ok("show", INC, "--json", token=carol)  # the others are unaffected
    assert hub.ok("note", INC, "the manager still writes")

    again, taken, grouped = concurrently(
        lambda: hub.admin("user", "revoke", "bob"),
        lambda: hub.admin("user", "add", "bob", "--role", "responder"),
        lambda: hub.admin("user", "add", "erin", "--role", "responder", "--group", "exec"),
    )
    assert again.returncode == 1
    assert again.stderr.strip() == "warroom: there is no active user named bob"
    assert taken.returncode == 1
    assert "already exists" in taken.stderr
    assert taken.stdout == ""
    assert grouped.returncode == 1
    assert "only stakeholders" in grouped.stderr

    # A revoked user's tail may not reconnect: after a restart it ends with exit code 4.
    hub.restart()
    assert bob_tail.wait(15) == 4
    assert "refused the token" in bob_tail.stderr()
    assert "Traceback" not in bob_tail.stderr()

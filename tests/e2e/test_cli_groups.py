"""Names that exist: an audience or group nobody holds is refused by every verb that takes one,
in one line with the groups there are, exit 1 (real `warroom` processes, real hub)."""

from __future__ import annotations

import json

import pytest

from tests.kit.harness import Hub

KNOWN = "known groups: exec, support"


@pytest.fixture
def room(hub: Hub) -> str:
    hub.user_add("carol", "stakeholder", "exec")
    hub.user_add("dave", "stakeholder", "support")
    incident = hub.ok("declare", "Checkout failing", "-s", "1").strip()
    hub.ok("note", incident, "first")
    carol = hub.user_add("erin", "stakeholder", "exec")
    hub.ok("ask", incident, "Is it fixed?", token=carol)
    return incident


VERBS = [
    ("audience", "{inc}", "N1", "execs"),
    ("note", "{inc}", "for the board", "--audience", "execs"),
    ("note", "{inc}", "two groups", "--audience", "exec,execs"),
    ("action", "{inc}", "call the bank", "--audience", "execs"),
    ("mitigate", "{inc}", "pay by invoice", "--audience", "execs"),
    ("impact", "{inc}", "cards fail", "--audience", "execs"),
    ("answer", "{inc}", "Q1", "Not yet", "--audience", "execs"),
    ("show", "{inc}", "--as", "execs"),
]


@pytest.mark.parametrize("args", VERBS, ids=lambda args: "-".join(args[:1] + args[-1:]))
def test_an_unknown_group_is_refused_in_one_line_with_the_known_ones(
    hub: Hub, room: str, args: tuple[str, ...]
) -> None:
    before = hub.ok("export", room)
    refused = hub.run(*(arg.format(inc=room) for arg in args))
    assert refused.returncode == 1, refused.stderr
    assert refused.stderr.count("\n") == 1, refused.stderr
    assert refused.stderr == f"warroom: no stakeholder is in group execs; {KNOWN}\n"
    after = json.loads(hub.ok("export", room))
    assert [e["seq"] for e in after["events"]] == [e["seq"] for e in json.loads(before)["events"]]


def test_json_names_the_error_code(hub: Hub, room: str) -> None:
    refused = hub.run("note", room, "x", "--audience", "execs", "--json")
    assert refused.returncode == 1
    assert json.loads(refused.stdout) == {
        "error": "unknown-group",
        "message": f"no stakeholder is in group execs; {KNOWN}",
    }


def test_a_group_that_exists_is_accepted_and_a_new_one_once_someone_holds_it(
    hub: Hub, room: str
) -> None:
    hub.ok("note", room, "for exec and support", "--audience", "support, exec")
    hub.ok("audience", room, "N1", "exec")
    assert "for the board" not in hub.ok("show", room, "--as", "exec")
    hub.user_add("fiona", "stakeholder", "board")
    hub.ok("note", room, "for the board", "--audience", "board")
    assert "for the board" in hub.ok("show", room, "--as", "board")

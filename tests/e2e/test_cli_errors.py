"""Failures end with the documented exit code and a one-line reason, never a traceback.

Exit codes (warroom/cli.py): 1 refused, 2 bad usage, 3 conflict, 4 cannot reach or log in.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from typing import Any

from tests.kit.harness import Hub, concurrently, free_port, warroom

INC = "INC-1"


def _reason(result: subprocess.CompletedProcess[str], code: int) -> str:
    """Check the exit code and that stderr is one `warroom: ...` line; return that line."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("warroom: "), lines[0]
    return lines[0]


def _usage(result: subprocess.CompletedProcess[str]) -> str:
    """Bad usage: exit 2, the usage and then the one-line reason."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == ""
    return result.stderr.splitlines()[-1]


def _state(hub: Hub) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(hub.ok("export", INC))
    del document["exported_at"]
    return document


Run = Callable[[], subprocess.CompletedProcess[str]]


def _expect(checks: list[tuple[Run, int, str]]) -> None:
    """Run independent commands at once; each must fail with its exit code and reason."""
    results = concurrently(*(run for run, _, _ in checks))
    for (_, code, fragment), result in zip(checks, results, strict=True):
        line = _usage(result) if code == 2 else _reason(result, code)
        assert fragment in line, (fragment, line)


def test_cannot_log_in_or_reach_the_hub(hub: Hub) -> None:
    port = free_port()
    gone = f"--url=ws://127.0.0.1:{port}"
    token = f"--token={hub.token}"
    unreachable = f"cannot reach the war room at ws://127.0.0.1:{port}"
    _expect(
        [
            (lambda: hub.run("list", token="not-a-valid-token"), 4, "refused the token"),
            (lambda: warroom("list", gone, token, env=hub.env), 4, unreachable),
            (lambda: warroom("declare", "X", "-s", "1", gone, token, env=hub.env), 4, unreachable),
            (lambda: warroom("show", INC, gone, token, env=hub.env), 4, unreachable),
            (
                lambda: warroom("list", "--url=http://127.0.0.1:80", token, env=hub.env),
                4,
                "is not a websocket URL",
            ),
            # tail retries an unreachable hub for ever, but a refused token ends it.
            (
                lambda: warroom("tail", f"--url={hub.url}", "--token=not-valid", env=hub.env),
                4,
                "refused the token",
            ),
            (lambda: warroom("list", f"--url={hub.url}", env=hub.env), 4, "no token for"),
        ]
    )
    as_json = hub.run("list", "--json", token="not-a-valid-token")
    _reason(as_json, 4)
    assert json.loads(as_json.stdout)["error"] == "unauthorized"


def test_refusals_and_bad_usage(hub: Hub) -> None:
    hub.ok("declare", "Checkout failing", "-s", "2", "--app", "checkout")
    before = _state(hub)

    _expect(
        [
            (lambda: hub.run("show", "INC-99"), 1, "INC-99"),
            (lambda: hub.run("status", "INC-99", "identified"), 1, "INC-99"),
            (lambda: hub.run("impact", "INC-99", "statement"), 1, "INC-99"),
            (lambda: hub.run("action-state", INC, "A9", "done"), 1, "has no action A9"),
            (lambda: hub.run("status", INC, "investigating"), 1, "already investigating"),
            (lambda: hub.run("note", INC, "later", "--at", "+1h"), 1, "in the future"),
            (lambda: hub.run("note", INC, "-", input="  \n"), 1, "the note is empty"),
            (
                lambda: hub.run("status", INC, "bogus"),
                2,
                "warroom: unknown status 'bogus': use one of investigating",
            ),
            (lambda: hub.run("declare", "Nope", "-s", "9"), 2, "unknown severity"),
            (lambda: hub.run("note", INC, "x", "--at", "yesterday"), 2, "cannot read the time"),
            (lambda: hub.run("action-state", INC, "X1", "done"), 2, "bad id"),
            (lambda: hub.run("frobnicate"), 2, "invalid choice"),
        ]
    )
    nothing = hub.run()
    assert nothing.returncode == 2
    assert "usage: warroom" in nothing.stdout

    as_json = hub.run("status", "INC-99", "identified", "--json")
    _reason(as_json, 1)
    assert json.loads(as_json.stdout)["error"] == "not-found"

    assert _state(hub) == before  # nothing was recorded


def test_observer_and_stakeholder_may_not_edit(hub: Hub) -> None:
    hub.ok("declare", "Checkout failing", "-s", "2")
    hub.ok("note", INC, "a note by the incident manager")
    olga, carol, bob = concurrently(
        lambda: hub.user_add("olga", "observer"),
        lambda: hub.user_add("carol", "stakeholder", "exec"),
        lambda: hub.user_add("bob", "responder"),
    )
    hub.ok("ask", INC, "Any news?", token=carol)
    before = _state(hub)

    _expect(
        [
            (
                lambda: hub.run("note", INC, "observers only read", token=olga),
                1,
                "a user with role observer may not add notes",
            ),
            (lambda: hub.run("declare", "Another", "-s", "3", token=olga), 1, "may not"),
            (lambda: hub.run("note", INC, "stakeholders ask", token=carol), 1, "may not"),
            (lambda: hub.run("answer", INC, "Q1", "self-service", token=carol), 1, "may not"),
            (lambda: hub.run("answer", INC, "Q1", "responders", token=bob), 1, "may not"),
        ]
    )

    assert _state(hub) == before
    seen = json.loads(hub.ok("show", INC, "--json", token=olga))  # observers do read
    assert [note["text"] for note in seen["incident"]["notes"]] == [
        "a note by the incident manager"
    ]


def test_a_stale_impact_edit_is_a_conflict(hub: Hub) -> None:
    bob, _ = concurrently(
        lambda: hub.user_add("bob", "responder"),
        lambda: hub.ok("declare", "Checkout failing", "-s", "1"),
    )
    hub.ok("impact", INC, "Bob's statement", token=bob)

    stale = hub.run("impact", INC, "My statement", "--based-on", "0")
    assert stale.returncode == 3, stale.stderr
    assert stale.stdout == ""
    assert stale.stderr.splitlines() == [
        f"warroom: the impact statement of {INC} changed since version 0: "
        "version 1 by bob is current",
        "  current (v1, by bob): Bob's statement",
        "  yours: My statement",
        "  re-run with --based-on 1 to replace it, or --force",
    ]
    as_json = hub.run("impact", INC, "My statement", "--based-on", "0", "--json")
    assert as_json.returncode == 3
    detail = json.loads(as_json.stdout)
    assert detail["error"] == "conflict"
    assert detail["current"]["statement"] == "Bob's statement"
    assert detail["current"]["version"] == 1
    assert detail["yours"] == "My statement"
    assert json.loads(hub.ok("show", INC, "--json"))["incident"]["impact"]["version"] == 1

    forced = hub.ok("impact", INC, "My statement", "--based-on", "0", "--force")
    assert "impact v2 (forced over a newer version): My statement" in forced
    fresh = hub.ok("impact", INC, "Agreed statement", "--based-on", "2")
    assert "forced" not in fresh

    document = json.loads(hub.ok("export", INC))
    impacts = [e["event"] for e in document["events"] if e["event"]["type"] == "impact.updated"]
    assert [(e["version"], e["actor"], e["forced"]) for e in impacts] == [
        (1, "bob", False),
        (2, "alice", True),
        (3, "alice", False),
    ]
    assert document["incident"]["impact"]["statement"] == "Agreed statement"

    # The ETA is versioned the same way.
    hub.ok("eta", INC, "+1h", token=bob)
    stale_eta = hub.run("eta", INC, "+2h", "--based-on", "0")
    assert stale_eta.returncode == 3, stale_eta.stderr
    lines = stale_eta.stderr.splitlines()
    # Both times in local time, as people read them (not raw UTC ISO).
    assert re.fullmatch(r"  current \(v1, by bob\): \d{4}-\d\d-\d\d \d\d:\d\d", lines[1])
    assert re.fullmatch(r"  yours: \d{4}-\d\d-\d\d \d\d:\d\d", lines[2])
    assert lines[1][-16:] < lines[2][-16:]  # theirs is +1h, yours +2h


def test_a_stale_impact_edit_from_stdin_shows_the_statement(hub: Hub) -> None:
    hub.ok("declare", "Checkout failing", "-s", "1")
    hub.ok("impact", INC, "The first statement")
    stale = hub.run("impact", INC, "-", "--based-on", "0", input="Read from stdin\n")
    assert stale.returncode == 3, stale.stderr
    assert "  yours: Read from stdin" in stale.stderr.splitlines()

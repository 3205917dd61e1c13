"""A whole incident driven from the shell, then read back with export, show and list."""

from __future__ import annotations

import itertools
import json
import re
import stat
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.kit.harness import MANAGER, ZONE, Hub, concurrently, warroom

INC = "INC-1"
TITLE = "Checkout failing in EU"
IMPACT = "EU customers cannot pay by card"
DEPLOY_NOTE = "Deploy 4812 rolled out"
POD_OUTPUT = (
    "NAME                        READY   STATUS             RESTARTS\n"
    "checkout-7d9f8b6c4-abcde    1/1     Running            0\n"
    "checkout-7d9f8b6c4-fghij    0/1     CrashLoopBackOff   7\n"
)
ACTION = "Roll back deploy 4812"
SECOND_ACTION = "Page the payments team"
WORKAROUND = "Route EU traffic via US region"
QUESTION = "When can EU customers pay again?"
OTHER_QUESTION = "Is any card data lost?"
ANSWER = "A workaround is live; the full fix is expected within two hours."


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _local(text: str) -> str:
    return _time(text).astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%d %H:%M")


def _utc(text: str) -> str:
    return _time(text).strftime("%Y-%m-%d %H:%M")


def test_full_incident_flow(hub: Hub) -> None:
    declared = hub.run(
        "declare", TITLE, "--severity", "1", "--app", "checkout", "--app", "payments"
    )
    assert declared.returncode == 0, declared.stderr
    assert declared.stdout == f"{INC}\n"
    assert declared.stderr == ""

    assert "status identified (was investigating)" in hub.ok("status", INC, "identified")
    assert "severity SEV2 (was SEV1)" in hub.ok("severity", INC, "2")
    out = hub.ok("impact", INC, IMPACT, "--customer-facing", "--audience", "all")
    assert f"impact v1, customer-facing [to all]: {IMPACT}" in out
    assert "high confidence, v1" in hub.ok("eta", INC, "+2h", "--confidence", "high")
    assert "application search affected" in hub.ok("app", INC, "add", "search")
    assert "application payments no longer affected" in hub.ok("app", INC, "remove", "payments")

    out = hub.ok("note", INC, DEPLOY_NOTE, "--at", "-15m", "--pin")
    assert "note N1 [pinned] (at " in out and DEPLOY_NOTE in out
    out = hub.ok("note", INC, "-", input=POD_OUTPUT)  # `kubectl get pods | warroom note INC -`
    assert "note N2: NAME" in out

    assert f"action A1 [next]: {ACTION}" in hub.ok("action", INC, ACTION)
    assert "action A1 in-progress (was next)" in hub.ok("action-state", INC, "A1", "in-progress")
    assert "action A1 owner bob" in hub.ok("action-owner", INC, "A1", "bob")
    assert "action A1 done (was in-progress)" in hub.ok("action-state", INC, "a1", "done")
    assert "(owner dave)" in hub.ok("action", INC, SECOND_ACTION, "--owner", "dave")

    assert "workaround M1 for checkout" in hub.ok("mitigate", INC, WORKAROUND, "--app", "checkout")
    verified = json.loads(hub.ok("mitigation-state", INC, "M1", "verified", "--json"))
    assert [event["type"] for event in verified["events"]] == ["mitigation.state-changed"]
    assert verified["events"][0]["state"] == "verified"

    carol = hub.user_add("carol", "stakeholder", "exec")
    # A stakeholder's numbers are disguised: they must not count the questions of others.
    first = hub.ok("ask", INC, QUESTION, token=carol)
    second = hub.ok("ask", INC, OTHER_QUESTION, token=carol)
    assert re.search(r"question Q\d+: ", first) and re.search(r"question Q\d+: ", second)
    assert "question Q1: " not in first + second and "question Q2: " not in first + second
    assert "question Q1 answered: " in hub.ok("answer", INC, "Q1", ANSWER)
    assert "question Q2 dismissed: duplicate of Q1" in hub.ok(
        "dismiss", INC, "Q2", "--reason", "duplicate of Q1"
    )

    # Read it all back at once (nothing changes any more) ---------------------------------------
    exported, page, shown, listed, resolved, carols = concurrently(
        lambda: hub.ok("export", INC, "--format", "json"),
        lambda: hub.ok("show", INC),
        lambda: hub.ok("show", INC, "--json"),
        lambda: hub.ok("list", "--json"),
        lambda: hub.ok("list", "--status", "resolved", "--json"),
        lambda: hub.ok("show", INC, "--json", token=carol),
    )

    # The export holds all of it --------------------------------------------------------------
    document = json.loads(exported)
    assert document["format"] == "warroom-export"
    assert document["version"] == 1
    incident = document["incident"]
    assert incident["id"] == INC
    assert incident["title"] == TITLE
    assert incident["severity"] == "SEV2"
    assert incident["status"] == "identified"
    assert incident["apps"] == ["checkout", "search"]
    assert incident["declared_by"] == MANAGER
    assert incident["manager"] == MANAGER
    assert incident["resolved_at"] is None

    impact = incident["impact"]
    assert impact["statement"] == IMPACT
    assert impact["customer_facing"] is True
    assert impact["audience"] == "all"
    assert impact["version"] == 1
    assert impact["updated_by"] == MANAGER

    eta = incident["eta"]
    assert eta["confidence"] == "high"
    assert eta["version"] == 1
    assert eta["set_by"] == MANAGER
    ahead = _time(eta["eta"]) - _time(eta["set_at"])
    assert timedelta(hours=2) - timedelta(seconds=30) < ahead <= timedelta(hours=2)
    assert [revision["version"] for revision in incident["eta_history"]] == [1]

    notes = incident["notes"]
    assert [note["id"] for note in notes] == [1, 2]
    deploy, pods = notes
    assert deploy["text"] == DEPLOY_NOTE
    assert deploy["pinned"] is True
    assert deploy["author"] == MANAGER
    backdated = _time(deploy["recorded_at"]) - _time(deploy["occurred_at"])
    assert timedelta(minutes=15) <= backdated < timedelta(minutes=15, seconds=30)
    assert pods["text"] == POD_OUTPUT.strip()  # the lines of the piped output are all kept
    assert pods["text"].count("\n") == 2
    assert pods["pinned"] is False
    assert pods["occurred_at"] == pods["recorded_at"]

    first, second = incident["actions"]
    assert (first["id"], first["text"], first["state"], first["owner"]) == (
        1,
        ACTION,
        "done",
        "bob",
    )
    assert (second["id"], second["state"], second["owner"]) == (2, "next", "dave")

    (mitigation,) = incident["mitigations"]
    assert mitigation["text"] == WORKAROUND
    assert mitigation["state"] == "verified"
    assert mitigation["apps"] == ["checkout"]

    answered, dismissed = incident["questions"]
    assert (answered["id"], answered["text"], answered["asker"]) == (1, QUESTION, "carol")
    assert answered["state"] == "answered"
    assert answered["answer"] == ANSWER
    assert answered["answered_by"] == MANAGER
    assert answered["answer_audience"] is None
    assert (dismissed["id"], dismissed["asker"], dismissed["state"]) == (2, "carol", "dismissed")

    events = document["events"]
    seqs = [item["seq"] for item in events]
    assert all(a < b for a, b in itertools.pairwise(seqs)), seqs
    assert seqs == list(range(1, len(seqs) + 1))  # the only incident: its log is gapless
    assert [item["event"]["type"] for item in events] == [
        "incident.declared",
        "status.changed",
        "severity.changed",
        "impact.updated",
        "eta.set",
        "app.added",
        "app.removed",
        "note.added",
        "note.added",
        "action.added",
        "action.state-changed",
        "action.assigned",
        "action.state-changed",
        "action.added",
        "mitigation.added",
        "mitigation.state-changed",
        "question.asked",
        "question.asked",
        "question.answered",
        "question.dismissed",
    ]
    by_seq = {item["seq"]: item["event"] for item in events}
    assert by_seq[verified["seq"]]["type"] == "mitigation.state-changed"
    assert all(item["event"]["incident"] == INC for item in events)
    impact_event = next(e["event"] for e in events if e["event"]["type"] == "impact.updated")
    assert impact_event["forced"] is False
    assert impact_event["version"] == 1
    asked = [e["event"]["actor"] for e in events if e["event"]["type"] == "question.asked"]
    assert asked == ["carol", "carol"]

    # `show` prints the panels, in local time ---------------------------------------------------
    lines = page.splitlines()
    assert lines[0] == f"{INC}  SEV2  identified  {TITLE}"
    assert "applications: checkout, search" in lines
    assert f"ETA {_local(eta['eta'])} (" in page and "high confidence, v1 by alice)" in page
    for panel in ("Impact (v1, customer-facing [to all])", "Timeline", "Progress", "Mitigation"):
        assert panel in lines, panel
    assert f"  {IMPACT}" in lines
    assert f" ~A1 [done] (owner bob): {ACTION}" in lines
    assert f"  A2 [next] (owner dave): {SECOND_ACTION}" in lines
    assert f"  M1 [verified] for checkout: {WORKAROUND}" in lines
    assert any(line.startswith("  Q1 [answered] carol, ") for line in lines)
    assert f"      alice: {ANSWER}" in lines
    assert any(line.startswith("  Q2 [dismissed] carol, ") for line in lines)
    # The pinned, backdated note is starred, at its local time, before the declaration.
    (note_line,) = [line for line in lines if DEPLOY_NOTE in line and line.startswith(" *")]
    occurred = _local(deploy["occurred_at"])
    assert note_line.startswith(f" *{occurred}  alice ")
    assert _utc(deploy["occurred_at"]) != occurred  # the zone really is applied
    declared_line = next(i for i, line in enumerate(lines) if "declared SEV1" in line)
    assert lines.index(note_line) < declared_line

    assert json.loads(shown) == {"incident": incident}
    rows = json.loads(listed)
    assert [row["id"] for row in rows] == [INC]
    assert rows[0]["status"] == "identified"
    assert rows[0]["apps"] == ["checkout", "search"]
    assert rows[0]["open_questions"] == 0
    assert json.loads(resolved) == []

    # The stakeholder sees what is addressed to everyone, and their own questions --------------
    seen = json.loads(carols)["incident"]
    assert seen["impact"]["statement"] == IMPACT
    assert seen["notes"] == []
    assert seen["actions"] == []
    assert seen["mitigations"] == []
    assert [q["state"] for q in seen["questions"]] == ["answered", "dismissed"]
    assert {q["id"] for q in seen["questions"]}.isdisjoint({1, 2})  # disguised, as asked


def test_login_stores_credentials_privately(hub: Hub) -> None:
    config = hub.root / "config" / "warroom"

    refused = warroom("login", hub.url, "not-a-token", env=hub.env)
    assert refused.returncode == 4
    assert not config.exists() or not any(config.iterdir())

    result = warroom("login", hub.url, hub.token, env=hub.env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"logged in to {hub.url} as alice (incident-manager)"
    (stored,) = list(config.iterdir())
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    data = json.loads(stored.read_text())
    assert data["url"] == hub.url
    assert data["tokens"][hub.url] == hub.token

    # Neither --url/--token nor WARROOM_URL/WARROOM_TOKEN from here on.
    assert "WARROOM_URL" not in hub.env and "WARROOM_TOKEN" not in hub.env
    created = warroom("declare", "Search is slow", "-s", "3", env=hub.env)
    assert created.returncode == 0, created.stderr
    assert created.stdout == "INC-1\n"
    noted = warroom("note", "INC-1", "stored credentials work", env=hub.env)
    assert noted.returncode == 0, noted.stderr
    listed = warroom("list", "--json", env=hub.env)
    assert listed.returncode == 0, listed.stderr
    assert [row["title"] for row in json.loads(listed.stdout)] == ["Search is slow"]

    # Someone else's environment without the file has no credentials at all.
    other = dict(hub.env, XDG_CONFIG_HOME=str(hub.root / "elsewhere"))
    missing = warroom("list", "--url", hub.url, env=other)
    assert missing.returncode == 4
    assert "no token for" in missing.stderr


def test_tokens_never_look_like_options(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    """1 in 64 url-safe tokens starts with '-': the token prefix keeps argparse out of it."""
    from warroom.core.domain import Role
    from warroom.store import Store, open_engine

    monkeypatch.setattr("warroom.store.users.secrets.token_urlsafe", lambda _: "-" + "x" * 42)
    store = Store(open_engine(str(hub.db)))
    try:
        token = store.users.add("dash", Role.RESPONDER)
    finally:
        store.close()
    assert not token.startswith("-")
    listed = warroom("list", "--url", hub.url, "--token", token, env=hub.env)
    assert listed.returncode == 0, listed.stderr
    login = warroom("login", hub.url, token, env=hub.env)
    assert login.returncode == 0, login.stderr
    assert "as dash (responder)" in login.stdout


def _noon_with_another_offset() -> datetime:
    """Noon, local time, on the latest past day whose UTC offset differs from today's (DST)."""
    zone = ZoneInfo(ZONE)
    now = datetime.now(zone)
    for days in range(1, 366):
        noon = (now - timedelta(days=days)).replace(hour=12, minute=0, second=0, microsecond=0)
        if noon.utcoffset() != now.utcoffset():
            return noon
    raise AssertionError(f"{ZONE} has no daylight saving time")


def test_a_naive_iso_time_is_local_time_on_that_date(hub: Hub) -> None:
    moment = _noon_with_another_offset()
    hub.ok("declare", TITLE, "-s", "3")
    hub.ok("note", INC, "typed in local time", "--at", moment.strftime("%Y-%m-%dT%H:%M"))
    (note,) = json.loads(hub.ok("export", INC))["incident"]["notes"]
    assert _time(note["occurred_at"]) == moment
    assert f" {moment:%Y-%m-%d %H:%M}  alice " in hub.ok("show", INC)

"""Delivery outside the room, end to end: a real `warroom serve --config` hub, a real SMTP
server and a real webhook receiver on loopback.

A published update reaches exactly its audience's addresses and hooks (and the subscribers of
the incident's applications), with what the composer made and nothing internal; a failing hook
is retried until it takes the message once; a hanging hook does not slow the room; messages
queued when the hub is killed are delivered once after it restarts; an asker is told by email.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from server.delivery import MAX_ATTEMPTS
from server.snapshots import Snapshotter, restore
from tests.kit.harness import Hub
from tests.kit.receivers import HookReceiver, SmtpReceiver
from tests.kit.wire import receive, send, submit
from tests.storage.log_builder import LogBuilder
from warroom.core import messages
from warroom.core.cadence import DEFAULT_CADENCE
from warroom.core.commands import (
    AnswerQuestion,
    AskQuestion,
    ChangeStatus,
    Command,
    DeclareIncident,
    PublishUpdate,
)
from warroom.core.domain import Actor, IncidentState, Role, Severity, Status
from warroom.core.reducer import replay
from warroom.core.updates import compose
from warroom.store import Store, open_engine

INTERNAL_CANARY = "CANARY-INTERNAL-7731 the root cause is the vault key rotation"
SUPPORT_CANARY = "CANARY-SUPPORT-4412 refund script for tier-2 agents"

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def hooks() -> Iterator[HookReceiver]:
    receiver = HookReceiver().start()
    yield receiver
    receiver.stop()


def _config(smtp: SmtpReceiver, hooks: HookReceiver, extra: str = "", timeout: str = "5s") -> str:
    return f"""
[smtp]
host = "127.0.0.1"
port = {smtp.port}
sender = "warroom@example.com"

[delivery]
attempts = 5
backoff = "1s"
timeout = "{timeout}"

[[notify]]
audience = "exec"
email = ["cto@example.com"]
webhook = "{hooks.url("/exec")}"

[[notify]]
audience = "support"
email = "support-lead@example.com"
webhook = ["{hooks.url("/support")}"]

[[notify]]
audience = "all"
email = ["all-hands@example.com"]

[[notify]]
audience = "ops"
email = ["ops@example.com"]

[[notify]]
audience = "finance"
email = ["finance@example.com"]
{extra}
"""


@pytest.fixture
def served(tmp_path: Path, env: dict[str, str]) -> Iterator[Hub]:
    """A hub not yet started, stopped (and checked for tracebacks) at teardown."""
    running = Hub(tmp_path, env)
    try:
        yield running
    finally:
        running.close()
    problems = running.server_stderr()
    assert "Traceback" not in problems, f"warroom serve printed a traceback:\n{problems}"


def _start(hub: Hub, text: str) -> None:
    path = hub.root / "warroom.toml"
    path.write_text(text)
    hub.options = ["--config", str(path)]
    hub.start()
    hub.user_add("carol", "stakeholder", "exec")
    hub.user_add("sam", "stakeholder", "support")


async def _open(hub: Hub, token: str | None = None) -> ClientConnection:
    return await connect(
        hub.url,
        additional_headers={"Authorization": f"Bearer {token or hub.token}"},
        proxy=None,
        compression=None,
        max_size=None,
    )


@pytest.fixture
async def manager(served: Hub) -> AsyncIterator[list[ClientConnection]]:
    opened: list[ClientConnection] = []
    yield opened
    for connection in opened:
        await connection.close()


def _state(hub: Hub, incident: str) -> IncidentState:
    """The incident folded from the hub's own database (read beside the running hub)."""
    store = Store(open_engine(f"sqlite:///{hub.db}"))
    try:
        world = replay(item.event for item in store.log.read())
    finally:
        store.close()
    found = world.incident(incident)
    assert found is not None
    return found


async def _publish(connection: ClientConnection, hub: Hub, audience: str) -> dict[str, Any]:
    """Publish what the composer makes of the room for `audience`; return the command sent."""
    draft = compose(_state(hub, "INC-1"), audience, datetime.now(UTC), DEFAULT_CADENCE)
    command = {
        "type": "update.publish",
        "incident": "INC-1",
        "audience": draft.audience,
        "kind": draft.kind.value,
        "summary": draft.summary,
        "impact": draft.impact,
        "timeline": draft.timeline,
        "progress": draft.progress,
        "mitigation": draft.mitigation,
    }
    answer = await submit(connection, command)
    assert answer["type"] == "ack", answer
    return command


async def _room(connection: ClientConnection) -> None:
    """An incident on checkout with what each audience may see, and canaries no stakeholder
    message may carry."""
    commands: list[dict[str, Any]] = [
        {
            "type": "incident.declare",
            "title": "Checkout failing in EU",
            "severity": "SEV1",
            "apps": ["checkout"],
        },
        {
            "type": "impact.set",
            "incident": "INC-1",
            "statement": "EU customers cannot pay by card",
            "base_version": 0,
            "audience": "all",
        },
        {"type": "note.add", "incident": "INC-1", "text": INTERNAL_CANARY},
        {"type": "note.add", "incident": "INC-1", "text": SUPPORT_CANARY, "audience": "support"},
        {
            "type": "note.add",
            "incident": "INC-1",
            "text": "Payments rolled back in EU",
            "audience": "all",
        },
    ]
    for command in commands:
        answer = await submit(connection, command)
        assert answer["type"] == "ack", answer


async def _watching(hub: Hub) -> ClientConnection:
    """A war-room connection that streams from now on (deliveries included)."""
    connection = await _open(hub)
    await send(connection, {"type": "hello", "cursor": None})
    while (await receive(connection))["type"] != "synced":
        pass
    return connection


Key = tuple[int, int | None, str, str]


async def _settled(
    connection: ClientConnection, count: int, seen: list[dict[str, Any]] | None = None
) -> dict[Key, dict[str, Any]]:
    """Read `delivery` frames until `count` deliveries were told of and none still waits;
    return the latest frame of each. Every frame read is added to `seen`."""
    latest: dict[Key, dict[str, Any]] = {}
    async with asyncio.timeout(30):
        while not (
            len(latest) >= count and all(f["state"] in ("sent", "failed") for f in latest.values())
        ):
            frame = await receive(connection, 30)
            if frame["type"] != "delivery":
                continue
            if seen is not None:
                seen.append(frame)
            key = (frame["update"], frame["question"], frame["channel"], frame["recipient"])
            latest[key] = frame
    return latest


def _deliveries(hub: Hub, incident: str = "INC-1") -> list[dict[str, Any]]:
    """Every delivery of `incident`, as `warroom deliveries --json` prints them."""
    found: list[dict[str, Any]] = json.loads(hub.ok("deliveries", incident, "--json"))
    return found


async def test_an_update_reaches_exactly_its_audience_and_the_subscribers_and_nothing_internal(
    served: Hub, smtp: SmtpReceiver, hooks: HookReceiver, manager: list[ClientConnection]
) -> None:
    _start(served, _config(smtp, hooks))
    hub = served
    # ops hears of billing only; finance of checkout; a single address of each.
    for who, app in (
        ("ops", "billing"),
        ("finance", "checkout"),
        ("watcher@example.com", "checkout"),
        ("billing-fan@example.com", "billing"),
    ):
        result = hub.admin("subscribe", who, "--app", app)
        assert result.returncode == 0, result.stderr
    listed = json.loads(hub.admin("subscriptions", "--json").stdout)
    assert {"subscriber": "finance", "app": "checkout"} in listed
    connection, watch = await _open(hub), await _watching(hub)
    manager += [connection, watch]
    await _room(connection)

    to_exec = await _publish(connection, hub, "exec")
    first = await _settled(watch, 2)
    assert set(first) == {
        (1, None, "email", "cto@example.com"),
        (1, None, "webhook", hooks.url("/exec")),
    }
    exec_mail = smtp.wait_for(1)
    assert [mail.recipient for mail in exec_mail] == ["cto@example.com"]
    assert [post.path for post in hooks.wait_for(1)] == ["/exec"]

    to_all = await _publish(connection, hub, "all")
    await _settled(watch, 7)
    settled = _deliveries(hub)  # every delivery recorded: none beyond these was planned
    assert {(d["update"], d["channel"], d["recipient"]) for d in settled} == {
        (1, "email", "cto@example.com"),
        (1, "webhook", hooks.url("/exec")),
        (2, "email", "cto@example.com"),  # exec subscribes to no app: it hears of everything
        (2, "webhook", hooks.url("/exec")),
        (2, "email", "support-lead@example.com"),
        (2, "webhook", hooks.url("/support")),
        (2, "email", "all-hands@example.com"),
        (2, "email", "finance@example.com"),  # subscribes to checkout, which is affected
        (2, "email", "watcher@example.com"),  # a single address subscribed to checkout
    }
    assert all(d["state"] == "sent" and d["attempts"] == 1 for d in settled)
    mails = smtp.wait_for(1 + 5)
    posts = hooks.wait_for(1 + 2)
    assert len(mails) == 6 and len(posts) == 3

    incident = _state(hub, "INC-1")
    for mail in mails:
        update = incident.updates[0] if mail in exec_mail else incident.updates[1]
        title = messages.subject("INC-1", incident.title, update.severity, update, update.id)
        assert mail.message["Subject"] == title
        assert mail.text == messages.body(update)
        assert mail.message["Message-ID"].endswith("@example.com>")
    for post, sent in zip(posts, [to_exec, to_all, to_all], strict=True):
        body = post.json()
        assert post.headers["x-warroom-delivery"] == body["delivery"]
        assert body["incident"] == "INC-1" and body["title"] == "Checkout failing in EU"
        assert body["audience"] == sent["audience"] and body["kind"] == "update"
        assert body["parts"].get("summary", "") == sent["summary"]
        assert body["text"].startswith("*[SEV1] INC-1 update U")
    # The composer had the room to draw on: nothing internal or support-only left it.
    everything = [mail.message.as_string() for mail in mails] + [p.body.decode() for p in posts]
    assert any("EU customers cannot pay by card" in text for text in everything)
    for text in everything:
        assert "CANARY" not in text
    assert len({mail.message["Message-ID"] for mail in mails}) == len(mails)


async def test_a_hook_that_fails_twice_gets_the_update_once_and_the_room_sees_it_retried(
    served: Hub, smtp: SmtpReceiver, hooks: HookReceiver, manager: list[ClientConnection]
) -> None:
    _start(served, _config(smtp, hooks))
    hub = served
    hooks.failures["/exec"] = 2
    connection, watch = await _open(hub), await _watching(hub)
    manager += [connection, watch]
    await _room(connection)
    await _publish(connection, hub, "exec")
    frames: list[dict[str, Any]] = []
    settled = await _settled(watch, 2, frames)

    assert len(hooks.delivered("/exec")) == 1
    attempts = [p for p in hooks.posts if p.path == "/exec"]
    assert [p.status for p in attempts] == [500, 500, 204]
    assert len({p.headers["x-warroom-delivery"] for p in attempts}) == 1
    hook = [f for f in frames if f["channel"] == "webhook"]
    assert [(f["state"], f["attempts"]) for f in hook] == [
        ("queued", 0),
        ("retrying", 1),
        ("retrying", 2),
        ("sent", 3),
    ]
    assert "HTTP 500" in hook[1]["error"]
    assert settled[(1, None, "webhook", hooks.url("/exec"))]["error"] == ""
    (row,) = [d for d in _deliveries(hub) if d["channel"] == "webhook"]
    assert row["state"] == "sent" and row["attempts"] == 3 and row["error"] == ""
    # Every attempt's outcome stays visible, not only the last one's.
    history = row["history"]
    assert [(a["number"], a["state"]) for a in history] == [
        (1, "retrying"),
        (2, "retrying"),
        (3, "sent"),
    ]
    assert all("HTTP 500" in a["error"] for a in history[:2]) and history[2]["error"] == ""
    told = settled[(1, None, "webhook", hooks.url("/exec"))]["history"]  # the room was told too
    assert [(a["number"], a["state"], a["error"]) for a in told] == [
        (a["number"], a["state"], a["error"]) for a in history
    ]
    printed = hub.ok("deliveries", "INC-1")
    assert [
        line.split()[:3] for line in printed.splitlines() if line.split()[:1] == ["attempt"]
    ] == [
        ["attempt", "1", "retrying"],
        ["attempt", "2", "retrying"],
        ["attempt", "3", "sent"],
    ]


async def test_a_hook_that_never_answers_holds_up_neither_the_room_nor_other_recipients(
    served: Hub, smtp: SmtpReceiver, hooks: HookReceiver, manager: list[ClientConnection]
) -> None:
    # An attempt may take two minutes: the hook holds the hub's attempt all test long, while
    # more updates for it wait than the courier makes attempts at once.
    _start(served, _config(smtp, hooks, timeout="120s"))
    hub = served
    hooks.hanging.add("/exec")
    responder = hub.user_add("ana", "responder")
    publisher, writer, reader = await _open(hub), await _open(hub, responder), await _watching(hub)
    manager += [publisher, writer, reader]
    await _room(publisher)
    updates = MAX_ATTEMPTS + 2
    for number in range(updates):
        summary = f"Update {number + 1}: still on it."
        command = {"type": "update.publish", "incident": "INC-1", "audience": "exec"}
        answer = await submit(publisher, {**command, "summary": summary})
        assert answer["type"] == "ack", answer
    # Every email of every update goes out while the hook holds one attempt: the hook's
    # messages wait for it one at a time instead of taking every slot.
    mails = smtp.wait_for(updates)
    assert [mail.recipient for mail in mails] == ["cto@example.com"] * updates
    await asyncio.to_thread(hooks.wait, lambda: "/exec" in hooks.held)
    for number in range(7):
        text = f"still investigating {number}"
        command = {"type": "note.add", "incident": "INC-1", "text": text}
        await send(writer, {"type": "submit", "id": f"n{number}", "command": command})
        # Another client's note reaches the reader (each frame within the kit's deadline): a
        # courier that held the event loop on the hook would let none through meanwhile.
        while True:
            frame = await receive(reader)
            if frame["type"] == "event" and frame["event"].get("text") == text:
                break
    # The notes went round while the hub's first attempt still waited on the hook.
    assert hooks.held == ["/exec"] and hooks.started == ["/exec"]
    hooked = [d for d in _deliveries(hub) if d["channel"] == "webhook"]
    assert len(hooked) == updates
    assert {(d["state"], d["attempts"]) for d in hooked} == {("queued", 0)}
    assert not hooks.delivered()


async def test_messages_queued_when_the_hub_is_killed_are_delivered_once_after_a_restart(
    served: Hub, smtp: SmtpReceiver, hooks: HookReceiver, manager: list[ClientConnection]
) -> None:
    _start(served, _config(smtp, hooks))
    hub = served
    smtp.refusing = True
    connection, before = await _open(hub), await _watching(hub)
    await _room(connection)
    await _publish(connection, hub, "all")
    await _publish(connection, hub, "exec")
    await connection.close()
    # The three hooks took their messages and the hub recorded it; every email was tried and
    # refused (451): each waits for another attempt, or (killed before its refusal was
    # recorded) for its first.
    async with asyncio.timeout(30):
        hooked: set[tuple[int, str]] = set()
        while len(hooked) < 3:
            frame = await receive(before, 30)
            if frame["type"] == "delivery" and frame["state"] == "sent":
                hooked.add((frame["update"], frame["recipient"]))
    await before.close()
    await asyncio.to_thread(smtp.wait, lambda: smtp.refused >= 5 + 1)
    hub.kill()
    smtp.refusing = False
    hub.start(hub.port)
    watch = await _watching(hub)  # told of the newest deliveries first
    manager.append(watch)

    settled = await _settled(watch, 6 + 3)
    assert all(f["state"] == "sent" for f in settled.values()), settled
    mails = smtp.wait_for(6)
    counted = Counter(mail.message["Message-ID"] for mail in smtp.mails)
    assert len(counted) == 6 and set(counted.values()) == {1}, counted
    assert sorted(m.recipient for m in mails).count("cto@example.com") == 2
    # The hooks took their messages before the kill: they are not sent again after it.
    posted = Counter(post.headers["x-warroom-delivery"] for post in hooks.posts)
    assert len(posted) == 3 and set(posted.values()) == {1}, posted
    assert len(_deliveries(hub)) == 6 + 3


async def test_an_asker_with_an_address_is_told_the_answer_by_email(
    served: Hub, smtp: SmtpReceiver, hooks: HookReceiver, manager: list[ClientConnection]
) -> None:
    _start(served, _config(smtp, hooks))
    hub = served
    tokens: list[str] = []
    for name, group in (("dora", "exec"), ("erin", "support")):
        added = hub.admin(
            "user", "add", name, "--role=stakeholder", f"--group={group}",
            f"--email={name}@example.com",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        tokens.append(added.stdout.strip())
    assert "dora@example.com" in hub.admin("user", "list").stdout
    connection, watch = await _open(hub), await _watching(hub)
    dora, erin = await _open(hub, tokens[0]), await _open(hub, tokens[1])
    manager += [connection, watch, dora, erin]
    await _room(connection)
    for asker, text in ((dora, "Will EU orders be retried?"), (erin, "Do failed orders retry?")):
        asked = await submit(asker, {"type": "question.ask", "incident": "INC-1", "text": text})
        assert asked["type"] == "ack", asked
    # Erin's question duplicates Dora's: merged, then one answer for both.
    merged = await submit(
        connection, {"type": "question.merge", "incident": "INC-1", "question": 2, "into": 1}
    )
    assert merged["type"] == "ack", merged
    answered = await submit(
        connection,
        {
            "type": "question.answer",
            "incident": "INC-1",
            "question": 1,
            "text": "Yes, automatically within the hour",
        },
    )
    assert answered["type"] == "ack", answered
    mails = {mail.recipient: mail for mail in smtp.wait_for(2)}
    assert set(mails) == {"dora@example.com", "erin@example.com"}
    for address, mine, theirs in (
        ("dora@example.com", "Will EU orders be retried?", "Do failed orders retry?"),
        ("erin@example.com", "Do failed orders retry?", "Will EU orders be retried?"),
    ):
        mail = mails[address]
        assert mail.message["Subject"] == "Your question on INC-1 was answered"
        # Each asker reads their own question with the answer, never the other's.
        assert mine in mail.text and theirs not in mail.text
        assert "Yes, automatically within the hour" in mail.text
    settled = await _settled(watch, 2)
    assert set(settled) == {
        (0, 1, "email", "dora@example.com"),
        (0, 2, "email", "erin@example.com"),
    }
    assert all(frame["state"] == "sent" for frame in settled.values())
    # Deliveries are the war room's to see: a stakeholder is refused.
    refused = hub.run("deliveries", "INC-1", token=tokens[0])
    assert refused.returncode == 1 and "only the war room" in refused.stderr


async def test_an_update_committed_but_never_planned_is_delivered_when_the_hub_starts(
    served: Hub, smtp: SmtpReceiver, hooks: HookReceiver, manager: list[ClientConnection]
) -> None:
    # As a hub killed between an update's commit and its planning leaves the database: the
    # update in the log, the planning mark before it.
    builder = LogBuilder()
    boss = Actor("alice", Role.INCIDENT_MANAGER)
    store = Store(open_engine(f"sqlite:///{served.db}"))
    try:
        served.token = store.users.add("alice", Role.INCIDENT_MANAGER)
        store.log.append(
            [
                builder.pending(
                    boss,
                    "c1",
                    DeclareIncident(title="Checkout down", severity=Severity.SEV1),
                ),
                builder.pending(
                    boss,
                    "c2",
                    PublishUpdate(incident="INC-1", audience="all", summary="We are on it"),
                ),
            ]
        )
        assert store.deliveries.planned_upto() == 0
    finally:
        store.close()
    _start(served, _config(smtp, hooks))
    watch = await _watching(served)
    manager.append(watch)
    settled = await _settled(watch, 7)
    # No group subscribes to any application: every group hears of an update to all.
    assert {key[3] for key in settled} == {
        "cto@example.com",
        hooks.url("/exec"),
        "support-lead@example.com",
        hooks.url("/support"),
        "all-hands@example.com",
        "ops@example.com",
        "finance@example.com",
    }
    assert all(frame["state"] == "sent" for frame in settled.values())
    assert len(smtp.wait_for(5)) == 5


async def test_the_configured_cadence_reaches_every_client(
    served: Hub, smtp: SmtpReceiver, hooks: HookReceiver, manager: list[ClientConnection]
) -> None:
    cadence = '\n[cadence]\nSEV1 = "5m"\nSEV3 = "1h30m"\nSEV4 = "none"\nresponse = "2m"\n'
    text = _config(smtp, hooks)
    _start(served, text.replace("\n[delivery]", cadence + "\n[delivery]", 1))
    carol = served.user_add("dora", "stakeholder", "exec")
    for token in (served.token, carol):
        connection = await _open(served, token)
        manager.append(connection)
        await send(connection, {"type": "hello", "cursor": None})
        welcome = await receive(connection)
        assert welcome["type"] == "welcome", welcome
        # SEV2 was left out: it keeps its default of 30 minutes.
        assert welcome["cadence"] == {
            "SEV1": 300, "SEV2": 1800, "SEV3": 5400, "SEV4": None, "response": 120,
        }  # fmt: skip
    # The CLI composes with it: a SEV1 update promises the next one five minutes on.
    incident = served.ok("declare", "Checkout down", "-s", "1").strip()
    draft = json.loads(served.ok("publish", incident, "--audience", "all", "--dry-run", "--json"))
    promised = re.search(r"Next update by (?:\S+ )?(\d\d):(\d\d) UTC", draft["parts"]["timeline"])
    assert promised is not None, draft
    at = datetime.now(UTC)
    minutes = int(promised.group(1)) * 60 + int(promised.group(2)) - at.hour * 60 - at.minute
    assert minutes % (24 * 60) in (4, 5), draft  # five minutes on, read a minute later at most
    assert "no open questions (answer target 2m)" in served.ok("questions", incident)


async def test_an_answer_planned_once_its_incident_is_shelved_still_reaches_its_asker(
    served: Hub, smtp: SmtpReceiver, hooks: HookReceiver
) -> None:
    # As a hub killed between an answer's commit and its planning leaves the database, the
    # incident resolved and its snapshot written: the next hub starts with it shelved, its
    # questions out of memory, and reads it back to find whom to tell.
    builder = LogBuilder()
    boss = Actor("alice", Role.INCIDENT_MANAGER)
    dora = Actor("dora", Role.STAKEHOLDER, frozenset({"exec"}))
    store = Store(open_engine(f"sqlite:///{served.db}"))
    try:
        served.token = store.users.add("alice", Role.INCIDENT_MANAGER)
        store.users.add("dora", Role.STAKEHOLDER, ["exec"], email="dora@example.com")
        commands: list[tuple[Actor, Command]] = [
            (boss, DeclareIncident(title="Checkout down", severity=Severity.SEV1)),
            (dora, AskQuestion(incident="INC-1", text="Will EU orders be retried?")),
            (boss, AnswerQuestion(incident="INC-1", question=1, text="Yes, within the hour")),
            (boss, ChangeStatus(incident="INC-1", status=Status.RESOLVED)),
        ]
        store.log.append(
            [
                builder.pending(actor, f"c{n}", command)
                for n, (actor, command) in enumerate(commands)
            ]
        )
        writer = Snapshotter(store.snapshots, store.log_identity())
        writer.start(restore(store, store.log_identity()))  # the resolution's snapshot is due
        writer.stop()
        assert store.deliveries.planned_upto() == 0
    finally:
        store.close()
    _start(served, _config(smtp, hooks))
    (mail,) = smtp.wait_for(1)
    assert mail.recipient == "dora@example.com"
    assert mail.message["Subject"] == "Your question on INC-1 was answered"
    assert "Will EU orders be retried?" in mail.text and "Yes, within the hour" in mail.text

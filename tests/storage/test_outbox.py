"""The delivery outbox and the subscriptions, run against every backend (see `store_url`)."""

from __future__ import annotations

import pytest

from tests.storage.log_builder import LogBuilder
from warroom.core.commands import DeclareIncident
from warroom.core.domain import Actor, Role, Severity
from warroom.core.recipients import Subscription
from warroom.store import EventLog, Planned, Store, StoreError, open_engine
from warroom.store.schema import UPGRADES, prepare

MANAGER = Actor("alice", Role.INCIDENT_MANAGER)


def _planned(seq: int, recipient: str, channel: str = "email") -> Planned:
    return Planned(seq, "INC-1", 1, channel, recipient, f"d-{seq}-{recipient}", "body", "subject")


def test_planning_records_the_rows_and_the_mark_together_and_never_twice(store: Store) -> None:
    outbox = store.deliveries
    assert outbox.planned_upto() == 0

    first = outbox.plan([_planned(3, "a@example.com"), _planned(3, "b@example.com")], 3)
    again = outbox.plan([_planned(3, "a@example.com"), _planned(5, "a@example.com")], 5)

    assert [(d.seq, d.recipient, d.state, d.attempts) for d in first] == [
        (3, "a@example.com", "queued", 0),
        (3, "b@example.com", "queued", 0),
    ]
    assert [(d.seq, d.recipient) for d in again] == [(5, "a@example.com")]
    assert outbox.planned_upto() == 5
    outbox.plan([], 4)  # the mark never moves back
    assert outbox.planned_upto() == 5
    assert [d.seq for d in outbox.of_incident("INC-1")] == [3, 3, 5]


def test_due_deliveries_come_longest_waiting_first_and_attempts_are_recorded(
    store: Store,
) -> None:
    outbox = store.deliveries
    a, b = outbox.plan([_planned(1, "a@example.com"), _planned(1, "b@example.com")], 1)
    outbox.record(a.id, "retrying", 1, next_at=a.next_at + 60, error="no answer within 10s")

    assert [d.id for d in outbox.due(a.next_at + 1, 10)] == [b.id]
    assert outbox.due(a.next_at + 1, 10, skip={b.id}) == []
    assert outbox.next_attempt(skip={b.id}) == pytest.approx(a.next_at + 60)
    assert [d.id for d in outbox.due(a.next_at + 61, 10)] == [b.id, a.id]

    sent = outbox.record(b.id, "sent", 1)
    failed = outbox.record(a.id, "failed", 2, error="gave up after 2 attempts: refused")
    assert (sent.state, sent.attempts) == ("sent", 1)
    assert (failed.state, failed.error) == ("failed", "gave up after 2 attempts: refused")
    assert outbox.due(a.next_at + 1000, 10) == []
    assert outbox.next_attempt() is None
    assert [d.id for d in outbox.newest(1)] == [b.id]  # the newest planned
    with pytest.raises(StoreError):
        outbox.record(a.id, "lost", 3)


def test_every_attempt_is_kept_with_how_it_ended_not_only_the_last(store: Store) -> None:
    outbox = store.deliveries
    (a,) = outbox.plan([_planned(1, "https://hooks.example.com/x", "webhook")], 1)
    assert outbox.of_incident("INC-1")[0].history == ()  # planned: no attempt yet
    first = outbox.record(a.id, "retrying", 1, next_at=a.next_at + 5, error="HTTP 500 from x")
    assert [(t.number, t.state, t.error) for t in first.history] == [
        (1, "retrying", "HTTP 500 from x")
    ]
    outbox.record(a.id, "retrying", 2, next_at=a.next_at + 15, error="connection refused")
    done = outbox.record(a.id, "sent", 3)
    expected = [
        (1, "retrying", "HTTP 500 from x"),
        (2, "retrying", "connection refused"),
        (3, "sent", ""),
    ]
    assert [(t.number, t.state, t.error) for t in done.history] == expected
    (read,) = outbox.of_incident("INC-1")
    assert (read.error, [(t.number, t.state, t.error) for t in read.history]) == ("", expected)
    assert [(t.number, t.state) for t in outbox.newest(5)[0].history] == [
        (1, "retrying"),
        (2, "retrying"),
        (3, "sent"),
    ]
    assert read.history[0].at <= read.history[1].at <= read.history[2].at
    # A decision to attempt no more (its incident made private) is no attempt.
    (b,) = outbox.plan([_planned(2, "https://hooks.example.com/y", "webhook")], 2)
    outbox.record(b.id, "retrying", 1, next_at=b.next_at + 5, error="HTTP 500 from y")
    dropped = outbox.record(b.id, "failed", 1, error="INC-1 became private")
    assert [(t.number, t.state) for t in dropped.history] == [(1, "retrying")]


def test_deliveries_to_a_recipient_with_an_attempt_under_way_are_left_out(store: Store) -> None:
    outbox = store.deliveries
    hook = "http://127.0.0.1:9/hook"
    h1, h2, mail = outbox.plan(
        [_planned(1, hook, "webhook"), _planned(2, hook, "webhook"), _planned(2, "a@example.com")],
        2,
    )
    now = mail.next_at + 1
    # An attempt to the hook is under way (h1): its other message waits, the email does not.
    assert [d.id for d in outbox.due(now, 10, skip={h1.id}, recipients={hook})] == [mail.id]
    assert outbox.due(now, 10, skip={h1.id, mail.id}, recipients={hook, "a@example.com"}) == []
    assert outbox.next_attempt(skip={h1.id}, recipients={hook, "a@example.com"}) is None
    assert outbox.next_attempt(skip={h1.id}, recipients={"a@example.com"}) == pytest.approx(
        h2.next_at
    )


def test_subscriptions_are_added_once_listed_and_taken_back(store: Store) -> None:
    subscriptions = store.subscriptions
    assert subscriptions.add("exec", ["checkout", "payments"]) == [
        Subscription("exec", "checkout"),
        Subscription("exec", "payments"),
    ]
    assert subscriptions.add("exec", ["Checkout"]) == []  # already held, whatever the case
    subscriptions.add("cto@example.com", ["checkout"])

    assert subscriptions.all() == [
        Subscription("cto@example.com", "checkout"),
        Subscription("exec", "checkout"),
        Subscription("exec", "payments"),
    ]
    assert subscriptions.remove("exec", ["payments"]) == [Subscription("exec", "payments")]
    with pytest.raises(StoreError, match="not subscribed"):
        subscriptions.remove("exec", ["payments"])


def test_users_may_have_an_address(store: Store) -> None:
    store.users.add("dora", Role.STAKEHOLDER, ["exec"], email="dora@example.com")
    store.users.add("ed", Role.RESPONDER)
    with pytest.raises(StoreError, match="bad email address"):
        store.users.add("fay", Role.RESPONDER, email="not an address")

    assert store.users.emails() == {"dora": "dora@example.com"}
    assert {u.name: u.email for u in store.users.all()} == {"dora": "dora@example.com", "ed": None}
    store.users.revoke("dora")
    assert store.users.emails() == {}


def test_a_database_upgraded_to_the_outbox_is_marked_planned_up_to_its_log(
    store_url: str, log_builder: LogBuilder
) -> None:
    # A log written before deliveries existed: its updates are never sent late.
    engine = open_engine(store_url)
    prepare(engine, UPGRADES[:4])
    EventLog(engine).append(
        [log_builder.pending(MANAGER, "c1", DeclareIncident(title="Old", severity=Severity.SEV2))]
    )
    store = Store(engine)
    try:
        assert store.deliveries.planned_upto() == 1
        assert store.users.all() == []
    finally:
        store.close()

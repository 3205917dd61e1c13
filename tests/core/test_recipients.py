"""The recipient rule: who outside the room hears of an update to an audience."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from warroom.core.domain import IncidentState, Severity, Status
from warroom.core.recipients import (
    Notify,
    Subscription,
    delivery_id,
    parse_address,
    parse_hook,
    parse_notify_audience,
    recipients,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CHECKOUT = IncidentState(
    id="INC-1",
    title="Checkout down",
    severity=Severity.SEV1,
    status=Status.INVESTIGATING,
    declared_by="alice",
    declared_at=T0,
    manager="alice",
    apps=("Checkout",),
)
NOTIFY = (
    Notify("exec", emails=("cto@example.com",), webhooks=("http://h/exec",)),
    Notify("support", emails=("lead@example.com",)),
    Notify("all", emails=("everyone@example.com",)),
    Notify("ops", emails=("ops@example.com",)),
)
SUBSCRIBED = (
    Subscription("ops", "billing"),
    Subscription("fan@example.com", "checkout"),
    Subscription("other@example.com", "billing"),
)


def _to(audience: str) -> set[str]:
    return {who for _, who in recipients(audience, CHECKOUT, NOTIFY, SUBSCRIBED)}


def test_an_update_to_a_group_reaches_that_group_alone() -> None:
    assert _to("exec") == {"cto@example.com", "http://h/exec"}
    assert _to("exec,support") == {"cto@example.com", "http://h/exec", "lead@example.com"}


def test_an_update_to_all_reaches_groups_by_their_subscriptions_and_subscribed_addresses() -> None:
    # ops subscribes to billing only; fan@ to checkout (matched whatever the case).
    assert _to("all") == {
        "cto@example.com",
        "http://h/exec",
        "lead@example.com",
        "everyone@example.com",
        "fan@example.com",
    }


def test_each_recipient_is_listed_once() -> None:
    twice = (*NOTIFY, Notify("exec", emails=("cto@example.com",)))
    found = recipients("exec", CHECKOUT, twice, ())
    assert len(found) == len(set(found)) == 2


def test_the_ids_are_stable_and_distinct() -> None:
    one = delivery_id("log", 7, "email", "a@example.com")
    assert one == delivery_id("log", 7, "email", "a@example.com")
    assert one != delivery_id("other-log", 7, "email", "a@example.com")
    assert one != delivery_id("log", 8, "email", "a@example.com")


@pytest.mark.parametrize(
    ("check", "text"),
    [
        (parse_address, "no-at-sign"),
        (parse_address, "a b@example.com"),
        (parse_address, "a@localhost"),
        (parse_hook, "ftp://example.com/x"),
        (parse_hook, "http:///nohost"),
        (parse_notify_audience, "internal"),
        (parse_notify_audience, "exec,support"),
    ],
)
def test_bad_values_are_refused_with_a_sentence(check: Callable[[str], str], text: str) -> None:
    with pytest.raises(ValueError, match="bad"):
        check(text)

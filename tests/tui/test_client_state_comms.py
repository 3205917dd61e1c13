"""The client state learns the hub's cadence from the welcome and keeps each delivery's latest
state, by update and recipient, from the hub's `delivery` frames."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from client.state import ClientState, receive
from warroom.core import protocol
from warroom.core.cadence import DEFAULT_CADENCE
from warroom.core.domain import Severity

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
DeliveryState = Literal["queued", "sent", "retrying", "failed"]


def _welcome(cadence: dict[str, int | None] | None) -> protocol.Welcome:
    return protocol.Welcome(user="ines", role="incident-manager", head=0, cadence=cadence)


def test_the_welcome_sets_the_cadence_and_its_absence_the_defaults() -> None:
    state, _ = receive(ClientState(), _welcome({"SEV1": 300, "response": 60}))
    assert state.cadence.interval(Severity.SEV1) == timedelta(minutes=5)
    assert state.cadence.response_target == timedelta(minutes=1)
    state, _ = receive(state, _welcome(None))
    assert state.cadence == DEFAULT_CADENCE


def _delivery(
    recipient: str, state: DeliveryState, attempts: int, update: int = 1
) -> protocol.DeliveryFrame:
    return protocol.DeliveryFrame(
        incident="INC-1", update=update, channel="email", recipient=recipient,
        state=state, attempts=attempts, error="" if state == "sent" else "refused", at=NOW,
    )  # fmt: skip


def test_each_delivery_keeps_its_latest_state() -> None:
    state = ClientState()
    for frame in (
        _delivery("cto@example.com", "queued", 0),
        _delivery("ceo@example.com", "retrying", 1),
        _delivery("cto@example.com", "sent", 1),
        _delivery("cto@example.com", "queued", 0, update=2),
    ):
        state, _ = receive(state, frame)
    first = state.deliveries_of("INC-1", 1)
    assert [(d.recipient, d.state, d.attempts) for d in first] == [
        ("ceo@example.com", "retrying", 1),
        ("cto@example.com", "sent", 1),
    ]
    assert [d.update for d in state.deliveries_of("INC-1", 2)] == [2]
    assert state.deliveries_of("INC-2", 1) == []

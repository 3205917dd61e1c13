"""`warroom demo`: the terminal client against an embedded hub, seeded with one incident.

The demo starts a hub in a thread of its own on a free loopback port, with a SQLite file in a
temporary folder (or `--db`), creates users, seeds one realistic incident through the protocol
like any client would, and opens the war room on it.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from client.launch import join
from server.embedded import EmbeddedHub
from warroom.core import commands as c
from warroom.core.domain import ActionState, Confidence, MitigationState, Role, Severity, Status
from warroom.net.remote import Remote
from warroom.store import Store, open_engine


@dataclass(frozen=True)
class DemoUsers:
    """The demo's people and their tokens."""

    manager: str
    tokens: dict[str, str]


def create_users(store: Store, manager: str) -> DemoUsers:
    """An incident manager (`manager`), two responders, an observer, two stakeholders."""
    people = [
        (manager, Role.INCIDENT_MANAGER, ()),
        ("ana", Role.RESPONDER, ()),
        ("bob", Role.RESPONDER, ()),
        ("olga", Role.OBSERVER, ()),
        ("carol", Role.STAKEHOLDER, ("exec",)),
        ("dave", Role.STAKEHOLDER, ("support",)),
    ]
    tokens = {name: store.users.add(name, role, groups) for name, role, groups in people}
    return DemoUsers(manager, tokens)


async def seed(url: str, users: DemoUsers, now: datetime | None = None) -> str:
    """Play one realistic incident into the hub; return its id."""
    moment = now or datetime.now(UTC)

    async def as_user(name: str, *commands: c.Command) -> None:
        async with await Remote.open(url, users.tokens[name]) as remote:
            for command in commands:
                await remote.submit(command)

    async with await Remote.open(url, users.tokens["ana"]) as remote:
        await remote.submit(
            c.DeclareIncident(
                title="Database failover: order history stale",
                severity=Severity.SEV3,
                apps=("orders",),
            )
        )
        await remote.submit(c.ChangeStatus(incident="INC-1", status=Status.RESOLVED))
        await remote.submit(
            c.DeclareIncident(
                title="Checkout failing for EU customers",
                severity=Severity.SEV1,
                apps=("checkout", "payments"),
            )
        )
    inc = "INC-2"
    await as_user(
        "ana",
        c.AddNote(
            incident=inc,
            text="PagerDuty: 5xx rate on checkout-eu above 20% for 5 minutes",
            occurred_at=moment - timedelta(minutes=38),
            pinned=True,
            audience="internal",
        ),
        c.AddNote(
            incident=inc,
            text="Deploy 4812 of payments-gateway finished rolling out",
            occurred_at=moment - timedelta(minutes=45),
            audience="internal",
        ),
        c.ChangeStatus(incident=inc, status=Status.IDENTIFIED),
    )
    await as_user(
        users.manager,
        c.SetImpact(
            incident=inc,
            statement="EU customers cannot pay by card at checkout (about 40% of EU orders). "
            "US and APAC are unaffected. Support is seeing a rise in tickets.",
            customer_facing=True,
            base_version=0,
            audience="all",
        ),
        c.SetEta(
            incident=inc,
            eta=moment + timedelta(minutes=25),
            confidence=Confidence.MEDIUM,
            base_version=0,
        ),
        c.AddNote(
            incident=inc,
            text="Status page updated: degraded card payments in the EU",
            audience="all",
            pinned=True,
        ),
    )
    await as_user(
        "bob",
        c.AddAction(
            incident=inc,
            text="Roll back payments-gateway deploy 4812",
            owner="bob",
            state=ActionState.IN_PROGRESS,
        ),
        c.AddAction(
            incident=inc, text="Check card-network error codes in the gateway logs", owner="ana"
        ),
        c.AddAction(
            incident=inc, text="Page the payments on-call", owner="bob", state=ActionState.DONE
        ),
        c.AddAction(incident=inc, text="Prepare customer comms for support", audience="all"),
        c.AddMitigation(
            incident=inc,
            text="Route EU card payments through the US acquirer",
            apps=("payments",),
            audience="all",
        ),
        c.ChangeMitigationState(incident=inc, mitigation=1, state=MitigationState.VERIFIED),
        c.AddMitigation(
            incident=inc, text="Offer PayPal as the default at EU checkout", apps=("checkout",)
        ),
        c.AddNote(incident=inc, text="Rollback at 60%: error rate falling in eu-west-1"),
    )
    await as_user("carol", c.AskQuestion(incident=inc, text="Do we need to notify the regulator?"))
    await as_user(
        "dave",
        c.AskQuestion(incident=inc, text="What should we tell customers who were charged twice?"),
    )
    return inc


def demo(
    db: str | None,
    manager: str,
    announce: Callable[[str], None] = print,
) -> None:
    """Run the demo: embedded hub, seeded incident, the war room on screen."""
    folder = None
    if db is None:
        folder = tempfile.TemporaryDirectory(prefix="warroom-demo-")
        db = str(Path(folder.name) / "demo.db")
    store = Store(open_engine(db))
    if store.users.all():
        store.close()
        raise ValueError(
            f"{db} already has users: run `warroom serve --db {db}` and `warroom join` instead"
        )
    hub = EmbeddedHub(store)
    try:
        users = create_users(store, manager)
        url = hub.start()
        incident = asyncio.run(seed(url, users))
        lines = ["Join the same war room from another terminal while the demo runs:"]
        for name, what in (("ana", "responder"), ("olga", "observer"), ("carol", "stakeholder")):
            token = users.tokens[name]
            lines.append(f"  WARROOM_TOKEN={token} warroom join {url} {incident}  # {what}")
        commands = Path(db).with_name("join.txt")
        commands.write_text("\n".join(lines) + "\n")
        announce(f"warroom demo: hub at {url}, database {store.describe()}")
        announce("\n".join(lines))
        notice = f"Others can join this demo: see {commands}"
        join([url], users.tokens[manager], incident, observer=False, notice=notice)
    finally:
        hub.stop()
        store.close()
        if folder is not None:
            folder.cleanup()
    announce("warroom demo: stopped")

"""The verbs of keeping stakeholders informed: who subscribes to which application (`subscribe`,
`subscriptions`, on the database directly) and how an incident's deliveries stand
(`deliveries`, through the hub, for the war room).
"""

from __future__ import annotations

from typing import Any

import click

from warroom.cli.common import (
    EXIT_USAGE,
    DatabaseArgs,
    Failure,
    HubArgs,
    opened_store,
    parsed,
    run,
)
from warroom.cli.parsing import database_options, hub_options, option, verb
from warroom.core import protocol
from warroom.core.domain import Role, parse_group
from warroom.core.inputs import checked_apps
from warroom.core.recipients import is_address, parse_address
from warroom.core.rejections import Rejected
from warroom.core.timeparse import local


def _subscriber(text: str) -> str:
    """A stakeholder group, or a single email address."""
    return parsed(parse_address if is_address(text) else parse_group, text)


def _apps(names: tuple[str, ...]) -> tuple[str, ...]:
    if not names:
        raise Failure("name an application: --app APP (repeatable)", EXIT_USAGE)
    try:
        return checked_apps(names)
    except Rejected as refused:
        raise Failure(refused.message, EXIT_USAGE) from None


@verb("subscribe", "tell a group or an address of incidents affecting an application")
@database_options
@click.argument("subscriber", metavar="GROUP|ADDRESS")
@option("--app", "apps", multiple=True, required=True, help="the application (repeatable)")
@option("--remove", is_flag=True, help="take the subscription back")
def subscribe(db: DatabaseArgs, subscriber: str, apps: tuple[str, ...], remove: bool) -> None:
    who = _subscriber(subscriber)
    names = _apps(apps)
    with opened_store(db.db) as store:
        if remove:
            changed = store.subscriptions.remove(who, names)
        else:
            changed = store.subscriptions.add(who, names)
    listed = ", ".join(item.app for item in changed)
    if remove:
        text = f"{who} no longer hears of {listed}"
    elif changed:
        text = f"{who} now hears of incidents affecting {listed}"
    else:
        text = f"{who} already hears of {', '.join(names)}"
    data = {"subscriber": who, "apps": [item.app for item in changed], "removed": remove}
    db.emit(data, text)


@verb("subscriptions", "list who hears of which application's incidents")
@database_options
def subscriptions(db: DatabaseArgs) -> None:
    with opened_store(db.db) as store:
        found = store.subscriptions.all()
    by_subscriber: dict[str, list[str]] = {}
    for item in found:
        by_subscriber.setdefault(item.subscriber, []).append(item.app)
    lines = [f"{who:<32} {', '.join(apps)}" for who, apps in by_subscriber.items()]
    data = [{"subscriber": item.subscriber, "app": item.app} for item in found]
    db.emit(data, lines or ["no subscriptions"])


def _delivery(frame: protocol.DeliveryFrame) -> dict[str, Any]:
    return {
        "incident": frame.incident,
        "update": frame.update,
        "question": frame.question,
        "channel": frame.channel,
        "recipient": frame.recipient,
        "state": frame.state,
        "attempts": frame.attempts,
        "error": frame.error,
        "at": frame.at.isoformat(),
        "history": [
            {
                "number": attempt.number,
                "at": attempt.at.isoformat(),
                "state": attempt.state,
                "error": attempt.error,
            }
            for attempt in frame.history
        ],
    }


def _line(frame: protocol.DeliveryFrame) -> str:
    what = f"U{frame.update}" if frame.question is None else f"Q{frame.question}"
    tries = f"{frame.attempts} attempt{'' if frame.attempts == 1 else 's'}"
    line = (
        f"{what:<5} {frame.channel:<7} {frame.recipient:<32} {frame.state:<8} {tries:<11} "
        f"{local(frame.at)}"
    )
    return f"{line}  {frame.error}" if frame.error else line


def _lines(frame: protocol.DeliveryFrame) -> list[str]:
    """A delivery's line, then, if any attempt failed, every attempt and how it ended."""
    if not any(attempt.error for attempt in frame.history):
        return [_line(frame)]
    return [
        _line(frame),
        *(
            f"      attempt {a.number:<3} {a.state:<8} {local(a.at)}"
            + (f"  {a.error}" if a.error else "")
            for a in frame.history
        ),
    ]


@verb("deliveries", "show how an incident's updates were delivered (the war room only)")
@hub_options
@click.argument("incident")
def deliveries(hub: HubArgs, incident: str) -> None:

    target = hub.target()
    wanted = incident.upper()

    async def job() -> tuple[Role, list[protocol.DeliveryFrame] | None]:
        async with await target.open() as remote:
            found = await remote.read_with_deliveries(wanted)
            await remote.sync(None)  # for the welcome: who the user is; nothing is replayed
            assert remote.welcome is not None
            return Role(remote.welcome.role), None if found is None else found[1]

    role, found = run(job)
    if role is Role.STAKEHOLDER:
        raise Failure("only the war room sees how updates were delivered")
    if found is None:
        raise Failure(f"there is no incident {wanted} that you may see")
    lines = [line for frame in found for line in _lines(frame)]
    lines = lines or [f"nothing was delivered for {wanted}"]
    hub.emit([_delivery(frame) for frame in found], lines)

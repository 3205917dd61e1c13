"""The verbs that look back: an incident's post-mortem (`report`, and `export --format md`) and
the numbers over every incident (`stats`), and the room as it stood at a moment (`show --at`).

Every verb imports this module; what only these verbs need (the report, the numbers, rich's
table) is imported when they run, so the other verbs start no slower.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from warroom.cli.common import (
    EXIT_USAGE,
    Failure,
    Fetched,
    HubArgs,
    Target,
    audience_of,
    incident_in,
    moment,
    run,
)
from warroom.cli.parsing import hub_options, option, verb
from warroom.core import json_forms, protocol
from warroom.core.cadence import DEFAULT_CADENCE, Cadence
from warroom.core.domain import INTERNAL, Actor, Role, audience_groups
from warroom.core.groups import unknown_group
from warroom.core.reducer import replay
from warroom.core.timeparse import local
from warroom.core.views import incident_page


@dataclass(frozen=True)
class Looked:
    """What the hub lets the user see, with who they are and the cadence it keeps."""

    log: list[protocol.EventFrame] | None
    """The events read (None: no such incident for the user)."""
    me: Actor
    known_groups: tuple[str, ...]
    cadence: Cadence


def _looked(welcome: protocol.Welcome | None, log: list[protocol.EventFrame] | None) -> Looked:
    assert welcome is not None  # every hello is answered by a welcome first
    me = Actor(welcome.user, Role(welcome.role), frozenset(welcome.groups))
    wire = welcome.cadence
    cadence = DEFAULT_CADENCE if wire is None else Cadence.from_wire(wire)
    return Looked(log, me, welcome.known_groups, cadence)


def read_one(target: Target, incident: str) -> Looked:
    """One incident's events the user may see, read alone, and the hub's welcome."""

    async def job() -> Looked:
        async with await target.open() as remote:
            log = await remote.read(incident.upper())
            await remote.sync(None)  # the welcome: who the user is, the cadence; no replay
            return _looked(remote.welcome, log)

    return run(job)


def as_it_stood(
    log: list[protocol.EventFrame], when: datetime, viewer: Actor | None
) -> list[protocol.EventFrame]:
    """The events of `log` recorded up to `when`, as `viewer` received them (None: as they
    are): the room as it stood then."""
    from warroom.core.replaying import disclosed_each, recorded_by

    events = [item.event for item in log]
    kept = events[: recorded_by(events, when)]
    shown = kept if viewer is None else disclosed_each(kept, viewer)
    return [
        protocol.EventFrame(seq=item.seq, event=event)
        for item, event in zip(log, shown, strict=False)
        if event is not None
    ]


def checked_audience(looked: Looked, text: str) -> str:
    """The audience of `--audience`, which only the incident manager may take the view of."""
    if looked.me.role is not Role.INCIDENT_MANAGER:
        raise Failure("only an incident manager may write the report an audience may see")
    audience = audience_of(text)
    if audience == INTERNAL:
        raise Failure("an audience is 'all' or stakeholder groups, not internal", EXIT_USAGE)
    unknown = audience_groups(audience) - set(looked.known_groups)
    if unknown:
        refused = unknown_group(unknown, looked.known_groups)
        raise Failure(refused.message, detail={"code": refused.code})
    return audience


def write_out(text: str, output: str | None, what: str) -> None:
    """Print `text`, or write it to the file `output` and say so on standard error."""
    if output and output != "-":
        try:
            Path(output).write_text(text)
        except OSError as error:
            raise Failure(f"cannot write {output}: {error.strerror}") from None
        print(f"wrote {what} to {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)


def postmortem(hub: HubArgs, incident: str, audience: str | None, output: str | None) -> None:
    """Write the post-mortem of `incident` (as `audience` may see it) to `output` or stdout."""
    looked = read_one(hub.target(), incident)
    wanted = incident.upper()
    if looked.log is None:
        raise Failure(f"there is no incident {wanted} that you may see")
    from warroom.core.report import report

    shown = checked_audience(looked, audience) if audience is not None else None
    viewer = None if looked.me.internal else looked.me
    try:
        text = report((item.event for item in looked.log), wanted, looked.cadence, shown, viewer)
    except LookupError:
        raise Failure(f"there is no incident {wanted} that {shown} may see") from None
    if hub.json:
        document: dict[str, Any] = {"incident": wanted, "audience": shown, "markdown": text}
        hub.emit(document, "")
        return
    write_out(text, output, f"the post-mortem of {wanted}")


@verb("report", "write an incident's post-mortem as Markdown, from its log")
@hub_options
@click.argument("incident")
@option(
    "--audience",
    "-a",
    help="the version a stakeholder group (or 'all') may see (incident manager only)",
)
@option("--output", "-o", help="file to write (default: stdout)")
def report_(hub: HubArgs, incident: str, audience: str | None, output: str | None) -> None:
    postmortem(hub, incident, audience, output)


# The numbers ---------------------------------------------------------------------------------


def read_all(target: Target) -> Looked:
    """Every event the user may see, from the start of the log, and the hub's welcome."""

    async def job() -> Looked:
        async with await target.open() as remote:
            log = await remote.sync(0)
            return _looked(remote.welcome, log)

    return run(job)


@verb("stats", "the numbers per application: incidents, mean times, punctuality, trends")
@hub_options
@option("--app", help="only the incidents of this application")
@option("--since", help="only incidents declared since then (ISO 8601, HH:MM, -30d)")
def stats_(hub: HubArgs, app: str | None, since: str | None) -> None:
    from warroom.core.stats import stats

    start = moment(since) if since is not None else None
    looked = read_all(hub.target())
    assert looked.log is not None  # a replay from the start is never refused as unknown
    viewer = None if looked.me.internal else looked.me
    events = (item.event for item in looked.log)
    numbers = stats(events, looked.cadence, app, start, viewer)
    if hub.json:
        hub.emit(numbers.data(), "")
        return
    from warroom.cli.charts import print_stats

    print_stats(numbers)


# The room as it was ---------------------------------------------------------------------------


def show_at(
    hub: HubArgs, incident: str, fetched: Fetched, when: datetime, audience: Actor | None
) -> None:
    """Print the room as it stood at `when` (as `audience` saw it, if given): `show --at`."""
    viewer = audience or fetched.me
    log = as_it_stood(fetched.log, when, audience)
    world = replay(item.event for item in log)
    if world.incident(incident) is None and fetched.world.incident(incident) is not None:
        raise Failure(f"{incident.upper()} was not declared yet at {local(when)}")
    shown = incident_in(world, incident, viewer)
    lines = [f"as it stood at {local(when)}", *incident_page(shown, log, when)]
    data = {"at": when.isoformat(), "incident": json_forms.incident_data(shown)}
    hub.emit(data, lines)

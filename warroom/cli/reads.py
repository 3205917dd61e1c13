"""The verbs that read: list, show, export, tail."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import click

from warroom.cli.common import (
    Failure,
    HubArgs,
    audience_of,
    fetch_incident,
    fetch_summaries,
    incident_in,
    moment,
    now,
    parsed,
    run,
)
from warroom.cli.parsing import hub_options, option, verb
from warroom.cli.postmortem import show_at
from warroom.core import json_forms, protocol
from warroom.core.domain import Role, Status, audience_groups, parse_enum
from warroom.core.groups import unknown_group
from warroom.core.policy import disclosed, preview_actor
from warroom.core.reducer import replay
from warroom.core.summary import IncidentSummary
from warroom.core.views import event_line, incident_page, incident_row


def _summary(incident: IncidentSummary) -> dict[str, Any]:
    return {
        "id": incident.id,
        "title": incident.title,
        "severity": incident.severity.value,
        "status": incident.status.value,
        "apps": list(incident.apps),
        "private": incident.private,
        "declared_at": incident.declared_at.isoformat(),
        "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
        "manager": incident.manager,
        "open_questions": incident.open_questions,
    }


@verb("list", "list incidents, newest first")
@hub_options
@option("--app")
@option("--status")
def list_(hub: HubArgs, app: str | None, status: str | None) -> None:
    summaries = fetch_summaries(hub.target())
    wanted = parsed(lambda t: parse_enum(Status, t, "status"), status) if status else None
    affected = app.lower() if app else None
    rows = [
        incident
        for incident in summaries
        if (wanted is None or incident.status is wanted)
        and (affected is None or affected in (a.lower() for a in incident.apps))
    ]
    moment = now()
    lines = [incident_row(incident, moment) for incident in rows] or ["no incidents"]
    hub.emit([_summary(incident) for incident in rows], lines)


@verb("show", "show an incident's four panels and questions")
@hub_options
@click.argument("incident")
@option(
    "--as",
    "as_audience",
    metavar="AUDIENCE",
    help="preview what a stakeholder group (or 'all') sees now (incident manager only)",
)
@option("--at", metavar="TIME", help="the room as it stood then (ISO 8601, HH:MM, -15m)")
def show(hub: HubArgs, incident: str, as_audience: str | None, at: str | None) -> None:
    when = moment(at) if at is not None else None
    fetched = fetch_incident(hub.target(), incident)
    world, log, viewer = fetched.world, fetched.log, fetched.me
    if as_audience:
        # What that audience receives now: the hub's own filter, over the incident's log.
        if fetched.me.role is not Role.INCIDENT_MANAGER:
            raise Failure("only an incident manager may preview what an audience sees")
        audience = audience_of(as_audience)
        unknown = audience_groups(audience) - set(fetched.known_groups)
        if unknown:
            refused = unknown_group(unknown, fetched.known_groups)
            raise Failure(refused.message, detail={"code": refused.code})
        viewer = preview_actor(audience)
        log = [
            protocol.EventFrame(seq=item.seq, event=received)
            for item in log
            if (received := disclosed(viewer, item.event, world)) is not None
        ]
        world = replay(item.event for item in log)
    if when is not None:
        return show_at(hub, incident, fetched, when, viewer if as_audience else None)
    shown = incident_in(world, incident, viewer)
    hub.emit({"incident": json_forms.incident_data(shown)}, list(incident_page(shown, log, now())))


@verb("export", "write an incident's state and event log")
@hub_options
@click.argument("incident")
@option(
    "--format", "format_", type=click.Choice(["json", "md"]), default="json",
    help="json: state and events; md: the post-mortem (`warroom report`)",
)  # fmt: skip
@option("--output", "-o", help="file to write (default: stdout)")
def export(hub: HubArgs, incident: str, format_: str, output: str | None) -> None:
    if format_ == "md":
        from warroom.cli.postmortem import postmortem

        postmortem(hub, incident, None, output)
        return
    fetched = fetch_incident(hub.target(), incident)
    exported = incident_in(fetched.world, incident, fetched.me)
    document = {
        "format": "warroom-export",
        "version": 1,
        "exported_at": now().isoformat(),
        "incident": json_forms.incident_data(exported),
        "events": [
            {"seq": item.seq, "event": json_forms.event_data(item.event)}
            for item in fetched.log
            if item.event.incident == exported.id
        ],
    }
    text = json.dumps(document, indent=2)
    if output and output != "-":
        try:
            Path(output).write_text(text + "\n")
        except OSError as error:
            raise Failure(f"cannot write {output}: {error.strerror}") from None
        print(f"exported {exported.id} to {output}", file=sys.stderr)
    else:
        print(text)


@verb("tail", "stream events as they happen")
@hub_options
@click.argument("incident", required=False)
@option("--all", "from_start", is_flag=True, help="start from the first event")
def tail(hub: HubArgs, incident: str | None, from_start: bool) -> None:
    from warroom.net.remote import follow

    target = hub.target()
    wanted = incident.upper() if incident else None

    async def job() -> None:
        async for item in follow(target.urls, target.token, cursor=0 if from_start else None):
            if wanted is not None and item.event.incident != wanted:
                continue
            if hub.json:
                line = json.dumps({"seq": item.seq, "event": json_forms.event_data(item.event)})
            else:
                line = event_line(item)
            print(line, flush=True)

    with contextlib.suppress(KeyboardInterrupt):
        run(job)

"""The verbs that fill an incident's panels: impact, ETA, applications, notes, actions,
workarounds, and who may see each entry.
"""

from __future__ import annotations

import click

from warroom.cli.common import (
    HubArgs,
    audience_of,
    change,
    change_versioned,
    moment,
    parsed,
    text_or_stdin,
)
from warroom.cli.parsing import audience_option, hub_options, option, verb
from warroom.core import commands as c
from warroom.core.domain import (
    ActionState,
    Confidence,
    IncidentState,
    MitigationState,
    entry_number,
    parse_enum,
)
from warroom.core.timeparse import local

_based_on = option(
    "--based-on", type=int, metavar="BASED_ON", help="the version your edit is based on"
)
_force = option("--force", is_flag=True, help="replace a newer version anyway")


@verb("impact", "set the impact statement (- reads stdin)")
@hub_options
@audience_option
@click.argument("incident")
@click.argument("text")
@option("--customer-facing", is_flag=True)
@_based_on
@_force
def impact(
    hub: HubArgs,
    audience: str,
    incident: str,
    text: str,
    customer_facing: bool,
    based_on: int | None,
    force: bool,
) -> None:
    statement = text_or_stdin(text)
    seen_by = audience_of(audience)

    def build(current: IncidentState) -> c.Command:
        return c.SetImpact(
            incident=current.id,
            statement=statement,
            customer_facing=customer_facing,
            base_version=current.impact.version if based_on is None else based_on,
            audience=seen_by,
            force=force,
        )

    change_versioned(hub, incident, build, statement)


@verb("eta", "set the ETA (ISO 8601, HH:MM, +2h; 'none' withdraws it)")
@hub_options
@click.argument("incident")
@click.argument("time")
@option("--confidence", default="medium", help="low, medium or high")
@_based_on
@_force
def eta(
    hub: HubArgs, incident: str, time: str, confidence: str, based_on: int | None, force: bool
) -> None:
    when = None if time.lower() in ("none", "unknown") else moment(time)
    sure = parsed(lambda t: parse_enum(Confidence, t, "confidence"), confidence)

    def build(current: IncidentState) -> c.Command:
        return c.SetEta(
            incident=current.id,
            eta=when,
            confidence=sure,
            base_version=current.eta_version if based_on is None else based_on,
            force=force,
        )

    change_versioned(hub, incident, build, "none" if when is None else local(when))


@verb("app", "add or remove an affected application")
@hub_options
@click.argument("incident")
@click.argument("op", type=click.Choice(["add", "remove"]))
@click.argument("app")
def app(hub: HubArgs, incident: str, op: str, app: str) -> None:
    command: c.Command = (
        c.AddApp(incident=incident.upper(), app=app)
        if op == "add"
        else c.RemoveApp(incident=incident.upper(), app=app)
    )
    change(hub, command)


@verb("note", "add a note to the timeline (- reads stdin)")
@hub_options
@audience_option
@click.argument("incident")
@click.argument("text")
@option("--at", help="when it happened (ISO 8601, HH:MM, -15m)")
@option("--pin", is_flag=True, help="pin as a key moment")
def note(hub: HubArgs, audience: str, incident: str, text: str, at: str | None, pin: bool) -> None:
    command = c.AddNote(
        incident=incident.upper(),
        text=text_or_stdin(text),
        occurred_at=moment(at) if at else None,
        pinned=pin,
        audience=audience_of(audience),
    )
    change(hub, command)


@verb("pin", "pin a note as a key moment (--off unpins)")
@hub_options
@click.argument("incident")
@click.argument("note", help="note id, e.g. N3")
@option("--off", is_flag=True)
def pin(hub: HubArgs, incident: str, note: str, off: bool) -> None:
    number = parsed(lambda t: entry_number(t, "N"), note)
    change(hub, c.PinNote(incident=incident.upper(), note=number, pinned=not off))


@verb("action", "add an action (- reads stdin)")
@hub_options
@audience_option
@click.argument("incident")
@click.argument("text")
@option("--owner")
def action(hub: HubArgs, audience: str, incident: str, text: str, owner: str | None) -> None:
    command = c.AddAction(
        incident=incident.upper(),
        text=text_or_stdin(text),
        owner=owner,
        audience=audience_of(audience),
    )
    change(hub, command)


@verb("action-state", "change an action's state")
@hub_options
@click.argument("incident")
@click.argument("id", help="action id, e.g. A2")
@click.argument("state", help=", ".join(s.value for s in ActionState))
def action_state(hub: HubArgs, incident: str, id: str, state: str) -> None:
    number = parsed(lambda t: entry_number(t, "A"), id)
    new = parsed(lambda t: parse_enum(ActionState, t, "action state"), state)
    change(hub, c.ChangeActionState(incident=incident.upper(), action=number, state=new))


@verb("action-owner", "give an action an owner ('none' clears it)")
@hub_options
@click.argument("incident")
@click.argument("id", help="action id, e.g. A2")
@click.argument("owner")
def action_owner(hub: HubArgs, incident: str, id: str, owner: str) -> None:
    number = parsed(lambda t: entry_number(t, "A"), id)
    who = None if owner.lower() in ("none", "-") else owner
    change(hub, c.AssignAction(incident=incident.upper(), action=number, owner=who))


@verb("mitigate", "add a workaround (- reads stdin)")
@hub_options
@audience_option
@click.argument("incident")
@click.argument("text")
@option("--app", multiple=True, help="application it helps (repeatable)")
def mitigate(hub: HubArgs, audience: str, incident: str, text: str, app: tuple[str, ...]) -> None:
    command = c.AddMitigation(
        incident=incident.upper(),
        text=text_or_stdin(text),
        apps=app,
        audience=audience_of(audience),
    )
    change(hub, command)


@verb("mitigation-state", "change a workaround's state")
@hub_options
@click.argument("incident")
@click.argument("id", help="workaround id, e.g. M1")
@click.argument("state", help=", ".join(s.value for s in MitigationState))
def mitigation_state(hub: HubArgs, incident: str, id: str, state: str) -> None:
    number = parsed(lambda t: entry_number(t, "M"), id)
    new = parsed(lambda t: parse_enum(MitigationState, t, "workaround state"), state)
    change(
        hub,
        c.ChangeMitigationState(incident=incident.upper(), mitigation=number, state=new),
    )


@verb("audience", "show an entry (N3, A2, M1, impact) to another audience")
@hub_options
@click.argument("incident")
@click.argument("entry")
@click.argument("audience", help="internal, all, or stakeholder groups (comma-separated)")
def change_audience(hub: HubArgs, incident: str, entry: str, audience: str) -> None:
    command = c.ChangeAudience(
        incident=incident.upper(), entry=entry, audience=audience_of(audience)
    )
    change(hub, command)

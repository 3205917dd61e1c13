"""The verbs about an incident as a whole: declare, status, severity, privacy, invite."""

from __future__ import annotations

import click

from warroom.cli.common import HubArgs, audience_of, change, parsed
from warroom.cli.parsing import hub_options, option, verb
from warroom.core import commands as c
from warroom.core.domain import Severity, Status, parse_enum


@verb("declare", "declare an incident; prints its id")
@hub_options
@click.argument("title")
@option("--severity", "-s", required=True, help="1 (worst) to 4")
@option("--app", multiple=True, help="affected application (repeatable)")
@option(
    "--private",
    is_flag=True,
    help="seen only by incident managers, you, and the people invited",
)
@option(
    "--alert",
    metavar="AUDIENCE",
    help="then publish the initial alert, composed from the room, to 'all' or groups",
)
def declare(
    hub: HubArgs,
    title: str,
    severity: str,
    app: tuple[str, ...],
    private: bool,
    alert: str | None,
) -> None:
    command = c.DeclareIncident(
        title=title, severity=parsed(Severity.parse, severity), apps=app, private=private
    )
    if alert is None:
        change(hub, command)
        return
    from warroom.cli.updates import declare_with_alert

    declare_with_alert(hub, command, audience_of(alert))


@verb("invite", "let a user see a private incident (incident manager)")
@hub_options
@click.argument("incident")
@click.argument("user")
@option("--remove", is_flag=True, help="take the invitation back")
def invite(hub: HubArgs, incident: str, user: str, remove: bool) -> None:
    change(hub, c.ChangeAccess(incident=incident.upper(), user=user, invited=not remove))


@verb("privacy", "make an incident private or public (incident manager)")
@hub_options
@click.argument("incident")
@click.argument("privacy", type=click.Choice(["private", "public"]))
def privacy(hub: HubArgs, incident: str, privacy: str) -> None:
    change(hub, c.ChangePrivacy(incident=incident.upper(), private=privacy == "private"))


@verb("status", "change an incident's status")
@hub_options
@click.argument("incident")
@click.argument("status", help=", ".join(s.value for s in Status))
def status(hub: HubArgs, incident: str, status: str) -> None:
    new = parsed(lambda t: parse_enum(Status, t, "status"), status)
    change(hub, c.ChangeStatus(incident=incident.upper(), status=new))


@verb("severity", "change an incident's severity")
@hub_options
@click.argument("incident")
@click.argument("severity", help="1 (worst) to 4")
def severity(hub: HubArgs, incident: str, severity: str) -> None:
    new = parsed(Severity.parse, severity)
    change(hub, c.ChangeSeverity(incident=incident.upper(), severity=new))

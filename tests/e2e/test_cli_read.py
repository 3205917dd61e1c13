"""`show`, `export`, `impact` and `eta` read one incident, not the whole log: what they print is
what reading and folding the whole log gave, to a manager, a stakeholder and an uninvited responder;
the uninvited cannot tell a private incident from one never declared; versioned edits are based
on the version the read found."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest

from tests.kit.harness import Hub, concurrently
from warroom.core import commands as c
from warroom.core import json_forms, protocol
from warroom.core.domain import Actor, Role, Severity, Status
from warroom.core.policy import disclosed, preview_actor, visible_part
from warroom.core.reducer import replay
from warroom.core.views import incident_page
from warroom.net.remote import Remote

_RELATIVE = re.compile(r" *(in )?\b\d+[smhd]( \d+[mh])?( ago)?")


def _steady(text: str) -> str:
    """`text` without its relative times ("12s ago"), which move while the test runs, nor the
    spaces that align them in a column ("9s ago" takes one more than "10s ago")."""
    return _RELATIVE.sub(" <when>", text)


def _whole_log(hub: Hub, token: str, incident_id: str, audience: str | None = None) -> Any:
    """What `show` and `export` printed when they read the whole log: (show --json data, export
    events, show's text), or None if the user may not see the incident."""

    async def fetch() -> tuple[list[protocol.EventFrame], Actor]:
        async with await Remote.open(hub.url, token) as remote:
            log = await remote.sync(0)
            assert remote.welcome is not None
            welcome = remote.welcome
        return log, Actor(welcome.user, Role(welcome.role), frozenset(welcome.groups))

    log, viewer = asyncio.run(fetch())
    world = replay(item.event for item in log)
    if audience is not None:
        viewer = preview_actor(audience)
        log = [
            protocol.EventFrame(seq=item.seq, event=received)
            for item in log
            if (received := disclosed(viewer, item.event, world)) is not None
        ]
        world = replay(item.event for item in log)
    incident = world.incident(incident_id)
    if incident is None:
        return None
    incident = visible_part(incident, viewer)
    events = [
        {"seq": item.seq, "event": json_forms.event_data(item.event)}
        for item in log
        if item.event.incident == incident.id
    ]
    page = "\n".join(incident_page(incident, log, datetime.now(UTC))) + "\n"
    return {"incident": json_forms.incident_data(incident)}, events, page


def _masked(result: subprocess.CompletedProcess[str], incident: str) -> tuple[int, str, str]:
    return (
        result.returncode,
        result.stdout.replace(incident, "X"),
        result.stderr.replace(incident, "X"),
    )


def _reads(hub: Hub, token: str, incident: str) -> list[subprocess.CompletedProcess[str]]:
    """`show --json`, `export` and `show` of `incident` as `token`'s user, run at once."""
    verbs = [("show", incident, "--json"), ("export", incident), ("show", incident)]
    return concurrently(*(partial(hub.run, *verb, token=token) for verb in verbs))


async def _submit(hub: Hub, token: str, commands: list[c.Command]) -> None:
    """Submit `commands` over one connection (quicker than a process each)."""
    async with await Remote.open(hub.url, token) as remote:
        for command in commands:
            await remote.submit(command)


def _two_incidents_and_a_secret(hub: Hub, carol: str) -> str:
    """INC-1 and INC-2 interleaved, with entries for every audience, a question and its answer,
    an entry moved to another audience; then a private incident (its id returned), with ana
    invited."""
    one, two = "INC-1", "INC-2"
    hub.user_add("dave", "stakeholder", "support")  # entries for support must reach someone
    commands: list[c.Command] = [
        c.DeclareIncident(title="Checkout failing", severity=Severity.SEV1, apps=("checkout",)),
        c.DeclareIncident(title="Search slow", severity=Severity.SEV3),
    ]
    for audience in ("internal", "exec", "support", "all"):
        commands.append(c.AddNote(incident=one, text=f"{one} to {audience}", audience=audience))
        commands.append(c.AddNote(incident=two, text=f"{two} to {audience}", audience=audience))
    commands += [
        c.AddAction(incident=one, text="roll back", owner="ana"),
        c.AddMitigation(incident=one, text="use the app", audience="all"),
        c.SetImpact(incident=one, statement="cards fail", base_version=0, audience="all"),
        c.SetEta(incident=one, eta=datetime.now(UTC) + timedelta(hours=2), base_version=0),
    ]
    asyncio.run(_submit(hub, hub.token, commands))
    asyncio.run(_submit(hub, carol, [c.AskQuestion(incident=one, text="when?")]))
    commands = [
        c.AnswerQuestion(incident=one, question=1, text="within two hours"),
        c.ChangeAudience(incident=one, entry="N1", audience="all"),
        c.ChangeStatus(incident=one, status=Status.IDENTIFIED),
        c.DeclareIncident(title="Breach", severity=Severity.SEV1, private=True),
    ]
    asyncio.run(_submit(hub, hub.token, commands))
    # The hub names a private incident: read its id back.
    listed = json.loads(hub.ok("list", "--json"))
    (secret,) = [str(row["id"]) for row in listed if row["private"]]
    commands = [
        c.AddNote(incident=secret, text="in the vault", audience="all"),
        c.ChangeAccess(incident=secret, user="ana"),
    ]
    asyncio.run(_submit(hub, hub.token, commands))
    return secret


@pytest.mark.usefixtures("local_zone")
def test_show_and_export_print_what_the_whole_log_gave_for_every_role(hub: Hub) -> None:
    hub.user_add("ana", "responder")
    carol = hub.user_add("carol", "stakeholder", "exec")
    uma = hub.user_add("uma", "responder")
    secret = _two_incidents_and_a_secret(hub, carol)
    inc = "INC-1"

    for name, token in {"manager": hub.token, "carol": carol, "uma": uma}.items():
        for incident in (inc, secret):
            expected = _whole_log(hub, token, incident)
            shown, exported, page = _reads(hub, token, incident)
            if expected is None:
                # Refused exactly as an incident that was never declared.
                assert incident == secret and name != "manager", name
                never = _reads(hub, token, "INC-P99")
                assert [_masked(r, secret) for r in (shown, exported, page)] == [
                    _masked(r, "INC-P99") for r in never
                ]
                assert shown.returncode == 1
                assert f"there is no incident {secret} that you may see" in shown.stderr
                continue
            data, events, text = expected
            assert json.loads(shown.stdout) == data, name
            document = json.loads(exported.stdout)
            assert document["incident"] == data["incident"], name
            assert document["events"] == events, name
            assert _steady(page.stdout) == _steady(text), name
    # The incident manager's preview of what an audience sees too.
    data, _, text = _whole_log(hub, hub.token, inc, "exec")
    preview_json, preview_page = concurrently(
        partial(hub.ok, "show", inc, "--as", "exec", "--json"),
        partial(hub.ok, "show", inc, "--as", "exec"),
    )
    assert json.loads(preview_json) == data
    assert _steady(preview_page) == _steady(text)


def test_impact_and_eta_are_based_on_the_version_the_read_found(hub: Hub) -> None:
    uma = hub.user_add("uma", "responder")
    inc = hub.ok("declare", "Checkout failing", "-s", "2").strip()
    hub.ok("declare", "Elsewhere", "-s", "4")
    assert "impact v1" in hub.ok("impact", inc, "first")
    assert "impact v2" in hub.ok("impact", inc, "second")
    assert "v1" in hub.ok("eta", inc, "+1h")
    second = json.loads(hub.ok("eta", inc, "+2h", "--confidence", "low", "--json"))
    assert [event["version"] for event in second["events"]] == [2]
    shown = json.loads(hub.ok("show", inc, "--json"))["incident"]
    assert shown["impact"]["statement"] == "second" and shown["impact"]["version"] == 2
    assert shown["eta"]["version"] == 2 and shown["eta"]["confidence"] == "low"

    secret = hub.ok("declare", "Breach", "-s", "1", "--private").strip()
    for verb in (("impact", "{}", "mine"), ("eta", "{}", "+1h")):
        private = hub.run(*(word.format(secret) for word in verb), token=uma)
        never = hub.run(*(word.format("INC-P99") for word in verb), token=uma)
        assert private.returncode == never.returncode == 1
        assert private.stderr.replace(secret, "X") == never.stderr.replace("INC-P99", "X")
        assert "there is no incident" in private.stderr
    # An id no frame could carry names no incident either, as before.
    long = "INC-" + "9" * 40
    odd = concurrently(partial(hub.run, "show", ""), partial(hub.run, "impact", long, "x"))
    assert [(r.returncode, r.stderr) for r in odd] == [
        (1, "warroom: there is no incident  that you may see\n"),
        (1, f"warroom: there is no incident {long} that you may see\n"),
    ]

"""The authorization matrix (authorization.json) against a real hub: every role x every command.

Each case gets an incident of its own, prepared so that the command is otherwise valid, so a
refusal can only be the policy's. Zero unauthorized writes, zero wrong denials.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.kit.wire import Hub, declare, hello, submit
from warroom.core import commands as c

MATRIX = json.loads((Path(__file__).with_name("authorization.json")).read_text())


def _tags() -> set[str]:
    # The wire tag is each command dataclass's `type` field, whose default is a class attribute.
    return {vars(kind)["type"] for kind in c.COMMAND_TYPES}


def test_the_matrix_covers_every_command_and_role() -> None:
    assert set(MATRIX["commands"]) == _tags()
    roles = set(MATRIX["roles"])
    for rule in MATRIX["commands"].values():
        assert set(rule["allow"]) <= roles


def _fill(template: Any, values: dict[str, Any]) -> Any:
    if isinstance(template, dict):
        return {key: _fill(value, values) for key, value in template.items()}
    if isinstance(template, str) and template in values:
        return values[template]
    return template


INVITED = ("rita", "oscar", "erin", "sam")
"""Everyone but the uninvited user (see conftest.py for who plays which role)."""


@pytest.mark.parametrize("private", [False, True], ids=["public", "private"])
async def test_every_role_and_command_is_allowed_or_refused_as_the_matrix_says(
    hub: Hub, private: bool
) -> None:
    manager = await hub.connect("manager")
    await hello(manager, None)  # live events only: each declare's event names the new incident
    exec_user = await hub.connect("exec")
    roles = [r for r in MATRIX["roles"] if private or r != "uninvited"]
    connections = {role: await hub.connect(role) for role in roles}
    eta = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    mistakes: list[str] = []
    writes = 0
    for tag, rule in MATRIX["commands"].items():
        for role in roles:
            # A fresh incident with one of everything, so the command is valid but for the role.
            declared = await submit(manager, {**declare(f"{tag} as {role}"), "private": private})
            (own,) = [f for f in declared["seen"] if f["seq"] == declared["seq"]]
            incident_id = own["event"]["incident"]
            invitations = [
                {"type": "access.change", "incident": incident_id, "user": name}
                for name in (INVITED if private else ())
            ]
            prepared = [
                *invitations,
                {"type": "note.add", "incident": incident_id, "text": "n"},
                {"type": "action.add", "incident": incident_id, "text": "a"},
                {"type": "mitigation.add", "incident": incident_id, "text": "m"},
                {
                    "type": "impact.set",
                    "incident": incident_id,
                    "statement": "i",
                    "base_version": 0,
                },
            ]
            for command in prepared:
                assert (await submit(manager, command))["type"] == "ack"
            ask = {"type": "question.ask", "incident": incident_id, "text": "q"}
            for _ in range(2):  # a question and its duplicate
                assert (await submit(exec_user, ask))["type"] == "ack"
            writes += 3 + len(prepared)
            values = {"{inc}": incident_id, "{eta}": eta, "{flip}": not private}
            command = {"type": tag, **_fill(rule["command"], values)}
            answer = await submit(connections[role], command)
            allowed = role in rule["allow"]
            if allowed and answer["type"] != "ack":
                mistakes.append(f"{role} {tag}: wrongly refused: {answer.get('message')}")
            if not allowed and role == "uninvited":
                # Refused exactly as a command on an incident that does not exist is.
                ghost = await submit(connections[role], {**command, "incident": "INC-P999"})
                expected = (ghost["code"], ghost["message"].replace("INC-P999", incident_id))
                if (answer.get("code"), answer.get("message")) != expected:
                    mistakes.append(f"{role} {tag}: told apart from a missing incident: {answer}")
                if ghost["code"] not in ("not-found", "forbidden"):
                    mistakes.append(f"{role} {tag}: refused for another reason: {ghost}")
            elif not allowed and answer.get("code") != "forbidden":
                mistakes.append(f"{role} {tag}: not refused as forbidden: {answer}")
            writes += answer["type"] == "ack"
    assert mistakes == []
    # Nothing refused left a trace: the log holds exactly the accepted commands.
    log = await hello(await hub.connect("manager"))
    assert len(log) == writes

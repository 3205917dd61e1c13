"""The role table: who may issue which command, written out in full so any change shows here."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from warroom.core import commands as c
from warroom.core import policy
from warroom.core.domain import Actor, Role, Severity, World
from warroom.core.rejections import Rejected

IM, RESPONDER, OBSERVER, STAKEHOLDER = (
    Role.INCIDENT_MANAGER,
    Role.RESPONDER,
    Role.OBSERVER,
    Role.STAKEHOLDER,
)

# command type -> (incident-manager, responder, observer, stakeholder)
EXPECTED: dict[type, tuple[bool, bool, bool, bool]] = {
    c.DeclareIncident:       (True, True,  False, False),
    c.ChangeStatus:          (True, True,  False, False),
    c.ChangeSeverity:        (True, True,  False, False),
    c.SetImpact:             (True, True,  False, False),
    c.SetEta:                (True, True,  False, False),
    c.AddApp:                (True, True,  False, False),
    c.RemoveApp:             (True, True,  False, False),
    c.AddNote:               (True, True,  False, False),
    c.PinNote:               (True, True,  False, False),
    c.AddAction:             (True, True,  False, False),
    c.ChangeActionState:     (True, True,  False, False),
    c.AssignAction:          (True, True,  False, False),
    c.AddMitigation:         (True, True,  False, False),
    c.ChangeMitigationState: (True, True,  False, False),
    c.AskQuestion:           (True, False, False, True),
    c.AnswerQuestion:        (True, False, False, False),
    c.DismissQuestion:       (True, False, False, False),
    c.MergeQuestion:         (True, False, False, False),
    c.PublishUpdate:         (True, False, False, False),
    c.ChangeAudience:        (True, False, False, False),
    c.ChangePrivacy:         (True, False, False, False),
    c.ChangeAccess:          (True, False, False, False),
}  # fmt: skip
ROLES = (IM, RESPONDER, OBSERVER, STAKEHOLDER)

_FILLERS: dict[str, Any] = {
    "title": "t",
    "severity": Severity.SEV2,
    "incident": "INC-1",
    "status": "identified",
    "statement": "s",
    "base_version": 0,
    "eta": datetime(2026, 11, 27, 13, 0, tzinfo=UTC),
    "app": "checkout",
    "text": "x",
    "note": 1,
    "action": 1,
    "state": "done",
    "owner": "bob",
    "mitigation": 1,
    "question": 1,
    "entry": "N1",
    "audience": "all",
    "private": True,
    "user": "ana",
    "into": 2,
}


def instance(kind: type) -> c.Command:
    """Some instance of command class `kind` (authorization looks at the type only)."""
    required = {
        f.name: _FILLERS[f.name]
        for f in dataclasses.fields(kind)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    command: c.Command = kind(**required)
    return command


def test_expected_table_covers_every_command_type() -> None:
    assert set(EXPECTED) == set(c.COMMAND_TYPES)
    assert len(EXPECTED) == len(c.COMMAND_TYPES)


def test_policy_rules_have_an_entry_for_every_command_type() -> None:
    assert set(policy.RULES) == set(c.COMMAND_TYPES)


def test_every_role_is_in_the_table() -> None:
    assert set(ROLES) == set(Role)


def test_observers_appear_in_no_rule() -> None:
    assert all(OBSERVER not in roles for roles in policy.RULES.values())


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
@pytest.mark.parametrize("kind", c.COMMAND_TYPES, ids=lambda k: k.__name__)
def test_authorize_follows_the_table(role: Role, kind: type) -> None:
    allowed = EXPECTED[kind][ROLES.index(role)]
    actor = Actor("someone", role, frozenset({"exec"}) if role is STAKEHOLDER else frozenset())
    command = instance(kind)
    assert policy.may(role, kind) is allowed
    if allowed:
        policy.authorize(actor, command, World())  # does not raise
    else:
        with pytest.raises(Rejected) as info:
            policy.authorize(actor, command, World())
        assert info.value.code == "forbidden"
        assert role.value in info.value.message
        assert info.value.current is None


def test_an_unknown_command_type_is_allowed_to_nobody() -> None:
    class Unknown:
        pass

    assert not any(policy.may(role, Unknown) for role in Role)

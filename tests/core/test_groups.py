"""The groups there are, and the check that an audience names only those (pure)."""

from __future__ import annotations

import pytest

from warroom.core import commands as c
from warroom.core.domain import Actor, Role
from warroom.core.groups import check_groups, known_groups, named_groups
from warroom.core.rejections import Rejected

INC = "INC-1"


def test_the_known_groups_are_those_of_active_stakeholders() -> None:
    users = [
        Actor("carol", Role.STAKEHOLDER, frozenset({"exec"})),
        Actor("dave", Role.STAKEHOLDER, frozenset({"support", "exec"})),
        Actor("ana", Role.RESPONDER),
        None,  # revoked
    ]
    assert known_groups(users) == ("exec", "support")


@pytest.mark.parametrize(
    ("command", "named"),
    [
        (c.AddNote(incident=INC, text="t", audience="Exec, finance"), {"exec", "finance"}),
        (c.AddAction(incident=INC, text="t", audience="all"), set()),
        (c.AddMitigation(incident=INC, text="t", audience="internal"), set()),
        (c.SetImpact(incident=INC, statement="s", base_version=0, audience="legal"), {"legal"}),
        (c.ChangeAudience(incident=INC, entry="N1", audience="legal"), {"legal"}),
        (c.AnswerQuestion(incident=INC, question=1, text="a"), set()),
        (c.AnswerQuestion(incident=INC, question=1, text="a", audience="legal"), {"legal"}),
        (c.AddNote(incident=INC, text="t", audience="Bad Group!"), set()),  # decide refuses it
        (c.AskQuestion(incident=INC, text="q"), set()),
    ],
)
def test_named_groups(command: c.Command, named: set[str]) -> None:
    assert named_groups(command) == named


def test_an_unknown_group_is_refused_naming_the_known_ones() -> None:
    command = c.AddNote(incident=INC, text="t", audience="exec,finance,legal")
    with pytest.raises(Rejected) as refused:
        check_groups(command, ("exec", "support"))
    assert refused.value.code == "unknown-group"
    assert refused.value.message == (
        "no stakeholder is in group finance, legal; known groups: exec, support"
    )
    check_groups(c.AddNote(incident=INC, text="t", audience="exec"), ("exec",))


def test_with_no_stakeholder_at_all_the_refusal_says_how_to_add_one() -> None:
    with pytest.raises(Rejected, match="known groups: none yet"):
        check_groups(c.AddNote(incident=INC, text="t", audience="exec"), ())

"""policy.visible_to and audience_includes: what a stakeholder receives, and what the war room
does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from warroom.core import commands as c
from warroom.core import events as e
from warroom.core.decide import decide
from warroom.core.domain import (
    ActionState,
    Actor,
    MitigationState,
    QuestionState,
    Role,
    Severity,
    Status,
    World,
)
from warroom.core.policy import audience_includes, authorize, visible_to
from warroom.core.reducer import apply, replay
from warroom.core.rejections import Rejected

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
IM = Actor("ines", Role.INCIDENT_MANAGER)
RESPONDER = Actor("rob", Role.RESPONDER)
OBSERVER = Actor("olga", Role.OBSERVER)
EXEC = Actor("eve", Role.STAKEHOLDER, frozenset({"exec"}))
EXEC_TOO = Actor("ed", Role.STAKEHOLDER, frozenset({"exec"}))
SUPPORT = Actor("sue", Role.STAKEHOLDER, frozenset({"support"}))
NO_GROUP = Actor("nat", Role.STAKEHOLDER)
INTERNAL_ACTORS = (IM, RESPONDER, OBSERVER)


class Room:
    """A world built command by command, remembering each event and the world after it."""

    def __init__(self) -> None:
        self.world = World()
        self.log: list[tuple[e.Event, World]] = []

    def do(self, command: c.Command, actor: Actor = IM) -> e.Event:
        authorize(actor, command, self.world)
        (event,) = decide(self.world, command, actor, NOW + timedelta(seconds=len(self.log)))
        self.world = apply(self.world, event)
        self.log.append((event, self.world))
        return event

    def sees(self, actor: Actor, event: e.Event) -> bool:
        return visible_to(actor, event, self.world)


@pytest.fixture
def room() -> Room:
    room = Room()
    room.do(c.DeclareIncident(title="Checkout failing", severity=Severity.SEV2, apps=("web",)))
    return room


def test_stakeholder_sees_incident_level_events(room: Room) -> None:
    declared = room.log[0][0]
    events = [
        declared,
        room.do(c.ChangeStatus(incident="INC-1", status=Status.IDENTIFIED)),
        room.do(c.ChangeSeverity(incident="INC-1", severity=Severity.SEV1)),
        room.do(c.SetEta(incident="INC-1", eta=NOW + timedelta(hours=1), base_version=0)),
        room.do(c.SetEta(incident="INC-1", eta=None, base_version=1)),
        room.do(c.AddApp(incident="INC-1", app="payments")),
        room.do(c.RemoveApp(incident="INC-1", app="web")),
    ]
    for event in events:
        for actor in (EXEC, SUPPORT, NO_GROUP, *INTERNAL_ACTORS):
            assert room.sees(actor, event), (actor.name, event.type)


AUDIENCES = {
    # audience: does eve (group exec) see it?
    "internal": False,
    "all": True,
    "exec": True,
    "exec,support": True,
    "board,exec": True,
    "support": False,
    "board": False,
}


def _entries(room: Room, audience: str) -> list[e.Event]:
    return [
        room.do(c.AddNote(incident="INC-1", text="n", audience=audience)),
        room.do(c.AddAction(incident="INC-1", text="a", audience=audience)),
        room.do(c.AddMitigation(incident="INC-1", text="m", audience=audience)),
        room.do(
            c.SetImpact(
                incident="INC-1",
                statement="s",
                base_version=room.world.incident("INC-1").impact.version,  # type: ignore[union-attr]
                audience=audience,
            )
        ),
    ]


@pytest.mark.parametrize(("audience", "expected"), AUDIENCES.items())
def test_entries_follow_their_audience(room: Room, audience: str, expected: bool) -> None:
    for event in _entries(room, audience):
        assert room.sees(EXEC, event) is expected, event.type
        for actor in INTERNAL_ACTORS:
            assert room.sees(actor, event), (actor.name, event.type)
        assert room.sees(NO_GROUP, event) is (audience == "all"), event.type


@pytest.mark.parametrize(("audience", "expected"), AUDIENCES.items())
def test_state_changes_follow_the_entry_audience(room: Room, audience: str, expected: bool) -> None:
    _entries(room, audience)
    changes = [
        room.do(c.PinNote(incident="INC-1", note=1)),
        room.do(c.ChangeActionState(incident="INC-1", action=1, state=ActionState.DONE)),
        room.do(c.AssignAction(incident="INC-1", action=1, owner="bob")),
        room.do(
            c.ChangeMitigationState(incident="INC-1", mitigation=1, state=MitigationState.VERIFIED)
        ),
    ]
    for event in changes:
        assert room.sees(EXEC, event) is expected, event.type
        assert room.sees(RESPONDER, event), event.type


def test_state_change_of_an_internal_entry_next_to_a_public_one(room: Room) -> None:
    room.do(c.AddNote(incident="INC-1", text="public", audience="all"))
    room.do(c.AddNote(incident="INC-1", text="private"))
    assert room.sees(EXEC, room.do(c.PinNote(incident="INC-1", note=1)))
    assert not room.sees(EXEC, room.do(c.PinNote(incident="INC-1", note=2)))


def test_questions_are_seen_by_their_asker_only(room: Room) -> None:
    mine = room.do(c.AskQuestion(incident="INC-1", text="mine"), EXEC)
    theirs = room.do(c.AskQuestion(incident="INC-1", text="theirs"), SUPPORT)
    assert room.sees(EXEC, mine)
    assert not room.sees(EXEC, theirs)
    assert room.sees(SUPPORT, theirs)
    assert not room.sees(EXEC_TOO, mine)  # same group, other person
    for actor in INTERNAL_ACTORS:
        assert room.sees(actor, mine)
        assert room.sees(actor, theirs)


def test_private_answer_reaches_the_asker_only(room: Room) -> None:
    room.do(c.AskQuestion(incident="INC-1", text="mine"), EXEC)
    answer = room.do(c.AnswerQuestion(incident="INC-1", question=1, text="soon"))
    assert room.sees(EXEC, answer)
    assert not room.sees(EXEC_TOO, answer)
    assert not room.sees(SUPPORT, answer)
    assert room.sees(OBSERVER, answer)


def test_published_answer_reaches_its_audience_and_the_asker(room: Room) -> None:
    room.do(c.AskQuestion(incident="INC-1", text="sue asks"), SUPPORT)
    room.do(c.AskQuestion(incident="INC-1", text="sue asks again"), SUPPORT)
    room.do(c.AskQuestion(incident="INC-1", text="eve asks"), EXEC)
    to_all = room.do(c.AnswerQuestion(incident="INC-1", question=1, text="a", audience="all"))
    to_support = room.do(
        c.AnswerQuestion(incident="INC-1", question=2, text="b", audience="support")
    )
    to_support_on_eves = room.do(
        c.AnswerQuestion(incident="INC-1", question=3, text="c", audience="support")
    )
    assert room.sees(EXEC, to_all)
    assert room.sees(NO_GROUP, to_all)
    assert not room.sees(EXEC, to_support)
    assert room.sees(SUPPORT, to_support)
    assert room.sees(EXEC, to_support_on_eves)  # her own question
    assert room.sees(SUPPORT, to_support_on_eves)
    assert not room.sees(EXEC_TOO, to_support_on_eves)


def test_dismissal_reaches_the_asker_only(room: Room) -> None:
    room.do(c.AskQuestion(incident="INC-1", text="mine"), EXEC)
    dismissed = room.do(c.DismissQuestion(incident="INC-1", question=1, reason="dup"))
    assert room.sees(EXEC, dismissed)
    assert not room.sees(EXEC_TOO, dismissed)
    assert room.sees(IM, dismissed)


def test_events_of_an_incident_the_world_does_not_hold_reach_nobody(room: Room) -> None:
    # Nothing tells whether such an incident would be private: nobody gets it.
    stray = e.AppAdded(incident="INC-9", actor="x", at=NOW, app="a")
    assert not visible_to(EXEC, stray, room.world)
    assert not visible_to(OBSERVER, stray, room.world)
    assert not visible_to(IM, stray, room.world)


@pytest.mark.parametrize(
    ("audience", "actor", "expected"),
    [
        (None, EXEC, False),
        ("internal", EXEC, False),
        ("all", EXEC, True),
        ("all", NO_GROUP, True),
        ("exec", EXEC, True),
        ("exec", NO_GROUP, False),
        ("exec,support", SUPPORT, True),
        ("support", EXEC, False),
        (None, OBSERVER, True),
        ("internal", RESPONDER, True),
        ("support", IM, True),
    ],
)
def test_audience_includes(audience: str | None, actor: Actor, expected: bool) -> None:
    assert audience_includes(audience, actor) is expected


def test_a_stakeholder_view_holds_only_what_they_may_see(room: Room) -> None:
    room.do(c.AddNote(incident="INC-1", text="secret"))
    room.do(c.AddNote(incident="INC-1", text="for execs", audience="exec"))
    room.do(c.AddAction(incident="INC-1", text="private action"))
    room.do(c.AddAction(incident="INC-1", text="public action", audience="all"))
    room.do(c.AskQuestion(incident="INC-1", text="support asks"), SUPPORT)
    room.do(c.AskQuestion(incident="INC-1", text="eve asks"), EXEC)
    room.do(c.AnswerQuestion(incident="INC-1", question=1, text="published", audience="all"))
    room.do(c.ChangeActionState(incident="INC-1", action=2, state=ActionState.DONE))
    room.do(c.ChangeActionState(incident="INC-1", action=1, state=ActionState.DONE))
    room.do(c.PinNote(incident="INC-1", note=2))

    seen = [event for event, after in room.log if visible_to(EXEC, event, after)]
    view = replay(seen).incident("INC-1")
    assert view is not None
    assert [(n.id, n.text, n.pinned) for n in view.notes] == [(2, "for execs", True)]
    assert [(a.id, a.text, a.state) for a in view.actions] == [
        (2, "public action", ActionState.DONE)
    ]
    by_id = {q.id: q for q in view.questions}
    assert set(by_id) == {1, 2}
    assert by_id[1].text == "support asks"
    assert by_id[1].asker == ""  # never saw it asked
    assert by_id[1].state is QuestionState.ANSWERED
    assert by_id[1].answer == "published"
    assert by_id[2].asker == "eve"
    assert by_id[2].state is QuestionState.OPEN


# Private incidents -------------------------------------------------------------------------------


@pytest.fixture
def vault() -> Room:
    """INC-P1, declared private by the responder rob, who is invited by declaring it."""
    room = Room()
    breach = c.DeclareIncident(title="Breach", severity=Severity.SEV1, private=True, suffix="1")
    room.do(breach, RESPONDER)
    room.do(c.AddNote(incident="INC-P1", text="everyone may read this", audience="all"))
    return room


def test_a_private_incident_is_numbered_apart_and_its_declarer_invited(vault: Room) -> None:
    incident = vault.world.incident("INC-P1")
    assert incident is not None and incident.private and incident.invited == ("rob",)
    declared = vault.do(c.DeclareIncident(title="Public", severity=Severity.SEV3))
    assert declared.incident == "INC-1"  # the public series has no gap for it


def test_the_uninvited_see_nothing_of_a_private_incident(vault: Room) -> None:
    for event, _ in vault.log:
        for actor in (OBSERVER, EXEC, Actor("una", Role.RESPONDER)):
            assert not vault.sees(actor, event), (actor.name, event.type)
        for actor in (IM, RESPONDER):
            assert vault.sees(actor, event)


def test_the_uninvited_are_refused_as_if_it_did_not_exist(vault: Room) -> None:
    una = Actor("una", Role.RESPONDER)
    refusals = []
    for incident in ("INC-P1", "INC-P7"):
        with pytest.raises(Rejected) as info:
            command = c.AddNote(incident=incident, text="x")
            authorize(una, command, vault.world)
            decide(vault.world, command, una, NOW)
        refusals.append((info.value.code, info.value.message.replace(incident, "X")))
    assert refusals[0] == refusals[1] == ("not-found", "there is no incident X")


def test_an_invitation_admits_a_stakeholder_to_what_their_audience_allows(vault: Room) -> None:
    invited = vault.do(c.ChangeAccess(incident="INC-P1", user="eve"))
    # Invitations are the war room's business: the invitee sees the incident, not the invite.
    assert not vault.sees(EXEC, invited) and not vault.sees(EXEC_TOO, invited)
    note_added = vault.log[1][0]
    assert vault.sees(EXEC, note_added) and not vault.sees(EXEC_TOO, note_added)
    internal = vault.do(c.AddNote(incident="INC-P1", text="internal"))
    assert not vault.sees(EXEC, internal)
    taken_back = vault.do(c.ChangeAccess(incident="INC-P1", user="eve", invited=False))
    assert not vault.sees(EXEC, taken_back) and not vault.sees(EXEC, note_added)


def test_privacy_can_change_both_ways(vault: Room) -> None:
    public = vault.do(c.ChangePrivacy(incident="INC-P1", private=False))
    assert vault.sees(OBSERVER, public) and vault.sees(EXEC, vault.log[1][0])
    vault.do(c.ChangePrivacy(incident="INC-P1", private=True))
    assert not vault.sees(OBSERVER, vault.log[1][0])
    with pytest.raises(Rejected, match="already private"):
        decide(vault.world, c.ChangePrivacy(incident="INC-P1", private=True), IM, NOW)
    with pytest.raises(Rejected, match="already invited"):
        decide(vault.world, c.ChangeAccess(incident="INC-P1", user="rob"), IM, NOW)

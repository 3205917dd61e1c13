"""decide + apply for every command: the events each produces, the state after folding them,
and every way a command is refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest

from warroom.core import commands as c
from warroom.core import events as e
from warroom.core.decide import decide
from warroom.core.domain import (
    ActionState,
    Actor,
    Confidence,
    MitigationState,
    QuestionState,
    Role,
    Severity,
    Status,
    World,
)
from warroom.core.inputs import CLOCK_SKEW, MAX_NAME, MAX_TEXT, MAX_TITLE
from warroom.core.policy import authorize
from warroom.core.reducer import apply, replay
from warroom.core.rejections import EtaConflict, ImpactConflict, Rejected

EventT = TypeVar("EventT", bound=e.EventBase)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
IM = Actor("ines", Role.INCIDENT_MANAGER)
RESPONDER = Actor("rob", Role.RESPONDER)
EXEC = Actor("eve", Role.STAKEHOLDER, frozenset({"exec"}))


def run(
    world: World, command: c.Command, actor: Actor = IM, now: datetime = NOW
) -> tuple[list[e.Event], World]:
    """Authorize and decide `command`, then fold its events: (events, world after)."""
    authorize(actor, command, world)
    events = decide(world, command, actor, now)
    return events, replay(events, world)


def refused(world: World, command: c.Command, actor: Actor = IM, now: datetime = NOW) -> Rejected:
    """The Rejected raised by `command`; also checks the world was left untouched."""
    before = world
    with pytest.raises(Rejected) as info:
        run(world, command, actor, now)
    assert world == before
    return info.value


def only(events: list[e.Event], kind: type[EventT]) -> EventT:
    """The single event of `events`, checked to be a `kind`, stamped with the actor and time."""
    assert len(events) == 1
    (event,) = events
    assert isinstance(event, kind)
    assert event.at == NOW
    return event


def declared(actor: Actor = IM) -> World:
    """A world holding INC-1 (SEV2, investigating, app checkout), declared an hour ago."""
    _, world = run(
        World(),
        c.DeclareIncident(title="Checkout failing", severity=Severity.SEV2, apps=("checkout",)),
        actor,
        NOW - timedelta(hours=1),
    )
    return world


def rich() -> World:
    """INC-1 with note N1, action A1, workaround M1 and open question Q1 from a stakeholder."""
    world = declared()
    earlier = NOW - timedelta(minutes=30)
    opening: list[tuple[c.Command, Actor]] = [
        (c.AddNote(incident="INC-1", text="deploy 4812 rolled out"), IM),
        (c.AddAction(incident="INC-1", text="roll back 4812", owner="bob"), IM),
        (c.AddMitigation(incident="INC-1", text="route via US", apps=("checkout",)), IM),
        (c.AskQuestion(incident="INC-1", text="when is it fixed?"), EXEC),
    ]
    for command, actor in opening:
        _, world = run(world, command, actor, earlier)
    return world


@pytest.fixture
def world() -> World:
    return declared()


# Every command, once, on a world where it is valid -----------------------------------------

SAMPLES: dict[type, tuple[Callable[[str], c.Command], type, Actor]] = {
    c.DeclareIncident: (lambda i: c.DeclareIncident(title="t", severity=Severity.SEV3),
                        e.IncidentDeclared, IM),
    c.ChangeStatus: (lambda i: c.ChangeStatus(incident=i, status=Status.IDENTIFIED),
                     e.StatusChanged, IM),
    c.ChangeSeverity: (lambda i: c.ChangeSeverity(incident=i, severity=Severity.SEV1),
                       e.SeverityChanged, IM),
    c.SetImpact: (lambda i: c.SetImpact(incident=i, statement="s", base_version=0),
                  e.ImpactUpdated, IM),
    c.SetEta: (lambda i: c.SetEta(incident=i, eta=NOW + timedelta(hours=1), base_version=0),
               e.EtaSet, IM),
    c.AddApp: (lambda i: c.AddApp(incident=i, app="payments"), e.AppAdded, IM),
    c.RemoveApp: (lambda i: c.RemoveApp(incident=i, app="checkout"), e.AppRemoved, IM),
    c.AddNote: (lambda i: c.AddNote(incident=i, text="n"), e.NoteAdded, IM),
    c.PinNote: (lambda i: c.PinNote(incident=i, note=1), e.NotePinned, IM),
    c.AddAction: (lambda i: c.AddAction(incident=i, text="a"), e.ActionAdded, IM),
    c.ChangeActionState: (
        lambda i: c.ChangeActionState(incident=i, action=1, state=ActionState.DONE),
        e.ActionStateChanged, IM,
    ),
    c.AssignAction: (lambda i: c.AssignAction(incident=i, action=1, owner="carl"),
                     e.ActionAssigned, IM),
    c.AddMitigation: (lambda i: c.AddMitigation(incident=i, text="m"), e.MitigationAdded, IM),
    c.ChangeMitigationState: (
        lambda i: c.ChangeMitigationState(incident=i, mitigation=1,
                                          state=MitigationState.VERIFIED),
        e.MitigationStateChanged, IM,
    ),
    c.AskQuestion: (lambda i: c.AskQuestion(incident=i, text="q?"), e.QuestionAsked, EXEC),
    c.AnswerQuestion: (lambda i: c.AnswerQuestion(incident=i, question=1, text="soon"),
                       e.QuestionAnswered, IM),
    c.DismissQuestion: (lambda i: c.DismissQuestion(incident=i, question=1),
                        e.QuestionDismissed, IM),
    c.MergeQuestion: (lambda i: c.MergeQuestion(incident=i, question=2, into=1),
                      e.QuestionMerged, IM),
    c.PublishUpdate: (lambda i: c.PublishUpdate(incident=i, audience="all", summary="fixing"),
                      e.UpdatePublished, IM),
    c.ChangeAudience: (lambda i: c.ChangeAudience(incident=i, entry="N1", audience="exec"),
                       e.AudienceChanged, IM),
    c.ChangePrivacy: (lambda i: c.ChangePrivacy(incident=i, private=True),
                      e.PrivacyChanged, IM),
    c.ChangeAccess: (lambda i: c.ChangeAccess(incident=i, user="ana"), e.AccessChanged, IM),
}  # fmt: skip


def test_samples_cover_every_command_type() -> None:
    assert set(SAMPLES) == set(c.COMMAND_TYPES)
    assert len(c.COMMAND_TYPES) == len(set(c.COMMAND_TYPES))


@pytest.mark.parametrize("kind", c.COMMAND_TYPES, ids=lambda k: k.__name__)
def test_every_command_yields_one_event_of_its_type(kind: type) -> None:
    make, event_type, actor = SAMPLES[kind]
    world = rich()
    if kind is c.MergeQuestion:  # it needs a duplicate to merge
        _, world = run(world, c.AskQuestion(incident="INC-1", text="fixed when?"), EXEC)
    events, after = run(world, make("INC-1"), actor)
    event: e.EventBase = only(events, event_type)
    assert event.actor == actor.name
    if kind is c.DeclareIncident:
        assert event.incident == "INC-2"
    else:
        assert event.incident == "INC-1"
        assert after.incident("INC-1") != world.incident("INC-1")
    incident = after.incident(event.incident)
    assert incident is not None
    assert incident.updated_at == NOW


@pytest.mark.parametrize(
    "kind", [k for k in c.COMMAND_TYPES if k is not c.DeclareIncident], ids=lambda k: k.__name__
)
def test_every_incident_command_on_unknown_incident_is_not_found(kind: type) -> None:
    make, _, actor = SAMPLES[kind]
    rejected = refused(rich(), make("INC-9"), actor)
    assert rejected.code == "not-found"
    assert "INC-9" in rejected.message


def test_decide_is_deterministic_and_does_not_change_the_world() -> None:
    world = rich()
    snapshot = replay([], world)
    command = c.AddNote(incident="INC-1", text="same")
    assert decide(world, command, IM, NOW) == decide(world, command, IM, NOW)
    assert world == snapshot


def test_now_in_another_zone_is_stamped_in_utc(world: World) -> None:
    paris = NOW.astimezone(ZoneInfo("Europe/Paris"))
    (event,) = decide(world, c.AddNote(incident="INC-1", text="x"), IM, paris)
    assert event.at == NOW
    assert event.at.utcoffset() == timedelta(0)
    assert event.at.tzinfo is UTC


def test_incident_ids_are_case_insensitive(world: World) -> None:
    events, _ = run(world, c.AddNote(incident="inc-1", text="lower-case id"))
    assert only(events, e.NoteAdded).incident == "INC-1"


# DeclareIncident ---------------------------------------------------------------------------


def test_declare_by_incident_manager() -> None:
    events, world = run(
        World(),
        c.DeclareIncident(
            title="  Checkout failing  ",
            severity=Severity.SEV1,
            apps=("checkout", " Checkout ", "payments", "checkout"),
        ),
    )
    event = only(events, e.IncidentDeclared)
    assert event.incident == "INC-1"
    assert event.title == "Checkout failing"
    assert event.apps == ("checkout", "payments")
    assert event.manager == "ines"
    assert world.declared == 1
    incident = world.incident("INC-1")
    assert incident is not None
    assert incident.title == "Checkout failing"
    assert incident.severity is Severity.SEV1
    assert incident.status is Status.INVESTIGATING
    assert incident.declared_by == "ines"
    assert incident.declared_at == NOW
    assert incident.manager == "ines"
    assert incident.apps == ("checkout", "payments")
    assert incident.resolved_at is None
    assert incident.impact.version == 0
    assert incident.eta is None
    assert incident.eta_version == 0


def test_declare_numbers_incidents_in_order() -> None:
    world = declared()
    events, world = run(world, c.DeclareIncident(title="second", severity=Severity.SEV4))
    assert only(events, e.IncidentDeclared).incident == "INC-2"
    assert world.declared == 2
    assert sorted(world.incidents) == ["INC-1", "INC-2"]
    assert [i.id for i in world.newest_first()] == ["INC-2", "INC-1"]


def test_declare_by_responder_has_no_manager() -> None:
    events, world = run(World(), c.DeclareIncident(title="t", severity=Severity.SEV3), RESPONDER)
    assert only(events, e.IncidentDeclared).manager is None
    incident = world.incident("INC-1")
    assert incident is not None
    assert incident.manager is None
    assert incident.declared_by == "rob"


@pytest.mark.parametrize(
    "command",
    [
        c.DeclareIncident(title="   ", severity=Severity.SEV1),
        c.DeclareIncident(title="x" * (MAX_TITLE + 1), severity=Severity.SEV1),
        c.DeclareIncident(title="ok", severity=Severity.SEV1, apps=("checkout", "  ")),
        c.DeclareIncident(title="ok", severity=Severity.SEV1, apps=("a" * (MAX_NAME + 1),)),
    ],
    ids=["empty-title", "long-title", "empty-app", "long-app"],
)
def test_declare_invalid(command: c.DeclareIncident) -> None:
    assert refused(World(), command).code == "invalid"


def test_declare_title_at_the_limit_is_accepted() -> None:
    events, _ = run(World(), c.DeclareIncident(title="x" * MAX_TITLE, severity=Severity.SEV1))
    assert only(events, e.IncidentDeclared).title == "x" * MAX_TITLE


# ChangeStatus ------------------------------------------------------------------------------


def test_change_status(world: World) -> None:
    events, world = run(world, c.ChangeStatus(incident="INC-1", status=Status.IDENTIFIED))
    event = only(events, e.StatusChanged)
    assert event.status is Status.IDENTIFIED
    assert event.previous is Status.INVESTIGATING
    incident = world.incident("INC-1")
    assert incident is not None
    assert incident.status is Status.IDENTIFIED
    assert incident.resolved_at is None
    assert incident.updated_at == NOW


def test_resolve_sets_resolved_at_and_reopen_clears_it(world: World) -> None:
    _, world = run(world, c.ChangeStatus(incident="INC-1", status=Status.RESOLVED))
    incident = world.incident("INC-1")
    assert incident is not None
    assert incident.status is Status.RESOLVED
    assert incident.resolved_at == NOW

    later = NOW + timedelta(minutes=5)
    events = decide(world, c.ChangeStatus(incident="INC-1", status=Status.MONITORING), IM, later)
    (event,) = events
    assert isinstance(event, e.StatusChanged)
    assert event.previous is Status.RESOLVED
    world = replay(events, world)
    incident = world.incident("INC-1")
    assert incident is not None
    assert incident.status is Status.MONITORING
    assert incident.resolved_at is None


def test_resolving_twice_keeps_the_time_of_the_last_resolution(world: World) -> None:
    _, world = run(world, c.ChangeStatus(incident="INC-1", status=Status.RESOLVED))
    _, world = run(world, c.ChangeStatus(incident="INC-1", status=Status.INVESTIGATING))
    later = NOW + timedelta(hours=2)
    _, world = run(world, c.ChangeStatus(incident="INC-1", status=Status.RESOLVED), now=later)
    incident = world.incident("INC-1")
    assert incident is not None
    assert incident.resolved_at == later


def test_no_op_status_change_is_invalid_state(world: World) -> None:
    rejected = refused(world, c.ChangeStatus(incident="INC-1", status=Status.INVESTIGATING))
    assert rejected.code == "invalid-state"
    assert "already investigating" in rejected.message


# ChangeSeverity ----------------------------------------------------------------------------


def test_change_severity(world: World) -> None:
    events, world = run(world, c.ChangeSeverity(incident="INC-1", severity=Severity.SEV1))
    event = only(events, e.SeverityChanged)
    assert event.severity is Severity.SEV1
    assert event.previous is Severity.SEV2
    incident = world.incident("INC-1")
    assert incident is not None
    assert incident.severity is Severity.SEV1


def test_no_op_severity_change_is_invalid_state(world: World) -> None:
    rejected = refused(world, c.ChangeSeverity(incident="INC-1", severity=Severity.SEV2))
    assert rejected.code == "invalid-state"


# SetImpact ---------------------------------------------------------------------------------


def test_set_impact_then_edit_on_the_current_version(world: World) -> None:
    events, world = run(
        world,
        c.SetImpact(
            incident="INC-1",
            statement="  EU customers cannot pay  ",
            customer_facing=True,
            base_version=0,
            audience="Support, exec",
        ),
    )
    event = only(events, e.ImpactUpdated)
    assert event.version == 1
    assert event.statement == "EU customers cannot pay"
    assert event.audience == "exec,support"
    assert event.forced is False
    incident = world.incident("INC-1")
    assert incident is not None
    impact = incident.impact
    assert impact.version == 1
    assert impact.statement == "EU customers cannot pay"
    assert impact.customer_facing is True
    assert impact.audience == "exec,support"
    assert impact.updated_by == "ines"
    assert impact.updated_at == NOW

    events, world = run(
        world, c.SetImpact(incident="INC-1", statement="fixed wording", base_version=1), RESPONDER
    )
    assert only(events, e.ImpactUpdated).version == 2
    incident = world.incident("INC-1")
    assert incident is not None
    assert incident.impact.version == 2
    assert incident.impact.updated_by == "rob"
    assert incident.impact.customer_facing is False
    assert incident.impact.audience == "internal"


def test_stale_impact_is_a_conflict_with_the_current_value(world: World) -> None:
    _, world = run(
        world,
        c.SetImpact(incident="INC-1", statement="first", customer_facing=True, base_version=0),
        RESPONDER,
    )
    rejected = refused(world, c.SetImpact(incident="INC-1", statement="second", base_version=0))
    assert rejected.code == "conflict"
    assert rejected.current == ImpactConflict(
        version=1, statement="first", customer_facing=True, updated_by="rob"
    )


def test_impact_from_the_future_is_a_conflict_too(world: World) -> None:
    rejected = refused(world, c.SetImpact(incident="INC-1", statement="x", base_version=3))
    assert rejected.code == "conflict"
    assert rejected.current == ImpactConflict(
        version=0, statement="", customer_facing=False, updated_by=None
    )


def test_forced_impact_overrides_and_is_recorded(world: World) -> None:
    _, world = run(world, c.SetImpact(incident="INC-1", statement="first", base_version=0))
    events, world = run(
        world, c.SetImpact(incident="INC-1", statement="mine", base_version=0, force=True)
    )
    event = only(events, e.ImpactUpdated)
    assert event.forced is True
    assert event.version == 2
    incident = world.incident("INC-1")
    assert incident is not None
    assert incident.impact.statement == "mine"
    assert incident.impact.version == 2


def test_force_on_the_current_version_is_not_marked_forced(world: World) -> None:
    events, _ = run(world, c.SetImpact(incident="INC-1", statement="x", base_version=0, force=True))
    assert only(events, e.ImpactUpdated).forced is False


@pytest.mark.parametrize(
    "command",
    [
        c.SetImpact(incident="INC-1", statement=" ", base_version=0),
        c.SetImpact(incident="INC-1", statement="x" * (MAX_TEXT + 1), base_version=0),
        c.SetImpact(incident="INC-1", statement="x", base_version=0, audience="Not a group!"),
        c.SetImpact(incident="INC-1", statement="x", base_version=0, audience=" , "),
    ],
    ids=["empty", "too-long", "bad-audience", "empty-audience"],
)
def test_invalid_impact(world: World, command: c.SetImpact) -> None:
    assert refused(world, command).code == "invalid"


# SetEta ------------------------------------------------------------------------------------


def test_set_eta_and_revise_it(world: World) -> None:
    first = NOW + timedelta(minutes=45)
    events, world = run(
        world,
        c.SetEta(incident="INC-1", eta=first, confidence=Confidence.HIGH, base_version=0),
    )
    event = only(events, e.EtaSet)
    assert event.eta == first
    assert event.version == 1
    assert event.confidence is Confidence.HIGH
    assert event.forced is False
    incident = world.incident("INC-1")
    assert incident is not None
    assert incident.eta is not None
    assert incident.eta.eta == first
    assert incident.eta.set_by == "ines"
    assert incident.eta.set_at == NOW
    assert incident.eta_version == 1
    assert len(incident.eta_history) == 1

    second = (NOW + timedelta(hours=2)).astimezone(ZoneInfo("Europe/Paris"))
    events, world = run(world, c.SetEta(incident="INC-1", eta=second, base_version=1), RESPONDER)
    event = only(events, e.EtaSet)
    assert event.eta == second
    assert event.eta is not None
    assert event.eta.tzinfo is UTC
    incident = world.incident("INC-1")
    assert incident is not None
    assert incident.eta_version == 2
    assert [r.version for r in incident.eta_history] == [1, 2]
    assert incident.eta_history[0].eta == first
    assert incident.eta == incident.eta_history[-1]
    assert incident.eta.confidence is Confidence.MEDIUM
    assert incident.eta.set_by == "rob"


def test_stale_eta_is_a_conflict_with_the_current_value(world: World) -> None:
    eta = NOW + timedelta(minutes=45)
    _, world = run(
        world, c.SetEta(incident="INC-1", eta=eta, confidence=Confidence.LOW, base_version=0)
    )
    rejected = refused(
        world, c.SetEta(incident="INC-1", eta=NOW + timedelta(hours=1), base_version=0), RESPONDER
    )
    assert rejected.code == "conflict"
    assert rejected.current == EtaConflict(
        version=1, eta=eta, confidence=Confidence.LOW, set_by="ines"
    )


def test_eta_conflict_before_any_estimate(world: World) -> None:
    rejected = refused(
        world, c.SetEta(incident="INC-1", eta=NOW + timedelta(hours=1), base_version=2)
    )
    assert rejected.code == "conflict"
    assert rejected.current == EtaConflict(version=0, eta=None, confidence=None, set_by=None)


def test_forced_eta_overrides_and_is_recorded(world: World) -> None:
    _, world = run(world, c.SetEta(incident="INC-1", eta=NOW + timedelta(hours=1), base_version=0))
    later = NOW + timedelta(hours=3)
    events, world = run(
        world, c.SetEta(incident="INC-1", eta=later, base_version=0, force=True), RESPONDER
    )
    event = only(events, e.EtaSet)
    assert event.forced is True
    assert event.version == 2
    incident = world.incident("INC-1")
    assert incident is not None
    assert incident.eta is not None
    assert incident.eta.eta == later
    assert incident.eta.forced is True
    assert [r.forced for r in incident.eta_history] == [False, True]


def test_eta_in_the_past_is_invalid_but_clock_skew_is_tolerated(world: World) -> None:
    past = NOW - CLOCK_SKEW - timedelta(seconds=1)
    rejected = refused(world, c.SetEta(incident="INC-1", eta=past, base_version=0))
    assert rejected.code == "invalid"
    events, _ = run(world, c.SetEta(incident="INC-1", eta=NOW - CLOCK_SKEW, base_version=0))
    assert only(events, e.EtaSet).eta == NOW - CLOCK_SKEW


def test_withdraw_eta(world: World) -> None:
    _, world = run(world, c.SetEta(incident="INC-1", eta=NOW + timedelta(hours=1), base_version=0))
    events, world = run(world, c.SetEta(incident="INC-1", eta=None, base_version=1))
    event = only(events, e.EtaSet)
    assert event.eta is None
    assert event.version == 2
    incident = world.incident("INC-1")
    assert incident is not None
    assert incident.eta is not None
    assert incident.eta.eta is None
    assert incident.eta_version == 2
    assert len(incident.eta_history) == 2


def test_withdrawing_a_missing_eta_is_invalid_state(world: World) -> None:
    rejected = refused(world, c.SetEta(incident="INC-1", eta=None, base_version=0))
    assert rejected.code == "invalid-state"


# AddApp / RemoveApp ------------------------------------------------------------------------


def test_add_app(world: World) -> None:
    events, world = run(world, c.AddApp(incident="INC-1", app="  payments "))
    assert only(events, e.AppAdded).app == "payments"
    incident = world.incident("INC-1")
    assert incident is not None
    assert incident.apps == ("checkout", "payments")


def test_add_app_twice_is_invalid_state_whatever_the_case(world: World) -> None:
    assert refused(world, c.AddApp(incident="INC-1", app="CheckOut")).code == "invalid-state"


@pytest.mark.parametrize("app", ["", "   ", "x" * (MAX_NAME + 1)])
def test_add_bad_app_is_invalid(world: World, app: str) -> None:
    assert refused(world, c.AddApp(incident="INC-1", app=app)).code == "invalid"


def test_remove_app_matches_without_case(world: World) -> None:
    events, world = run(world, c.RemoveApp(incident="INC-1", app=" CHECKOUT "))
    assert only(events, e.AppRemoved).app == "checkout"
    incident = world.incident("INC-1")
    assert incident is not None
    assert incident.apps == ()


def test_remove_unknown_app_is_not_found(world: World) -> None:
    assert refused(world, c.RemoveApp(incident="INC-1", app="billing")).code == "not-found"


# AddNote / PinNote -------------------------------------------------------------------------


def test_add_note(world: World) -> None:
    events, world = run(
        world, c.AddNote(incident="INC-1", text=" deploy rolled out ", audience="exec")
    )
    event = only(events, e.NoteAdded)
    assert event.note == 1
    assert event.text == "deploy rolled out"
    assert event.occurred_at == NOW
    assert event.audience == "exec"
    incident = world.incident("INC-1")
    assert incident is not None
    (note,) = incident.notes
    assert note.id == 1
    assert note.text == "deploy rolled out"
    assert note.author == "ines"
    assert note.audience == "exec"
    assert note.occurred_at == note.recorded_at == NOW
    assert note.pinned is False

    events, world = run(
        world, c.AddNote(incident="INC-1", text="second", pinned=True, audience="ALL"), RESPONDER
    )
    event = only(events, e.NoteAdded)
    assert event.note == 2
    incident = world.incident("INC-1")
    assert incident is not None
    assert [n.id for n in incident.notes] == [1, 2]
    assert incident.notes[1].pinned is True
    assert incident.notes[1].audience == "all"
    assert incident.notes[1].author == "rob"


def test_backdated_note_keeps_its_time(world: World) -> None:
    when = NOW - timedelta(minutes=42)
    events, world = run(
        world,
        c.AddNote(
            incident="INC-1",
            text="it started",
            occurred_at=when.astimezone(ZoneInfo("Europe/Paris")),
        ),
    )
    event = only(events, e.NoteAdded)
    assert event.occurred_at == when
    assert event.at == NOW
    incident = world.incident("INC-1")
    assert incident is not None
    assert incident.notes[0].occurred_at == when
    assert incident.notes[0].recorded_at == NOW


def test_note_dated_in_the_future_is_refused(world: World) -> None:
    future = NOW + CLOCK_SKEW + timedelta(seconds=1)
    rejected = refused(world, c.AddNote(incident="INC-1", text="x", occurred_at=future))
    assert rejected.code == "invalid"
    assert "future" in rejected.message


def test_note_within_the_clock_skew_is_accepted(world: World) -> None:
    events, _ = run(world, c.AddNote(incident="INC-1", text="x", occurred_at=NOW + CLOCK_SKEW))
    assert only(events, e.NoteAdded).occurred_at == NOW + CLOCK_SKEW


@pytest.mark.parametrize(
    "command",
    [
        c.AddNote(incident="INC-1", text=""),
        c.AddNote(incident="INC-1", text=" \n\t "),
        c.AddNote(incident="INC-1", text="x" * (MAX_TEXT + 1)),
        c.AddNote(incident="INC-1", text="x", audience="internal,exec"),
    ],
    ids=["empty", "blank", "too-long", "bad-audience"],
)
def test_invalid_note(world: World, command: c.AddNote) -> None:
    assert refused(world, command).code == "invalid"


def test_pin_and_unpin_note() -> None:
    world = rich()
    events, world = run(world, c.PinNote(incident="INC-1", note=1))
    event = only(events, e.NotePinned)
    assert event.note == 1
    assert event.pinned is True
    incident = world.incident("INC-1")
    assert incident is not None
    assert incident.notes[0].pinned is True

    assert refused(world, c.PinNote(incident="INC-1", note=1)).code == "invalid-state"

    events, world = run(world, c.PinNote(incident="INC-1", note=1, pinned=False), RESPONDER)
    assert only(events, e.NotePinned).pinned is False
    incident = world.incident("INC-1")
    assert incident is not None
    assert incident.notes[0].pinned is False


@pytest.mark.parametrize("number", [0, 2, -1])
def test_pin_unknown_note_is_not_found(number: int) -> None:
    rejected = refused(rich(), c.PinNote(incident="INC-1", note=number))
    assert rejected.code == "not-found"
    assert f"N{number}" in rejected.message


# Actions -----------------------------------------------------------------------------------


def test_add_action(world: World) -> None:
    events, world = run(
        world,
        c.AddAction(
            incident="INC-1",
            text="roll back",
            owner=" bob ",
            state=ActionState.IN_PROGRESS,
            audience="all",
        ),
    )
    event = only(events, e.ActionAdded)
    assert event.action == 1
    assert event.owner == "bob"
    assert event.state is ActionState.IN_PROGRESS
    incident = world.incident("INC-1")
    assert incident is not None
    (action,) = incident.actions
    assert action.id == 1
    assert action.text == "roll back"
    assert action.owner == "bob"
    assert action.state is ActionState.IN_PROGRESS
    assert action.audience == "all"
    assert action.created_by == "ines"
    assert action.created_at == action.updated_at == NOW

    events, world = run(world, c.AddAction(incident="INC-1", text="page db team", owner="  "))
    event = only(events, e.ActionAdded)
    assert event.action == 2
    assert event.owner is None
    assert event.state is ActionState.NEXT


def test_add_empty_action_is_invalid(world: World) -> None:
    assert refused(world, c.AddAction(incident="INC-1", text=" ")).code == "invalid"


def test_change_action_state() -> None:
    world = rich()
    events, world = run(
        world, c.ChangeActionState(incident="INC-1", action=1, state=ActionState.DONE)
    )
    event = only(events, e.ActionStateChanged)
    assert event.state is ActionState.DONE
    assert event.previous is ActionState.NEXT
    incident = world.incident("INC-1")
    assert incident is not None
    assert incident.actions[0].state is ActionState.DONE
    assert incident.actions[0].updated_at == NOW
    assert incident.actions[0].created_at == NOW - timedelta(minutes=30)


def test_change_action_state_errors() -> None:
    world = rich()
    same = c.ChangeActionState(incident="INC-1", action=1, state=ActionState.NEXT)
    assert refused(world, same).code == "invalid-state"
    missing = c.ChangeActionState(incident="INC-1", action=2, state=ActionState.DONE)
    assert refused(world, missing).code == "not-found"


def test_assign_and_unassign_action() -> None:
    world = rich()
    events, world = run(world, c.AssignAction(incident="INC-1", action=1, owner=" carl "))
    assert only(events, e.ActionAssigned).owner == "carl"
    incident = world.incident("INC-1")
    assert incident is not None
    assert incident.actions[0].owner == "carl"
    assert incident.actions[0].updated_at == NOW

    events, world = run(world, c.AssignAction(incident="INC-1", action=1, owner=None))
    assert only(events, e.ActionAssigned).owner is None
    incident = world.incident("INC-1")
    assert incident is not None
    assert incident.actions[0].owner is None


def test_assign_action_errors() -> None:
    world = rich()
    same = c.AssignAction(incident="INC-1", action=1, owner="bob")
    assert refused(world, same).code == "invalid-state"
    missing = c.AssignAction(incident="INC-1", action=9, owner="carl")
    assert refused(world, missing).code == "not-found"
    too_long = c.AssignAction(incident="INC-1", action=1, owner="x" * (MAX_NAME + 1))
    assert refused(world, too_long).code == "invalid"


# Workarounds -------------------------------------------------------------------------------


def test_add_mitigation(world: World) -> None:
    events, world = run(
        world,
        c.AddMitigation(
            incident="INC-1", text="route via US", apps=("checkout", "CHECKOUT"), audience="exec"
        ),
    )
    event = only(events, e.MitigationAdded)
    assert event.mitigation == 1
    assert event.apps == ("checkout",)
    assert event.state is MitigationState.PROPOSED
    incident = world.incident("INC-1")
    assert incident is not None
    (mitigation,) = incident.mitigations
    assert mitigation.id == 1
    assert mitigation.text == "route via US"
    assert mitigation.state is MitigationState.PROPOSED
    assert mitigation.apps == ("checkout",)
    assert mitigation.audience == "exec"
    assert mitigation.created_by == "ines"


def test_add_empty_mitigation_is_invalid(world: World) -> None:
    assert refused(world, c.AddMitigation(incident="INC-1", text="")).code == "invalid"


def test_change_mitigation_state() -> None:
    world = rich()
    events, world = run(
        world,
        c.ChangeMitigationState(incident="INC-1", mitigation=1, state=MitigationState.WITHDRAWN),
    )
    event = only(events, e.MitigationStateChanged)
    assert event.state is MitigationState.WITHDRAWN
    assert event.previous is MitigationState.PROPOSED
    incident = world.incident("INC-1")
    assert incident is not None
    assert incident.mitigations[0].state is MitigationState.WITHDRAWN
    assert incident.mitigations[0].updated_at == NOW


def test_change_mitigation_state_errors() -> None:
    world = rich()
    same = c.ChangeMitigationState(incident="INC-1", mitigation=1, state=MitigationState.PROPOSED)
    assert refused(world, same).code == "invalid-state"
    missing = c.ChangeMitigationState(
        incident="INC-1", mitigation=2, state=MitigationState.VERIFIED
    )
    assert refused(world, missing).code == "not-found"


# Questions ---------------------------------------------------------------------------------


def test_ask_question(world: World) -> None:
    events, world = run(world, c.AskQuestion(incident="INC-1", text=" when? "), EXEC)
    event = only(events, e.QuestionAsked)
    assert event.question == 1
    assert event.actor == "eve"
    assert event.text == "when?"
    incident = world.incident("INC-1")
    assert incident is not None
    (question,) = incident.questions
    assert question.id == 1
    assert question.asker == "eve"
    assert question.asked_at == NOW
    assert question.state is QuestionState.OPEN
    assert question.answer is None
    assert incident.open_questions == (question,)


def test_ask_question_errors(world: World) -> None:
    assert refused(world, c.AskQuestion(incident="INC-1", text=" "), EXEC).code == "invalid"
    _, world = run(world, c.ChangeStatus(incident="INC-1", status=Status.RESOLVED))
    rejected = refused(world, c.AskQuestion(incident="INC-1", text="why?"), EXEC)
    assert rejected.code == "invalid-state"
    assert "resolved" in rejected.message


def test_answer_question_to_the_asker_alone() -> None:
    world = rich()
    events, world = run(world, c.AnswerQuestion(incident="INC-1", question=1, text=" by 14:00 "))
    event = only(events, e.QuestionAnswered)
    assert event.question == 1
    assert event.text == "by 14:00"
    assert event.question_text == "when is it fixed?"
    assert event.audience is None
    incident = world.incident("INC-1")
    assert incident is not None
    (question,) = incident.questions
    assert question.state is QuestionState.ANSWERED
    assert question.answer == "by 14:00"
    assert question.answered_by == "ines"
    assert question.answered_at == NOW
    assert question.answer_audience is None
    assert question.asker == "eve"
    assert incident.open_questions == ()


def test_answer_question_published() -> None:
    events, world = run(
        rich(), c.AnswerQuestion(incident="INC-1", question=1, text="soon", audience="All")
    )
    assert only(events, e.QuestionAnswered).audience == "all"
    incident = world.incident("INC-1")
    assert incident is not None
    assert incident.questions[0].answer_audience == "all"


def test_answer_question_errors() -> None:
    world = rich()
    assert (
        refused(world, c.AnswerQuestion(incident="INC-1", question=1, text=" ")).code == "invalid"
    )
    bad = c.AnswerQuestion(incident="INC-1", question=1, text="x", audience="!!")
    assert refused(world, bad).code == "invalid"
    missing = c.AnswerQuestion(incident="INC-1", question=2, text="x")
    assert refused(world, missing).code == "not-found"
    _, world = run(world, c.AnswerQuestion(incident="INC-1", question=1, text="done"))
    rejected = refused(world, c.AnswerQuestion(incident="INC-1", question=1, text="again"))
    assert rejected.code == "invalid-state"
    assert "answered" in rejected.message


def test_dismiss_question() -> None:
    events, world = run(
        rich(), c.DismissQuestion(incident="INC-1", question=1, reason=" duplicate of Q0 ")
    )
    event = only(events, e.QuestionDismissed)
    assert event.reason == "duplicate of Q0"
    incident = world.incident("INC-1")
    assert incident is not None
    (question,) = incident.questions
    assert question.state is QuestionState.DISMISSED
    assert question.answer == "duplicate of Q0"
    assert question.answered_by == "ines"
    assert question.answered_at == NOW
    assert incident.open_questions == ()


def test_dismiss_without_reason_leaves_no_answer() -> None:
    _, world = run(rich(), c.DismissQuestion(incident="INC-1", question=1))
    incident = world.incident("INC-1")
    assert incident is not None
    assert incident.questions[0].answer is None
    assert incident.questions[0].state is QuestionState.DISMISSED


def test_dismiss_question_errors() -> None:
    world = rich()
    assert refused(world, c.DismissQuestion(incident="INC-1", question=5)).code == "not-found"
    too_long = c.DismissQuestion(incident="INC-1", question=1, reason="x" * (MAX_TEXT + 1))
    assert refused(world, too_long).code == "invalid"
    _, world = run(world, c.DismissQuestion(incident="INC-1", question=1))
    assert refused(world, c.DismissQuestion(incident="INC-1", question=1)).code == "invalid-state"
    answer = c.AnswerQuestion(incident="INC-1", question=1, text="late")
    assert refused(world, answer).code == "invalid-state"


# The reducer on its own --------------------------------------------------------------------


def test_apply_ignores_events_of_unknown_incidents() -> None:
    world = declared()
    stray = e.NoteAdded(incident="INC-7", actor="x", at=NOW, note=1, text="t", occurred_at=NOW)
    assert apply(world, stray) is world


def test_apply_ignores_changes_to_entries_this_view_does_not_hold() -> None:
    world = declared()
    strays: list[e.Event] = [
        e.NotePinned(incident="INC-1", actor="x", at=NOW, note=3, pinned=True),
        e.ActionStateChanged(
            incident="INC-1", actor="x", at=NOW, action=1,
            state=ActionState.DONE, previous=ActionState.NEXT,
        ),
        e.ActionAssigned(incident="INC-1", actor="x", at=NOW, action=1, owner="a"),
        e.MitigationStateChanged(
            incident="INC-1", actor="x", at=NOW, mitigation=1,
            state=MitigationState.VERIFIED, previous=MitigationState.PROPOSED,
        ),
        e.QuestionDismissed(incident="INC-1", actor="x", at=NOW, question=1),
    ]  # fmt: skip
    for stray in strays:
        assert apply(world, stray) is world


def test_published_answer_to_an_unseen_question_stands_alone() -> None:
    world = declared()
    answered = e.QuestionAnswered(
        incident="INC-1",
        actor="ines",
        at=NOW,
        question=4,
        text="by 14:00",
        question_text="when?",
        audience="all",
    )
    incident = apply(world, answered).incident("INC-1")
    assert incident is not None
    (question,) = incident.questions
    assert question.id == 4
    assert question.text == "when?"
    assert question.asker == ""
    assert question.state is QuestionState.ANSWERED
    assert question.answer == "by 14:00"
    assert question.answer_audience == "all"


def test_declared_counter_follows_the_highest_number() -> None:
    declared_late = e.IncidentDeclared(
        incident="INC-5", actor="x", at=NOW, title="t", severity=Severity.SEV3
    )
    world = apply(World(), declared_late)
    assert world.declared == 5
    events = decide(world, c.DeclareIncident(title="next", severity=Severity.SEV3), IM, NOW)
    assert events[0].incident == "INC-6"


# Changing an entry's audience -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "panel"), [("N1", "notes"), ("a1", "actions"), ("M1", "mitigations")]
)
def test_change_audience_moves_an_entry_and_carries_it(entry: str, panel: str) -> None:
    events, world = run(rich(), c.ChangeAudience(incident="INC-1", entry=entry, audience="all"))
    event = only(events, e.AudienceChanged)
    assert (event.entry, event.previous, event.audience) == (entry.upper(), "internal", "all")
    carried = event.note or event.action or event.mitigation
    assert carried is not None and carried.audience == "all"
    (moved,) = getattr(world.incident("INC-1"), panel)
    assert moved == carried
    # A viewer who never had the entry gets all of it from the event alone.
    bare = replay([e for e in _declared_events()])
    folded = apply(bare, event)
    assert tuple(getattr(folded.incident("INC-1"), panel)) == (carried,)


def _declared_events() -> list[e.Event]:
    events, _ = run(World(), c.DeclareIncident(title="t", severity=Severity.SEV2), IM)
    return events


def test_change_audience_of_the_impact_statement() -> None:
    _, world = run(
        rich(),
        c.SetImpact(incident="INC-1", statement="EU cannot pay", base_version=0),
    )
    events, after = run(world, c.ChangeAudience(incident="INC-1", entry="impact", audience="exec"))
    event = only(events, e.AudienceChanged)
    assert event.impact is not None and event.impact.statement == "EU cannot pay"
    incident = after.incident("INC-1")
    assert incident is not None and incident.impact.audience == "exec"
    assert incident.impact.version == 1  # an audience change is not an edit of the statement


def test_change_audience_refusals() -> None:
    world = rich()
    same = c.ChangeAudience(incident="INC-1", entry="N1", audience="internal")
    assert refused(world, same).code == "invalid-state"
    assert refused(world, c.ChangeAudience(incident="INC-1", entry="N7", audience="all")).code == (
        "not-found"
    )
    assert refused(world, c.ChangeAudience(incident="INC-1", entry="Q1", audience="all")).code == (
        "invalid"
    )
    assert refused(world, c.ChangeAudience(incident="INC-1", entry="N1", audience="a b")).code == (
        "invalid"
    )
    no_impact = c.ChangeAudience(incident="INC-1", entry="impact", audience="all")
    assert refused(world, no_impact).code == "not-found"

"""Updates, alerts, cadence and question triage in the core: publishing and its refusals, the
composer per audience (never an entry the audience may not see), the cadence on a frozen clock,
merging duplicate questions, and the message every channel renders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from warroom.core import commands as c
from warroom.core import events as e
from warroom.core.cadence import (
    DEFAULT_CADENCE,
    Cadence,
    audiences,
    covers,
    most_urgent,
    next_due,
    overdue,
    question_age,
    triage_order,
)
from warroom.core.decide import decide
from warroom.core.domain import (
    ActionState,
    Actor,
    IncidentState,
    MitigationState,
    QuestionState,
    Role,
    Severity,
    Status,
    UpdateKind,
    World,
)
from warroom.core.messages import body, slack_escaped, subject, webhook
from warroom.core.policy import authorize, disclosed, visible_part
from warroom.core.reducer import apply, replay
from warroom.core.rejections import Rejected
from warroom.core.updates import compose, due_line, promoted

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
IM = Actor("ines", Role.INCIDENT_MANAGER)
EVE = Actor("eve", Role.STAKEHOLDER, frozenset({"exec"}))
SAM = Actor("sam", Role.STAKEHOLDER, frozenset({"support"}))
ZOE = Actor("zoe", Role.STAKEHOLDER, frozenset({"exec"}))
INC = "INC-1"
CANARY = "CANARY-internal-7f3"
SUPPORT_ONLY = "CANARY-support-only-19"


def act(world: World, command: c.Command, actor: Actor = IM, at: datetime = T0) -> World:
    authorize(actor, command, world)
    return replay(decide(world, command, actor, at), world)


def refusal(world: World, command: c.Command, actor: Actor = IM) -> Rejected:
    with pytest.raises(Rejected) as info:
        act(world, command, actor)
    return info.value


def room(severity: Severity = Severity.SEV2) -> World:
    """INC-1 declared at T0 with entries for every audience: internal, support only, all."""
    world = act(World(), c.DeclareIncident(title="Payments down", severity=severity,
                                           apps=("payments", "checkout")))  # fmt: skip
    for command in (
        c.SetImpact(incident=INC, statement="EU cards fail", base_version=0, audience="all",
                    customer_facing=True),
        c.AddNote(incident=INC, text=f"db primary {CANARY}"),
        c.AddNote(incident=INC, text="failover started", audience="all"),
        c.PinNote(incident=INC, note=2),
        c.AddAction(incident=INC, text=f"page the dba {CANARY}", owner="bob"),
        c.AddAction(incident=INC, text="fail over to the replica", owner="ana", audience="all"),
        c.AddAction(incident=INC, text=f"call key accounts {SUPPORT_ONLY}", audience="support"),
        c.AddMitigation(incident=INC, text="pay by invoice", apps=("payments",), audience="all"),
        c.AddMitigation(incident=INC, text=f"manual refunds {SUPPORT_ONLY}", audience="support"),
        c.AddMitigation(incident=INC, text=f"restart the pods {CANARY}"),
    ):  # fmt: skip
        world = act(world, command)
    return world


def incident(world: World) -> IncidentState:
    found = world.incident(INC)
    assert found is not None
    return found


# Publishing ----------------------------------------------------------------------------------


def test_an_update_is_recorded_as_sent_and_numbered() -> None:
    world = room()
    world = act(world, c.PublishUpdate(incident=INC, audience="exec", summary="on it",
                                       timeline="Status: investigating"))  # fmt: skip
    later = T0 + timedelta(minutes=5)
    command = c.PublishUpdate(incident=INC, audience="all", summary="still on it")
    world = act(world, command, at=later)
    first, second = incident(world).updates
    assert (first.id, first.audience, first.summary, first.author) == (1, "exec", "on it", "ines")
    assert first.timeline == "Status: investigating"
    assert (first.status, first.severity) == (Status.INVESTIGATING, Severity.SEV2)
    assert (second.id, second.published_at, second.kind) == (2, later, UpdateKind.UPDATE)


@pytest.mark.parametrize(
    ("command", "code", "words"),
    [
        (c.PublishUpdate(incident=INC, audience="internal", summary="x"), "invalid", "internal"),
        (c.PublishUpdate(incident=INC, audience="all"), "invalid", "empty"),
        (c.PublishUpdate(incident=INC, audience="all", summary="  \n "), "invalid", "empty"),
        (c.PublishUpdate(incident=INC, audience="all", summary="x\x1b[2J"), "invalid", "control"),
        (c.PublishUpdate(incident=INC, audience="all", summary="x", question=9), "not-found", "Q9"),
        (c.PublishUpdate(incident=INC, audience="all", summary="x" * 16_001), "invalid", "limit"),
        (c.PublishUpdate(incident="INC-9", audience="all", summary="x"), "not-found", "INC-9"),
    ],
)  # fmt: skip
def test_a_bad_update_is_refused_and_changes_nothing(
    command: c.PublishUpdate, code: str, words: str
) -> None:
    world = room()
    rejected = refusal(world, command)
    assert (rejected.code, words in rejected.message) == (code, True), rejected.message


def test_only_the_incident_manager_publishes() -> None:
    world = room()
    for actor in (Actor("rob", Role.RESPONDER), Actor("obi", Role.OBSERVER), EVE):
        command = c.PublishUpdate(incident=INC, audience="all", summary="x")
        assert refusal(world, command, actor).code == "forbidden"


def test_a_private_incidents_update_reaches_only_its_invited_stakeholders() -> None:
    world = act(room(), c.ChangePrivacy(incident=INC, private=True))
    world = act(world, c.ChangeAccess(incident=INC, user="eve"))
    (event,) = decide(world, c.PublishUpdate(incident=INC, audience="exec", summary="x"), IM, T0)
    world = apply(world, event)
    assert disclosed(EVE, event, world) is not None
    assert disclosed(ZOE, event, world) is None


def test_only_an_answered_question_is_promoted() -> None:
    world = act(room(), c.AskQuestion(incident=INC, text="is data lost?"), EVE)
    command = c.PublishUpdate(incident=INC, audience="all", summary="x", question=1)
    assert refusal(world, command).code == "invalid-state"
    world = act(world, c.AnswerQuestion(incident=INC, question=1, text="no data is lost"))
    draft = promoted(incident(world), 1, "all")
    assert "is data lost?" in draft.summary and "no data is lost" in draft.summary
    world = act(world, draft.command(INC))
    (update,) = incident(world).updates
    assert update.question == 1
    with pytest.raises(ValueError, match="no answer"):
        promoted(incident(world), 2, "all")


# Who receives an update ------------------------------------------------------------------------


def test_an_update_reaches_its_audience_and_the_room_only() -> None:
    world = act(room(), c.PublishUpdate(incident=INC, audience="support", summary="for support"))
    event = decide(room(), c.PublishUpdate(incident=INC, audience="support", summary="s"), IM, T0)[
        0
    ]
    assert disclosed(SAM, event, world) is not None
    assert disclosed(EVE, event, world) is None
    assert disclosed(Actor("rob", Role.RESPONDER), event, world) == event
    assert not visible_part(incident(world), EVE).updates
    assert [u.summary for u in visible_part(incident(world), SAM).updates] == ["for support"]


def test_a_stakeholder_never_reads_another_groups_name_on_an_update() -> None:
    command = c.PublishUpdate(incident=INC, audience="exec,support", summary="both")
    (event,) = decide(room(), command, IM, T0)
    world = apply(room(), event)
    shown = disclosed(SAM, event, world)
    assert isinstance(shown, e.UpdatePublished) and shown.audience == "support"


# The composer ----------------------------------------------------------------------------------


def _text(draft: object) -> str:
    return " ".join(str(v) for v in vars(draft).values())


@pytest.mark.parametrize("audience", ["all", "exec", "support", "exec,support"])
def test_the_composer_offers_only_what_the_audience_may_see(audience: str) -> None:
    draft = compose(incident(room()), audience, T0 + timedelta(minutes=10), DEFAULT_CADENCE)
    text = _text(draft)
    assert CANARY not in text
    assert (SUPPORT_ONLY in text) is (audience == "support")
    assert "EU cards fail" in draft.impact and "Customers are affected." in draft.impact
    assert "payments, checkout" in draft.impact
    assert "fail over to the replica (ana)" in draft.progress
    assert "pay by invoice (being tried; for payments)" in draft.mitigation
    assert "Status: investigating (SEV2)." in draft.timeline
    assert "Expected resolution: not yet known." in draft.timeline
    # SEV2 owes an update every 30 minutes: publishing now sets the next one.
    assert "Next update by 12:40 UTC." in draft.timeline
    assert draft.audience == audience


def test_an_internal_impact_stays_out_of_the_draft() -> None:
    world = act(room(), c.ChangeAudience(incident=INC, entry="impact", audience="internal"))
    draft = compose(incident(world), "all", T0, DEFAULT_CADENCE)
    assert "EU cards fail" not in draft.impact
    assert draft.impact == "Affected applications: payments, checkout."


def test_the_alert_says_what_happens_where_and_when_the_next_update_comes() -> None:
    draft = compose(incident(room(Severity.SEV1)), "all", T0, DEFAULT_CADENCE, UpdateKind.ALERT)
    assert draft.kind is UpdateKind.ALERT
    assert draft.summary == (
        "We are responding to a SEV1 incident affecting payments, checkout: Payments down. "
        "The incident team is investigating. Next update by 12:15 UTC."
    )


def test_the_timeline_tells_what_changed_since_the_last_update_to_that_audience() -> None:
    world = act(room(), c.PublishUpdate(incident=INC, audience="exec", summary="first"))
    later = T0 + timedelta(minutes=20)
    for command in (
        c.ChangeStatus(incident=INC, status=Status.IDENTIFIED),
        c.ChangeSeverity(incident=INC, severity=Severity.SEV1),
        c.SetEta(incident=INC, eta=T0 + timedelta(hours=2), base_version=0),
        c.AddNote(incident=INC, text="replica promoted", audience="all", pinned=True),
        c.AddNote(incident=INC, text=f"pinned inside {CANARY}", pinned=True),
    ):
        world = act(world, command, at=later)
    draft = compose(incident(world), "exec", later, DEFAULT_CADENCE)
    assert "Since the last update (12:00 UTC):" in draft.timeline
    assert "- severity SEV2 → SEV1" in draft.timeline
    assert "- status investigating → identified" in draft.timeline
    assert "- expected resolution revised to 14:00 UTC" in draft.timeline
    assert "- 12:20 UTC replica promoted" in draft.timeline
    assert CANARY not in draft.timeline
    # Support never had an update: nothing "since" for them.
    assert "Since" not in compose(incident(world), "support", later, DEFAULT_CADENCE).timeline


def test_a_withdrawn_workaround_is_taken_back_only_from_those_told_of_it() -> None:
    world = act(room(), c.PublishUpdate(incident=INC, audience="exec", summary="first"))
    later = T0 + timedelta(minutes=5)
    withdraw = c.ChangeMitigationState(incident=INC, mitigation=1, state=MitigationState.WITHDRAWN)
    world = act(world, withdraw, at=later)
    told = compose(incident(world), "exec", later, DEFAULT_CADENCE)
    assert "pay by invoice (no longer advised since 12:05 UTC; for payments)" in told.mitigation
    never_told = compose(incident(world), "support", later, DEFAULT_CADENCE)
    assert "pay by invoice" not in never_told.mitigation


def test_the_composer_refuses_the_internal_audience() -> None:
    with pytest.raises(ValueError, match="stakeholders"):
        compose(incident(room()), "internal", T0, DEFAULT_CADENCE)


# The cadence -----------------------------------------------------------------------------------


def test_the_next_update_is_due_one_interval_after_the_last_to_that_audience() -> None:
    world = room(Severity.SEV1)
    inc = incident(world)
    assert next_due(inc, DEFAULT_CADENCE, "exec") == T0 + timedelta(minutes=15)
    assert due_line(inc, "exec", DEFAULT_CADENCE, T0) == "Next update by 12:15 UTC."
    world = act(world, c.PublishUpdate(incident=INC, audience="exec", summary="x"),
                at=T0 + timedelta(minutes=10))  # fmt: skip
    inc = incident(world)
    assert next_due(inc, DEFAULT_CADENCE, "exec") == T0 + timedelta(minutes=25)
    assert next_due(inc, DEFAULT_CADENCE, "support") == T0 + timedelta(minutes=15)
    assert audiences(inc) == ("exec",)
    assert most_urgent(inc, DEFAULT_CADENCE) == ("exec", T0 + timedelta(minutes=25))


def test_an_update_to_all_resets_every_audience_and_severity_sets_the_interval() -> None:
    world = act(room(Severity.SEV3), c.PublishUpdate(incident=INC, audience="all", summary="x"))
    inc = incident(world)
    assert next_due(inc, DEFAULT_CADENCE, "exec") == T0 + timedelta(minutes=60)
    world = act(world, c.ChangeSeverity(incident=INC, severity=Severity.SEV1))
    assert next_due(incident(world), DEFAULT_CADENCE, "exec") == T0 + timedelta(minutes=15)
    world = act(world, c.ChangeSeverity(incident=INC, severity=Severity.SEV4))
    assert next_due(incident(world), DEFAULT_CADENCE, "exec") is None
    assert most_urgent(incident(world), DEFAULT_CADENCE) is None


def test_nothing_is_due_while_resolved_and_a_reopening_starts_the_clock_again() -> None:
    world = act(room(Severity.SEV1), c.ChangeStatus(incident=INC, status=Status.RESOLVED))
    assert next_due(incident(world), DEFAULT_CADENCE, "all") is None
    reopened = T0 + timedelta(hours=3)
    world = act(world, c.ChangeStatus(incident=INC, status=Status.INVESTIGATING), at=reopened)
    assert incident(world).reopened_at == reopened
    assert next_due(incident(world), DEFAULT_CADENCE, "all") == reopened + timedelta(minutes=15)


def test_a_stakeholders_room_expects_the_next_update_from_what_it_received() -> None:
    world = act(room(Severity.SEV1), c.PublishUpdate(incident=INC, audience="support", summary="s"),
                at=T0 + timedelta(minutes=5))  # fmt: skip
    seen_by_exec = visible_part(incident(world), EVE)
    seen_by_support = visible_part(incident(world), SAM)
    assert next_due(seen_by_exec, DEFAULT_CADENCE) == T0 + timedelta(minutes=15)
    assert next_due(seen_by_support, DEFAULT_CADENCE) == T0 + timedelta(minutes=20)


def test_covers_reads_all_and_group_sets() -> None:
    assert covers("all", "exec") and covers("exec,support", "exec")
    assert not covers("exec", "all") and not covers("exec", "exec,support")


def test_the_cadence_crosses_the_wire_and_keeps_defaults_for_what_is_left_out() -> None:
    custom = Cadence.from_wire({"SEV1": 300, "SEV4": 3600, "response": 120})
    assert custom.interval(Severity.SEV1) == timedelta(minutes=5)
    assert custom.interval(Severity.SEV2) == timedelta(minutes=30)
    assert custom.interval(Severity.SEV4) == timedelta(hours=1)
    assert custom.response_target == timedelta(minutes=2)
    assert Cadence.from_wire(custom.to_wire()) == custom
    assert DEFAULT_CADENCE.to_wire()["SEV4"] is None


# Question triage -------------------------------------------------------------------------------


def _asked(world: World, actor: Actor, text: str, minutes: int) -> World:
    return act(
        world, c.AskQuestion(incident=INC, text=text), actor, T0 + timedelta(minutes=minutes)
    )


def test_merged_duplicates_get_the_answer_each_under_their_own_question() -> None:
    world = _asked(room(), EVE, "when is it fixed?", 1)
    world = _asked(world, ZOE, "ETA please?", 2)
    world = _asked(world, SAM, "fixed when??", 3)
    world = act(world, c.MergeQuestion(incident=INC, question=2, into=1))
    world = act(world, c.MergeQuestion(incident=INC, question=3, into=1))
    questions = incident(world).questions
    assert [q.state for q in questions] == [QuestionState.OPEN, *[QuestionState.MERGED] * 2]
    assert incident(world).open_questions == (questions[0],)
    events = decide(world, c.AnswerQuestion(incident=INC, question=1, text="by 14:00",
                                            audience="exec"), IM, T0)  # fmt: skip
    assert [(ev.question, ev.audience) for ev in events if isinstance(ev, e.QuestionAnswered)] == [
        (1, "exec"),
        (2, None),
        (3, None),
    ]
    world = replay(events, world)
    assert all(q.answer == "by 14:00" for q in incident(world).questions)
    # Each asker hears of their own question; Sam (support) never of the others'.
    answers = [ev for ev in events if isinstance(ev, e.QuestionAnswered)]
    for actor, mine in ((EVE, 1), (ZOE, 2), (SAM, 3)):
        shown = {ev.question for ev in answers if disclosed(actor, ev, world) is not None}
        assert mine in shown
    assert {ev.question for ev in answers if disclosed(SAM, ev, world) is not None} == {3}
    assert [q.id for q in visible_part(incident(world), SAM).questions] == [3]


def test_merging_into_an_answered_question_answers_at_once_and_chains_follow() -> None:
    world = _asked(room(), EVE, "a?", 1)
    world = _asked(world, ZOE, "b?", 2)
    world = _asked(world, SAM, "c?", 3)
    world = act(world, c.MergeQuestion(incident=INC, question=3, into=2))
    world = act(world, c.AnswerQuestion(incident=INC, question=1, text="yes"))
    world = act(world, c.MergeQuestion(incident=INC, question=2, into=1))
    questions = incident(world).questions
    assert [(q.state, q.answer) for q in questions] == [(QuestionState.ANSWERED, "yes")] * 3
    assert [q.merged_into for q in questions] == [None, 1, 1]


@pytest.mark.parametrize(
    ("question", "into", "words"),
    [(1, 1, "itself"), (2, 1, "merged into Q1"), (1, 2, "merge into that one"), (1, 9, "Q9"),
     (3, 1, "dismissed")],
)  # fmt: skip
def test_a_bad_merge_is_refused(question: int, into: int, words: str) -> None:
    world = _asked(room(), EVE, "a?", 1)
    world = _asked(world, ZOE, "b?", 2)
    world = _asked(world, SAM, "c?", 3)
    world = act(world, c.MergeQuestion(incident=INC, question=2, into=1))
    if words == "dismissed":
        world = act(world, c.DismissQuestion(incident=INC, question=3))
        world = _asked(world, SAM, "d?", 4)
        question, into = 4, 3
    rejected = refusal(world, c.MergeQuestion(incident=INC, question=question, into=into))
    assert words in rejected.message, rejected.message


def test_dismissing_a_question_dismisses_its_duplicates() -> None:
    world = _asked(room(), EVE, "a?", 1)
    world = _asked(world, ZOE, "a??", 2)
    world = act(world, c.MergeQuestion(incident=INC, question=2, into=1))
    world = act(world, c.DismissQuestion(incident=INC, question=1, reason="out of scope"))
    assert {q.state for q in incident(world).questions} == {QuestionState.DISMISSED}


def test_open_questions_age_against_the_target_oldest_first() -> None:
    world = _asked(room(), EVE, "old", 0)
    world = _asked(world, ZOE, "new", 10)
    world = _asked(world, SAM, "answered", 5)
    world = act(world, c.AnswerQuestion(incident=INC, question=3, text="ok"),
                at=T0 + timedelta(minutes=30))  # fmt: skip
    now = T0 + timedelta(minutes=20)
    old, new, answered = incident(world).questions
    assert question_age(old, now) == timedelta(minutes=20)
    assert question_age(answered, now) == timedelta(minutes=25)  # asked at 5, answered at 30
    assert overdue(old, DEFAULT_CADENCE, now) and not overdue(new, DEFAULT_CADENCE, now)
    assert not overdue(answered, DEFAULT_CADENCE, now)
    assert [q.text for q in triage_order(incident(world).questions)] == ["old", "new", "answered"]


# Messages --------------------------------------------------------------------------------------


def test_every_channel_renders_the_same_message() -> None:
    world = act(room(), c.PublishUpdate(incident=INC, audience="exec", summary="<!channel> & us",
                                        progress="Next: fail over"))  # fmt: skip
    (update,) = incident(world).updates
    text = body(update)
    assert text == "Summary\n<!channel> & us\n\nProgress\nNext: fail over\n"
    heading = subject(INC, "Payments down", Severity.SEV2, update, update.id)
    assert heading == "[SEV2] INC-1 update U1: Payments down"
    hook = webhook(incident=INC, title="Payments down", severity=Severity.SEV2,
                   status="investigating", message=update, number=1, delivery="d-1",
                   published_at=T0.isoformat())  # fmt: skip
    assert hook["parts"] == {"summary": "<!channel> & us", "progress": "Next: fail over"}
    assert (hook["delivery"], hook["audience"], hook["kind"]) == ("d-1", "exec", "update")
    assert "<!channel>" not in hook["text"] and "&lt;!channel&gt; &amp; us" in hook["text"]
    assert slack_escaped("<a|b>") == "&lt;a|b&gt;"
    alert = c.PublishUpdate(incident=INC, audience="all", kind=UpdateKind.ALERT, summary="x")
    world = act(world, alert)
    assert (
        subject(INC, "P", Severity.SEV1, incident(world).updates[1], 2) == "[SEV1] INC-1 alert: P"
    )


def test_action_states_group_the_progress() -> None:
    world = act(room(), c.ChangeActionState(incident=INC, action=2, state=ActionState.DONE))
    draft = compose(incident(world), "all", T0, DEFAULT_CADENCE)
    assert draft.progress == "Done:\n- fail over to the replica (ana)"

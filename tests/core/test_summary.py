"""summarize: an incident as each viewer's lobby shows it, by the same rules as their room."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from warroom.core import commands as c
from warroom.core import events as e
from warroom.core.decide import decide
from warroom.core.domain import Actor, QuestionState, Role, Severity, Status, World, evolve
from warroom.core.policy import question_reaches, visible_to
from warroom.core.reducer import apply, replay
from warroom.core.summary import count_entries, recounted, summarize, summarize_each

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
IM = Actor("ines", Role.INCIDENT_MANAGER)
RESPONDER = Actor("rob", Role.RESPONDER)
OBSERVER = Actor("olga", Role.OBSERVER)
EXEC = Actor("eve", Role.STAKEHOLDER, frozenset({"exec"}))
SUPPORT = Actor("sue", Role.STAKEHOLDER, frozenset({"support"}))
INC = "INC-1"


def _play(steps: list[tuple[Actor, c.Command]]) -> tuple[World, list[tuple[e.Event, World]]]:
    world = World()
    log: list[tuple[e.Event, World]] = []
    for minute, (actor, command) in enumerate(steps):
        for event in decide(world, command, actor, NOW + timedelta(minutes=minute)):
            world = apply(world, event)
            log.append((event, world))
    return world, log


STEPS: list[tuple[Actor, c.Command]] = [
    (IM, c.DeclareIncident(title="Checkout failing", severity=Severity.SEV2, apps=("web",))),
    (IM, c.AddNote(incident=INC, text="internal note")),
    (IM, c.AddNote(incident=INC, text="for exec", audience="exec")),
    (IM, c.AddAction(incident=INC, text="roll back")),
    (IM, c.AddAction(incident=INC, text="tell support", audience="support")),
    (IM, c.AddMitigation(incident=INC, text="pay by invoice", apps=("web",), audience="all")),
    (IM, c.SetImpact(incident=INC, statement="cards fail", base_version=0, audience="exec")),
    (IM, c.SetEta(incident=INC, eta=NOW + timedelta(hours=1), base_version=0)),
    (EXEC, c.AskQuestion(incident=INC, text="when?")),
    (SUPPORT, c.AskQuestion(incident=INC, text="what do we tell customers?")),
    (SUPPORT, c.AskQuestion(incident=INC, text="and refunds?")),
    (IM, c.AnswerQuestion(incident=INC, question=2, text="sorry", audience="support")),
    (IM, c.ChangeStatus(incident=INC, status=Status.IDENTIFIED)),
    (
        IM,
        c.DeclareIncident(
            title="Secret breach", severity=Severity.SEV1, private=True, suffix="K7Q3XZ"
        ),
    ),
    (IM, c.ChangeAccess(incident="INC-PK7Q3XZ", user="rob")),
]


def test_the_war_room_sees_every_count_and_when_it_last_changed() -> None:
    world, _ = _play(STEPS)
    incident = world.incident(INC)
    assert incident is not None
    for viewer in (IM, RESPONDER, OBSERVER):
        summary = summarize(incident, viewer)
        assert summary is not None
        assert (summary.id, summary.title, summary.status) == (
            INC,
            "Checkout failing",
            "identified",
        )
        assert (summary.notes, summary.actions_open, summary.mitigations) == (2, 2, 1)
        assert summary.open_questions == 2  # eve's and sue's second; sue's first is answered
        assert summary.impact == "cards fail"
        assert summary.eta == NOW + timedelta(hours=1)
        assert summary.updated_at == incident.updated_at
        assert summary.groups == ("exec", "support")


def test_a_stakeholder_counts_only_what_their_audience_and_their_questions_hold() -> None:
    world, _ = _play(STEPS)
    incident = world.incident(INC)
    assert incident is not None
    eve, sue = summarize(incident, EXEC), summarize(incident, SUPPORT)
    assert eve is not None and sue is not None
    assert (eve.notes, eve.actions_open, eve.mitigations, eve.open_questions) == (1, 0, 1, 1)
    assert (sue.notes, sue.actions_open, sue.mitigations, sue.open_questions) == (0, 1, 1, 1)
    assert (eve.impact, sue.impact) == ("cards fail", "")
    # When the war room last did anything would tell of what it does out of their sight.
    assert eve.updated_at is None and sue.updated_at is None
    assert eve.groups == () and sue.groups == ()
    assert eve.eta == sue.eta == NOW + timedelta(hours=1)


def test_a_private_incident_is_summarized_for_the_invited_alone() -> None:
    world, _ = _play(STEPS)
    secret = world.incident("INC-PK7Q3XZ")
    assert secret is not None
    assert summarize(secret, IM) is not None
    invited = summarize(secret, RESPONDER)
    assert invited is not None and invited.private
    assert summarize(secret, OBSERVER) is None
    assert summarize(secret, EXEC) is None


def test_a_stakeholder_summary_matches_what_their_own_view_folds_to() -> None:
    world, log = _play(STEPS)
    for viewer in (EXEC, SUPPORT):
        seen = [event for event, after in log if visible_to(viewer, event, after)]
        folded = replay(seen).incident(INC)
        full = world.incident(INC)
        assert folded is not None and full is not None
        mine, theirs = summarize(folded, viewer), summarize(full, viewer)
        assert mine == theirs


def test_summaries_for_many_viewers_keep_each_stakeholders_own_questions() -> None:
    world, _ = _play(STEPS)
    ed = Actor("ed", Role.STAKEHOLDER, frozenset({"exec"}))  # eve's group, no question of his
    viewers = [IM, RESPONDER, EXEC, ed, SUPPORT]
    public, private = world.incident(INC), world.incident("INC-PK7Q3XZ")
    assert public is not None and private is not None
    each = summarize_each(public, viewers)
    assert each == {viewer: summarize(public, viewer) for viewer in viewers}
    counts = {v.name: s.open_questions for v, s in each.items() if s is not None}
    assert counts == {"ines": 2, "rob": 2, "eve": 1, "ed": 0, "sue": 1}
    # The private incident: the invited responder and the manager, nobody else.
    admitted = {v.name for v, s in summarize_each(private, viewers).items() if s is not None}
    assert admitted == {"ines", "rob"}


def test_an_open_question_counts_for_whom_the_policy_says_it_reaches() -> None:
    # No command leaves a question open with an answer's audience, but a summary's counts
    # follow `question_reaches` whatever the state: such a question counts for its asker and
    # for the audience, once each, and for nobody else.
    world, _ = _play(STEPS)
    incident = world.incident(INC)
    assert incident is not None
    questions = incident.questions.changed(3, lambda q: evolve(q, answer_audience="all"))
    assert questions is not None
    odd = evolve(incident, questions=questions)
    assert [q.state for q in odd.questions] == ["open", "answered", "open"]
    ed = Actor("ed", Role.STAKEHOLDER, frozenset({"exec"}))
    bo = Actor("bo", Role.STAKEHOLDER, frozenset({"exec", "support"}))
    viewers = [IM, EXEC, ed, SUPPORT, bo]
    for count in (count_entries(odd), recounted(count_entries(incident), odd, [("question", 3)])):
        each = summarize_each(odd, viewers, count)
        opened = {
            viewer.name: summary.open_questions for viewer, summary in each.items() if summary
        }
        expected = {
            viewer.name: sum(
                1
                for q in odd.questions
                if q.state is QuestionState.OPEN
                and (viewer.internal or question_reaches(q, viewer))
            )
            for viewer in viewers
        }
        assert opened == expected == {"ines": 2, "eve": 2, "ed": 1, "sue": 1, "bo": 1}

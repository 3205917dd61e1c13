"""`warroom stats` in the core: the numbers of four hand-timed incidents over two applications,
one reopened, one never resolved, against figures worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from warroom.core import commands as c
from warroom.core.decide import decide
from warroom.core.domain import Actor, MitigationState, Role, Severity, Status, World
from warroom.core.events import Event
from warroom.core.policy import authorize
from warroom.core.reducer import apply
from warroom.core.stats import stats

IM = Actor("ines", Role.INCIDENT_MANAGER)
EVE = Actor("eve", Role.STAKEHOLDER, frozenset({"exec"}))
ZOE = Actor("zoe", Role.STAKEHOLDER, frozenset({"exec"}))
M = timedelta(minutes=1)
DAY = timedelta(days=1)


class Log:
    """Commands played through `decide` and `apply`, each at its own time."""

    def __init__(self) -> None:
        self.world = World()
        self.events: list[Event] = []

    def __call__(self, at: datetime, command: c.Command, actor: Actor = IM) -> None:
        authorize(actor, command, self.world)
        for event in decide(self.world, command, actor, at):
            self.world = apply(self.world, event)
            self.events.append(event)

    def declare(self, at: datetime, severity: Severity, *apps: str) -> str:
        self(at, c.DeclareIncident(title="down", severity=severity, apps=apps))
        return self.events[-1].incident

    def status(self, at: datetime, incident: str, status: Status) -> None:
        self(at, c.ChangeStatus(incident=incident, status=status))


def _log() -> list[Event]:
    """INC-1 to INC-4 as the module docstring of each step says."""
    log = Log()
    t1 = datetime(2026, 10, 1, 10, 0, tzinfo=UTC)
    inc1 = log.declare(t1, Severity.SEV1, "checkout")
    log(t1 + 5 * M, c.PublishUpdate(incident=inc1, audience="all", summary="alert"))  # due +15
    log(t1 + 6 * M, c.AskQuestion(incident=inc1, text="when?"), EVE)
    log(t1 + 7 * M, c.AskQuestion(incident=inc1, text="soon?"), ZOE)
    log(t1 + 8 * M, c.MergeQuestion(incident=inc1, question=2, into=1))
    log.status(t1 + 10 * M, inc1, Status.IDENTIFIED)
    log(t1 + 11 * M, c.AskQuestion(incident=inc1, text="why?"), EVE)
    log(t1 + 12 * M, c.DismissQuestion(incident=inc1, question=3))
    log(t1 + 15 * M, c.AddMitigation(incident=inc1, text="reroute"))
    log(t1 + 16 * M, c.AnswerQuestion(incident=inc1, question=1, text="at noon"))  # 10m, 9m
    log(t1 + 20 * M, c.ChangeMitigationState(incident=inc1, mitigation=1,
                                             state=MitigationState.VERIFIED))  # fmt: skip
    log(t1 + 25 * M, c.PublishUpdate(incident=inc1, audience="all", summary="u2"))  # late 5m
    log.status(t1 + 60 * M, inc1, Status.RESOLVED)

    t2 = t1 + 2 * DAY
    inc2 = log.declare(t2, Severity.SEV2, "checkout", "payments")
    log.status(t2 + 30 * M, inc2, Status.IDENTIFIED)
    log.status(t2 + 90 * M, inc2, Status.RESOLVED)
    log.status(t2 + 100 * M, inc2, Status.INVESTIGATING)  # reopened
    log.status(t2 + 150 * M, inc2, Status.RESOLVED)  # resolve time counts to here

    t4 = t1 + 9 * DAY
    inc4 = log.declare(t4, Severity.SEV3, "payments")
    log(t4 + 10 * M, c.AddMitigation(incident=inc4, text="retry"))
    log(t4 + 30 * M, c.PublishUpdate(incident=inc4, audience="all", summary="u1"))  # due +60
    log(t4 + 30 * M, c.ChangeMitigationState(incident=inc4, mitigation=1,
                                             state=MitigationState.VERIFIED))  # fmt: skip
    log.status(t4 + 40 * M, inc4, Status.RESOLVED)  # never identified

    t3 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    inc3 = log.declare(t3, Severity.SEV2, "Checkout")
    log.status(t3 + 20 * M, inc3, Status.IDENTIFIED)  # never resolved
    return log.events


def test_the_numbers_per_application_and_overall() -> None:
    numbers = stats(_log())
    # An application is one however its name is cased (INC-3 names "Checkout").
    assert list(numbers.apps) == ["checkout", "payments"]
    checkout, payments, overall = (
        numbers.apps["checkout"],
        numbers.apps["payments"],
        numbers.overall,
    )

    assert checkout.incidents == 3 and dict(checkout.by_severity) == {
        Severity.SEV1: 1, Severity.SEV2: 2, Severity.SEV3: 0, Severity.SEV4: 0}  # fmt: skip
    assert checkout.identify == 20 * M  # (10 + 30 + 20) / 3
    assert checkout.mitigate == 20 * M
    assert checkout.resolve == 105 * M  # (60 + 150) / 2: INC-2 to its last resolution
    assert checkout.between_failures == 16 * DAY  # (2 + 30) / 2

    assert payments.incidents == 2
    assert payments.identify == 30 * M  # INC-4 never identified: not counted
    assert payments.mitigate == 30 * M
    assert payments.resolve == 95 * M  # (150 + 40) / 2
    assert payments.between_failures == 7 * DAY

    assert overall.incidents == 4
    assert overall.identify == 20 * M  # (10 + 30 + 20) / 3
    assert overall.mitigate == 25 * M  # (20 + 30) / 2
    assert overall.resolve == timedelta(minutes=250 / 3)  # (60 + 150 + 40) / 3
    assert overall.between_failures == (2 * DAY + 7 * DAY + (timedelta(days=23))) / 3
    # INC-1's alert on time, its second update 5m late; INC-4's update on time.
    assert (overall.updates_due, overall.updates_on_time) == (3, 2)
    assert checkout.punctuality == 0.5
    # Q1 waited 10m, its duplicate Q2 9m (answered with it); Q3 dismissed counts nothing.
    assert overall.response == timedelta(minutes=9.5) and overall.answered == 2
    assert numbers.monthly == {"checkout": {"2026-10": 105 * M}, "payments": {"2026-10": 95 * M}}


def test_mtbf_over_several_incidents_of_one_application() -> None:
    log = Log()
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for offset in (0, 3, 4, 10):  # gaps of 3, 1 and 6 days
        log.declare(t0 + offset * DAY, Severity.SEV3, "ledger")
    log.declare(t0 + 5 * DAY, Severity.SEV3, "other")
    ledger = stats(log.events).apps["ledger"]
    assert ledger.incidents == 4 and ledger.between_failures == 10 * DAY / 3
    assert ledger.resolve is None and ledger.punctuality is None
    assert stats(log.events, since=t0 + 4 * DAY).apps["ledger"].between_failures == 6 * DAY


def test_app_and_since_choose_the_incidents() -> None:
    log = _log()
    payments = stats(log, app="PAYMENTS")
    assert list(payments.apps) == ["payments"] and payments.overall.incidents == 2
    later = stats(log, since=datetime(2026, 10, 5, tzinfo=UTC))
    assert later.overall.incidents == 2 and later.overall.between_failures == 23 * DAY
    assert later.data()["overall"]["mean_time_to_resolve_s"] == 2400.0
    assert later.data()["apps"]["Checkout"]["mean_time_to_resolve_s"] is None  # first spelling

"""A scripted incident on a fixed clock, from declaration to its second resolution, for the tests
of the post-mortem, the numbers and the replay: every kind of entry, for every audience, a
reopening, late and punctual updates, answered, merged, dismissed and open questions.

It is played through `authorize`, `decide` and `apply` exactly as the hub would; each step is
one command at its own minute after `T0`. Entries the exec group may not see hold `CANARY`
(internal) or `SUPPORT_ONLY` (support's).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from warroom.core import commands as c
from warroom.core import events as e
from warroom.core.cadence import DEFAULT_CADENCE
from warroom.core.decide import decide
from warroom.core.domain import (
    ActionState,
    Actor,
    Confidence,
    MitigationState,
    Role,
    Severity,
    Status,
    UpdateKind,
    World,
)
from warroom.core.policy import authorize
from warroom.core.reducer import apply
from warroom.core.updates import compose

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
INC = "INC-1"
CANARY = "CANARY-internal-7f3"
SUPPORT_ONLY = "CANARY-support-only-19"

IM = Actor("ines", Role.INCIDENT_MANAGER)
ANA = Actor("ana", Role.RESPONDER)
BOB = Actor("bob", Role.RESPONDER)
EVE = Actor("eve", Role.STAKEHOLDER, frozenset({"exec"}))
ZOE = Actor("zoe", Role.STAKEHOLDER, frozenset({"exec"}))
SAM = Actor("sam", Role.STAKEHOLDER, frozenset({"support"}))

OUTPUT = (
    "$ kubectl get pods -n payments\n"
    "NAME            READY   STATUS\n"
    "api-7d9 ```x``` 0/1     CrashLoopBackOff\n"
    f"<script>alert(1)</script> # {CANARY}"
)
"""Command output pasted into an internal note: several lines, a run of backticks, HTML."""


@dataclass(frozen=True)
class _Publish:
    """An update as the incident manager publishes it: composed from the room at that moment."""

    audience: str
    kind: UpdateKind = UpdateKind.UPDATE

    def command(self, world: World, at: datetime) -> c.PublishUpdate:
        incident = world.incidents[INC]
        return compose(incident, self.audience, at, DEFAULT_CADENCE, self.kind).command(INC)


def _update(audience: str, kind: UpdateKind = UpdateKind.UPDATE) -> _Publish:
    return _Publish(audience, kind)


def _steps() -> list[tuple[int, Actor, c.Command | _Publish]]:
    """(minutes after T0, actor, the command, or the update composed then)."""
    return [
        (0, IM, c.DeclareIncident(title="Checkout failing in EU *again*", severity=Severity.SEV2,
                                  apps=("checkout", "payments"))),
        (1, IM, _update("all", UpdateKind.ALERT)),
        (3, ANA, c.SetImpact(incident=INC, statement=f"Card payments fail {CANARY}",
                             base_version=0)),
        (4, ANA, c.SetImpact(incident=INC, statement="EU customers cannot pay by card",
                             base_version=1, audience="all", customer_facing=True)),
        (4, ANA, c.AddNote(incident=INC, text=f"db primary at 100% CPU {CANARY}")),
        (5, ANA, c.AddNote(incident=INC, text="Deploy 4812 rolled out [v2.3]",
                           occurred_at=T0 - timedelta(minutes=20), pinned=True, audience="all")),
        (6, BOB, c.AddNote(incident=INC, text=OUTPUT)),
        (6, BOB, c.PinNote(incident=INC, note=3)),
        (8, IM, c.ChangeSeverity(incident=INC, severity=Severity.SEV1)),
        (10, ANA, c.ChangeStatus(incident=INC, status=Status.IDENTIFIED)),
        (10, ANA, c.SetEta(incident=INC, eta=T0 + timedelta(minutes=90),
                           confidence=Confidence.MEDIUM, base_version=0)),
        (12, ANA, c.AddAction(incident=INC, text="Roll back deploy 4812", owner="ana",
                              audience="all")),
        (12, BOB, c.AddAction(incident=INC, text=f"Page the DBA {CANARY}", owner="bob")),
        (13, IM, c.AddAction(incident=INC, text="Write a runbook for card failover",
                             audience="all")),
        (13, IM, c.AddAction(incident=INC, text=f"Call key accounts {SUPPORT_ONLY}",
                             owner="sam", audience="support")),
        (14, ANA, c.AddMitigation(incident=INC, text="Route EU traffic via the US region",
                                  apps=("checkout",), audience="all")),
        (15, BOB, c.AddMitigation(incident=INC, text=f"Restart the pods {CANARY}")),
        (15, BOB, c.AddMitigation(incident=INC, text=f"Invoice by hand {SUPPORT_ONLY}",
                                  audience="support")),
        (16, EVE, c.AskQuestion(incident=INC, text="When will card payments work again?")),
        (18, ZOE, c.AskQuestion(incident=INC, text="Are payments back soon?")),
        (19, IM, c.MergeQuestion(incident=INC, question=2, into=1)),
        (20, SAM, c.AskQuestion(incident=INC, text=f"Can support offer invoices? {SUPPORT_ONLY}")),
        (22, IM, _update("all")),
        (25, ANA, c.ChangeActionState(incident=INC, action=1, state=ActionState.IN_PROGRESS)),
        (28, IM, c.AnswerQuestion(incident=INC, question=1, text="We expect 13:30 UTC.",
                                  audience="all")),
        (30, ANA, c.ChangeMitigationState(incident=INC, mitigation=1,
                                          state=MitigationState.VERIFIED)),
        (31, IM, c.AnswerQuestion(incident=INC, question=3,
                                  text=f"Yes, by hand {SUPPORT_ONLY}")),
        (32, IM, _update("exec")),
        (35, ANA, c.ChangeActionState(incident=INC, action=1, state=ActionState.DONE)),
        (36, BOB, c.AssignAction(incident=INC, action=2, owner="ana")),
        (40, ANA, c.SetEta(incident=INC, eta=T0 + timedelta(minutes=60),
                           confidence=Confidence.HIGH, base_version=1)),
        (42, BOB, c.ChangeMitigationState(incident=INC, mitigation=2,
                                          state=MitigationState.WITHDRAWN)),
        (45, ANA, c.ChangeStatus(incident=INC, status=Status.MONITORING)),
        (50, IM, c.ChangeStatus(incident=INC, status=Status.RESOLVED)),
        (55, ANA, c.ChangeStatus(incident=INC, status=Status.INVESTIGATING)),
        (58, ANA, c.AddNote(incident=INC, text="Errors back after the cache expired", pinned=True,
                            audience="all")),
        (60, EVE, c.AskQuestion(incident=INC, text="Is it down again?")),
        (62, IM, c.DismissQuestion(incident=INC, question=4, reason="see the next update")),
        (63, IM, _update("all")),
        (70, BOB, c.ChangeActionState(incident=INC, action=2, state=ActionState.DONE)),
        (74, SAM, c.AskQuestion(incident=INC, text="Anything for support to do?")),
        (75, ANA, c.ChangeStatus(incident=INC, status=Status.RESOLVED)),
        (77, IM, c.ChangeAudience(incident=INC, entry="N1", audience="support")),
    ]  # fmt: skip


def scripted() -> list[e.Event]:
    """The scripted incident's events, in log order."""
    world = World()
    log: list[e.Event] = []
    for minutes, actor, step in _steps():
        at = T0 + timedelta(minutes=minutes)
        command = step.command(world, at) if isinstance(step, _Publish) else step
        authorize(actor, command, world)
        for event in decide(world, command, actor, at):
            world = apply(world, event)
            log.append(event)
    return log

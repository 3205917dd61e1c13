"""The verbs that keep stakeholders informed: publish an update (or an alert), merge duplicate
questions, and the question queue in triage order."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import click

from warroom.cli.common import (
    Caused,
    Failure,
    HubArgs,
    audience_of,
    change,
    now,
    parsed,
    print_caused,
    run,
    text_or_stdin,
)
from warroom.cli.parsing import hub_options, option, verb
from warroom.core import commands as c
from warroom.core import json_forms
from warroom.core.cadence import DEFAULT_CADENCE, Cadence, overdue, question_age, triage_order
from warroom.core.domain import IncidentState, QuestionState, UpdateKind, entry_number
from warroom.core.groups import unknown_group
from warroom.core.messages import body, subject
from warroom.core.text import visible
from warroom.core.timeparse import relative
from warroom.core.updates import Draft, compose, promoted
from warroom.core.views import event_line

if TYPE_CHECKING:
    from warroom.net.remote import Remote

Composer = Callable[[IncidentState, Cadence], Draft]
"""Makes the draft from the incident as the hub has it and the hub's cadence."""


def _question(text: str) -> int:
    return parsed(lambda t: entry_number(t, "Q"), text)


def drafted(
    incident: IncidentState,
    audience: str,
    cadence: Cadence,
    kind: UpdateKind,
    summary: str | None,
    question: int | None,
) -> Draft:
    """The update the composer makes for `audience`, with the summary given, or the answer to
    `question` promoted."""
    if question is not None:
        draft = parsed(lambda _: promoted(incident, question, audience), "")
    else:
        draft = parsed(lambda a: compose(incident, a, now(), cadence, kind), audience)
    if summary is not None:
        draft = replace(draft, summary=text_or_stdin(summary))
    return draft


def _preview(incident: IncidentState, draft: Draft) -> dict[str, Any]:
    number = len(incident.updates) + 1
    return {
        "incident": incident.id,
        "audience": draft.audience,
        "kind": draft.kind.value,
        "subject": subject(incident.id, incident.title, incident.severity, draft, number),
        "body": body(draft),
        "parts": {part: getattr(draft, part) for part in _PARTS},
    }


_PARTS = ("summary", "impact", "timeline", "progress", "mitigation")


async def publish_in(
    remote: Remote, incident_id: str, build: Composer, dry_run: bool
) -> tuple[dict[str, Any], Caused | None]:
    """Read the incident, compose with the hub's cadence, then publish (unless a dry run)."""
    incident = await remote.incident(incident_id)
    if incident is None:
        raise Failure(f"there is no incident {incident_id.upper()} that you may see")
    if remote.welcome is None:
        await remote.sync(None)  # the welcome: the hub's cadence and the groups there are
    welcome = remote.welcome
    assert welcome is not None
    cadence = DEFAULT_CADENCE if welcome.cadence is None else Cadence.from_wire(welcome.cadence)
    draft: Draft = build(incident, cadence)
    unknown = set(draft.audience.split(",")) - set(welcome.known_groups) - {"all"}
    if unknown:
        refused = unknown_group(unknown, welcome.known_groups)
        raise Failure(refused.message, detail={"code": refused.code})
    preview = _preview(incident, draft)
    if dry_run:
        return preview, None
    seq, received = await remote.submit(draft.command(incident.id))
    return preview, (seq, [item for item in received if item.seq == seq])


@verb("publish", "publish an update to stakeholders, composed from the room")
@hub_options
@click.argument("incident")
@option("--audience", "-a", required=True, help="'all' or stakeholder groups (comma-separated)")
@option("--summary", help="the summary, in your words ('-': read it from standard input)")
@option("--alert", is_flag=True, help="the initial alert rather than a regular update")
@option("--question", metavar="Q", help="promote this question's answer into the update")
@option("--dry-run", is_flag=True, help="print what would go out; send nothing")
def publish(
    hub: HubArgs,
    incident: str,
    audience: str,
    summary: str | None,
    alert: bool,
    question: str | None,
    dry_run: bool,
) -> None:
    target = hub.target()
    wanted = audience_of(audience)
    if wanted == "internal":
        raise Failure("an update goes to stakeholders: 'all' or stakeholder groups", 2)
    number = _question(question) if question else None
    kind = UpdateKind.ALERT if alert else UpdateKind.UPDATE

    def build(state: IncidentState, cadence: Cadence) -> Draft:
        return drafted(state, wanted, cadence, kind, summary, number)

    async def job() -> tuple[dict[str, Any], Caused | None]:

        async with await target.open() as remote:
            return await publish_in(remote, incident.upper(), build, dry_run)

    preview, caused = run(job)
    if caused is None:
        lines = [preview["subject"], f"to: {preview['audience']}", "", *preview["body"].split("\n")]
        hub.emit(preview, lines[:-1])
        return
    print_caused(hub, caused)


@verb("merge", "merge a question into the one it duplicates: its asker gets that answer")
@hub_options
@click.argument("incident")
@click.argument("question", help="the duplicate, e.g. Q3")
@option("--into", required=True, metavar="Q", help="the question it duplicates, e.g. Q1")
def merge(hub: HubArgs, incident: str, question: str, into: str) -> None:
    command = c.MergeQuestion(
        incident=incident.upper(), question=_question(question), into=_question(into)
    )
    change(hub, command)


@verb("questions", "the question queue: open questions oldest first, with their age")
@hub_options
@click.argument("incident")
@option("--all", "everything", is_flag=True, help="answered, dismissed and merged ones too")
def questions(hub: HubArgs, incident: str, everything: bool) -> None:
    target = hub.target()

    async def job() -> tuple[IncidentState | None, Cadence]:

        async with await target.open() as remote:
            state = await remote.incident(incident.upper())
            await remote.sync(None)
            welcome = remote.welcome
        wire = None if welcome is None else welcome.cadence
        return state, DEFAULT_CADENCE if wire is None else Cadence.from_wire(wire)

    state, cadence = run(job)
    if state is None:
        raise Failure(f"there is no incident {incident.upper()} that you may see")
    moment = now()
    queue = [
        q for q in triage_order(state.questions) if everything or q.state is QuestionState.OPEN
    ]
    rows: list[dict[str, Any]] = []
    lines: list[str] = []
    for q in queue:
        late = overdue(q, cadence, moment)
        age = question_age(q, moment)
        rows.append({
            "question": f"Q{q.id}", "asker": q.asker, "text": q.text, "state": q.state.value,
            "asked_at": q.asked_at.isoformat(), "age_seconds": int(age.total_seconds()),
            "overdue": late, "merged_into": q.merged_into, "answer": q.answer,
        })  # fmt: skip
        flag = " OVERDUE" if late else ""
        if q.state is QuestionState.MERGED:
            status = f"merged into Q{q.merged_into}"
        elif q.state is QuestionState.OPEN:
            status = f"open, asked {relative(q.asked_at, moment)}{flag}"
        else:
            status = q.state.value
        lines.append(f"Q{q.id} [{status}] {q.asker}: {q.text}")
    target_minutes = int(cadence.response_target.total_seconds() // 60)
    empty = f"no open questions (answer target {target_minutes}m)"
    hub.emit({"incident": state.id, "questions": rows}, lines or [empty])


def declare_with_alert(hub: HubArgs, command: c.DeclareIncident, audience: str) -> None:
    """Declare, then publish the initial alert to `audience` on the same connection; prints the
    incident's id (the alert's line goes to standard error, or into the JSON)."""
    if audience == "internal":
        raise Failure("an alert goes to stakeholders: 'all' or stakeholder groups", 2)
    target = hub.target()

    def build(state: IncidentState, cadence: Cadence) -> Draft:
        return compose(state, audience, now(), cadence, UpdateKind.ALERT)

    async def job() -> tuple[str, int | str, Caused | None]:

        async with await target.open() as remote:
            await remote.sync(None)
            seq, received = await remote.submit(command)
            (declared,) = [item.event.incident for item in received if item.seq == seq]
            _, caused = await publish_in(remote, declared, build, dry_run=False)
        return declared, seq, caused

    incident, seq, caused = run(job)
    alert = caused[1] if caused is not None else []
    if hub.json:
        hub.emit({"incident": incident, "seq": seq, "alert": [
            json_forms.event_data(item.event) for item in alert]}, "")  # fmt: skip
        return
    print(incident)
    for item in alert:
        print(visible(event_line(item)), file=sys.stderr)

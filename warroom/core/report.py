"""The post-mortem of an incident as a Markdown document, written from its log alone, and the
facts it is made of (durations, update punctuality, response times) that `stats` adds up.

Pure and deterministic: times come from the log and are written in UTC, the cadence comes in,
no clock is read, so the same log gives the same document byte for byte. Everything people
wrote stays data: inline text has every character CommonMark would read as markup escaped, and
multi-line text (command output in notes) goes into a fenced code block whose fence is longer
than any run of backticks inside it. No control character reaches the document either (see
`warroom.core.text.visible`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import assert_never

from warroom.core import events as e
from warroom.core.cadence import DEFAULT_CADENCE, Cadence, covers, next_due
from warroom.core.domain import (
    INTERNAL,
    ActionState,
    Actor,
    IncidentState,
    MitigationState,
    Question,
    QuestionState,
    Status,
    Update,
    World,
    find_entry,
)
from warroom.core.messages import body
from warroom.core.policy import preview_actor, visible_part
from warroom.core.reducer import apply, update_of
from warroom.core.replaying import seen_by
from warroom.core.text import visible

# Markdown as data --------------------------------------------------------------------------------

_MARKUP = re.compile(r"([\\`*_\[\]<>&!|~#])")
"""The ASCII punctuation CommonMark (and its common extensions: tables, strikethrough) reads as
markup inside a line: emphasis, code, links and images, raw HTML and entities, table cells,
strikethrough, a heading's closing sequence. Each may be backslash-escaped."""

_TICKS = re.compile(r"`+")

_LEAD = re.compile(r"^(\d{1,9}(?=[.)])|)([-+=.)])")
"""What starts a block when a line begins with it: a list item (`-`, `+`, `1.`, `1)`), a
thematic break (`---`) or a setext underline (`===`). Escaping it leaves a paragraph."""


def inline(text: str) -> str:
    """`text` as one line of Markdown that reads exactly as written: control characters (a
    newline too) shown as stand-ins, markup characters escaped."""
    return _MARKUP.sub(r"\\\1", visible(text, multiline=False))


def fenced(text: str, indent: str = "") -> list[str]:
    """`text` as a fenced code block, each line after `indent` (to sit inside a list item):
    the fence is longer than any run of backticks in the text, so nothing in it closes it."""
    shown = visible(text)
    longest = max((len(run) for run in _TICKS.findall(shown)), default=0)
    fence = "`" * max(3, longest + 1)
    lines = [f"{indent}{fence}"]
    lines += [f"{indent}{line}" if line else "" for line in shown.split("\n")]
    lines.append(f"{indent}{fence}")
    return lines


def item(head: str, text: str, indent: str = "") -> list[str]:
    """A list item `head: text`; a text of several lines follows in a fenced block inside it."""
    if "\n" not in text.strip("\n"):
        shown = f": {inline(text.strip())}" if text.strip() else ""
        return [f"{indent}- {head}{shown}"]
    return [f"{indent}- {head}:", "", *fenced(text.strip("\n"), indent + "  "), ""]


def when(moment: datetime) -> str:
    """A time as the document writes it: `2026-11-27 14:05 UTC`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def span(gap: timedelta) -> str:
    """A duration as people say it: `45s`, `12m`, `12m 30s`, `1h 05m`, `2d 3h 05m`."""
    seconds = int(abs(gap).total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {minutes:02d}m"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {seconds:02d}s" if seconds else f"{minutes}m"
    return f"{seconds}s"


# The facts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Punctuality:
    """One published update, and when its audience was owed it."""

    update: Update
    due: datetime | None
    """When the update was due (`cadence.next_due` just before it); None: nothing was due."""

    @property
    def late_by(self) -> timedelta | None:
        """How late it went out, or None if it was on time (or nothing was due)."""
        if self.due is None or self.update.published_at <= self.due:
            return None
        return self.update.published_at - self.due

    @property
    def on_time(self) -> bool:
        """True if it went out no later than it was due (or nothing was due)."""
        return self.late_by is None


@dataclass(frozen=True)
class Record:
    """What a log says of one incident, as one viewer may see it."""

    incident: IncidentState
    """The incident at the end of the log."""
    events: tuple[e.Event, ...]
    """Its events, as the viewer received them."""
    identified_at: datetime | None
    """The first move to `identified`."""
    mitigated_at: datetime | None
    """The first workaround verified."""
    at_resolution: IncidentState | None
    """The incident as it stood at its last resolution; None unless it ends resolved."""
    updates: tuple[Punctuality, ...]
    ended_at: datetime
    """The time of its last event."""

    @property
    def resolved_at(self) -> datetime | None:
        """The last resolution (a reopened incident counts to the one after), if it ends
        resolved."""
        return self.incident.resolved_at

    def time_to(self, moment: datetime | None) -> timedelta | None:
        """From the declaration to `moment`."""
        return None if moment is None else moment - self.incident.declared_at

    def follow_ups(self) -> list[tuple[int, str]]:
        """The actions still open at the last resolution (`number`, state then), or at the end
        of the log if the incident is not resolved."""
        then = self.at_resolution or self.incident
        return [
            (action.id, action.state.value)
            for action in then.actions
            if action.state in (ActionState.NEXT, ActionState.IN_PROGRESS)
            and find_entry(self.incident.actions, action.id) is not None
        ]


def response_time(question: Question, incident: IncidentState) -> timedelta | None:
    """How long `question` waited for its answer: a duplicate, for the answer of the question
    it was merged into. None while unanswered, dismissed, or asked out of the viewer's sight."""
    if not question.asker:
        return None  # a published answer to a question this viewer never saw asked
    answered = question
    if question.state is QuestionState.MERGED and question.merged_into is not None:
        into = find_entry(incident.questions, question.merged_into)
        if into is None:
            return None
        answered = into
    if answered.state is not QuestionState.ANSWERED or answered.answered_at is None:
        return None
    return max(answered.answered_at - question.asked_at, timedelta(0))


def record(
    events: Iterable[e.Event],
    incident_id: str,
    cadence: Cadence = DEFAULT_CADENCE,
    viewer: Actor | None = None,
) -> Record | None:
    """Fold the log into what it says of incident `incident_id`; None if the log has no such
    incident (for `viewer`: the events are those they received)."""
    wanted = incident_id.upper()
    world = World()
    mine: list[e.Event] = []
    identified: datetime | None = None
    mitigated: datetime | None = None
    at_resolution: IncidentState | None = None
    updates: list[Punctuality] = []
    for event in events:
        if event.incident != wanted:
            continue
        before = world.incident(wanted)
        if isinstance(event, e.UpdatePublished) and before is not None:
            updates.append(Punctuality(update_of(event), _due(before, cadence, event.audience)))
        world = apply(world, event)
        mine.append(event)
        if isinstance(event, e.StatusChanged):
            if event.status is Status.IDENTIFIED and identified is None:
                identified = event.at
            # A reopening forgets the resolution; the next one is the one that counts.
            at_resolution = world.incident(wanted) if event.status is Status.RESOLVED else None
        elif (
            isinstance(event, e.MitigationStateChanged)
            and event.state is MitigationState.VERIFIED
            and mitigated is None
        ):
            mitigated = event.at
    incident = world.incident(wanted)
    if incident is None:
        return None
    if viewer is not None:
        incident = visible_part(incident, viewer)
        if at_resolution is not None:
            at_resolution = visible_part(at_resolution, viewer)
    return Record(
        incident=incident,
        events=tuple(mine),
        identified_at=identified,
        mitigated_at=mitigated,
        at_resolution=at_resolution,
        updates=tuple(updates),
        ended_at=max(event.at for event in mine),
    )


def _due(incident: IncidentState, cadence: Cadence, audience: str) -> datetime | None:
    try:
        return next_due(incident, cadence, audience)
    except OverflowError:
        return None  # a time at the calendar's edge in an old log: nothing sensible was due


# The document ------------------------------------------------------------------------------------


def report(
    events: Iterable[e.Event],
    incident_id: str,
    cadence: Cadence = DEFAULT_CADENCE,
    audience: str | None = None,
    viewer: Actor | None = None,
) -> str:
    """The post-mortem of incident `incident_id` as Markdown.

    Args:
        events: the log (any incidents; the others are skipped), as `viewer` received it.
        incident_id: the incident.
        cadence: the update intervals the hub held the room to.
        audience: write the version this audience (`all` or stakeholder groups) may see:
            the events are filtered as the hub filters what it sends them.
        viewer: who received `events`, when not the war room (a stakeholder's own log).

    Raises:
        LookupError: if the log holds no such incident (for that audience).
    """
    log: Iterable[e.Event] = events
    if audience is not None:
        viewer = preview_actor(audience)
        log = seen_by(events, viewer)
    found = record(log, incident_id, cadence, viewer)
    if found is None:
        raise LookupError(f"there is no incident {incident_id.upper()} in this log")
    room = viewer is None or viewer.internal
    return "\n".join(_Document(found, cadence, numbered=room, audience=audience).lines()) + "\n"


@dataclass(frozen=True)
class _Document:
    found: Record
    cadence: Cadence
    numbered: bool
    """Name entries by number (A3): the war room's numbers count what an audience may not see."""
    audience: str | None

    def n(self, prefix: str, number: int) -> str:
        return f"{prefix}{number}" if self.numbered else ""

    def label(self, prefix: str, number: int, what: str) -> str:
        """`**A3** (what)` for the war room, `**what**` for an audience."""
        if self.numbered:
            return f"**{prefix}{number}** ({what})"
        return f"**{what}**"

    def lines(self) -> Iterator[str]:
        incident = self.found.incident
        yield f"# Post-mortem: {incident.id} {inline(incident.title)}"
        yield ""
        written = "as the war room saw it"
        if self.audience is not None:
            written = f"as {inline(self.audience)} was shown it"
        yield f"Written from the incident's log, {written}. Times are in UTC."
        for section in (
            self.summary,
            self.durations,
            self.impact,
            self.timeline,
            self.actions,
            self.workarounds,
            self.communications,
            self.questions,
            self.follow_ups,
        ):
            yield ""
            yield from section()
        yield ""
        yield "## Root cause"
        yield ""
        yield "_To be written by the team: what failed, and why it could._"
        yield ""
        yield "## Lessons learned"
        yield ""
        yield "_To be written by the team: what went well, what did not, what changes._"

    def summary(self) -> Iterator[str]:
        found, incident = self.found, self.found.incident
        yield "## Summary"
        yield ""
        declared = next(
            (event for event in found.events if isinstance(event, e.IncidentDeclared)), None
        )
        severity = incident.severity.value
        if declared is not None and declared.severity is not incident.severity:
            severity += f" (declared {declared.severity.value})"
        yield f"- **Title**: {inline(incident.title)}"
        yield f"- **Severity**: {severity}"
        yield f"- **Status**: {incident.status.value}"
        apps = ", ".join(inline(app) for app in incident.apps) or "none recorded"
        yield f"- **Applications**: {apps}"
        yield f"- **Incident manager**: {inline(incident.manager or 'none')}"
        yield f"- **Declared**: {when(incident.declared_at)} by {inline(incident.declared_by)}"
        if found.resolved_at is not None:
            yield f"- **Resolved**: {when(found.resolved_at)}"
            yield f"- **Duration**: {span(found.resolved_at - incident.declared_at)}"
        else:
            yield f"- **Resolved**: not yet (last event {when(found.ended_at)})"
            yield f"- **Duration**: {span(found.ended_at - incident.declared_at)} so far"
        if incident.reopened_at is not None:
            yield f"- **Reopened**: last at {when(incident.reopened_at)}"

    def durations(self) -> Iterator[str]:
        found = self.found
        yield "## Durations"
        yield ""
        for what, moment, note in (
            ("Time to identify", found.identified_at, "first status identified"),
            ("Time to mitigate", found.mitigated_at, "first workaround verified"),
            ("Time to resolve", found.resolved_at, "last resolution"),
        ):
            gap = found.time_to(moment)
            if gap is None or moment is None:
                yield f"- **{what}**: not reached"
            else:
                yield f"- **{what}**: {span(gap)} ({note}, {when(moment)})"

    def impact(self) -> Iterator[str]:
        impact = self.found.incident.impact
        yield "## Impact"
        yield ""
        if not impact.statement:
            yield "No impact statement was recorded."
        else:
            facing = "customer-facing" if impact.customer_facing else "not customer-facing"
            to = self._to(impact.audience)
            version = f"version {impact.version}, " if self.numbered else ""
            by = f" by {inline(impact.updated_by)}" if impact.updated_by else ""
            stamp = f" at {when(impact.updated_at)}" if impact.updated_at else ""
            yield f"Current statement ({version}{facing}{to}, set{by}{stamp}):"
            yield ""
            yield from _paragraph(impact.statement)
        revisions = [event for event in self.found.events if isinstance(event, e.ImpactUpdated)]
        if revisions:
            yield ""
            yield "### Revisions"
            yield ""
            for event in revisions:
                version = f"version {event.version}, " if self.numbered else ""
                facing = "customer-facing" if event.customer_facing else "not customer-facing"
                forced = ", forced over a newer version" if event.forced else ""
                head = (
                    f"{when(event.at)} by {inline(event.actor)} "
                    f"({version}{facing}{self._to(event.audience)}{forced})"
                )
                yield from item(head, event.statement)

    def timeline(self) -> Iterator[str]:
        found, incident = self.found, self.found.incident
        yield "## Timeline of key moments"
        yield ""
        moments: list[tuple[datetime, int, list[str]]] = []

        def add(at: datetime, head: str, text: str = "") -> None:
            moments.append((at, len(moments), item(f"**{when(at)}** {head}", text)))

        for event in found.events:
            by = f"by {inline(event.actor)}"
            match event:
                case e.IncidentDeclared():
                    add(event.at, f"declared {event.severity.value} {by}")
                case e.StatusChanged():
                    verb = "reopened as" if event.previous is Status.RESOLVED else "status"
                    add(event.at, f"{verb} {event.status.value} (was {event.previous.value}) {by}")
                case e.SeverityChanged():
                    add(
                        event.at,
                        f"severity {event.severity.value} (was {event.previous.value}) {by}",
                    )
                case e.EtaSet():
                    if event.eta is None:
                        add(event.at, f"expected resolution withdrawn {by}")
                    else:
                        sure = event.confidence.value
                        add(
                            event.at,
                            f"expected resolution {when(event.eta)} ({sure} confidence) {by}",
                        )
                case e.UpdatePublished():
                    if find_entry(incident.updates, event.update) is not None:
                        number = f" {self.n('U', event.update)}" if self.numbered else ""
                        to = f" to {inline(event.audience)}" if self.numbered else ""
                        add(event.at, f"{event.kind.value}{number} published{to} {by}")
                case (
                    e.ImpactUpdated()
                    | e.AppAdded()
                    | e.AppRemoved()
                    | e.NoteAdded()
                    | e.NotePinned()
                    | e.ActionAdded()
                    | e.ActionStateChanged()
                    | e.ActionAssigned()
                    | e.MitigationAdded()
                    | e.MitigationStateChanged()
                    | e.QuestionAsked()
                    | e.QuestionAnswered()
                    | e.QuestionDismissed()
                    | e.QuestionMerged()
                    | e.AudienceChanged()
                    | e.PrivacyChanged()
                    | e.AccessChanged()
                ):
                    pass  # notes come from the state below; the rest are not key moments
                case _:
                    assert_never(event)
        for note in incident.notes:
            if not note.pinned:
                continue
            # A backdated note takes its place at the time it happened.
            recorded = (
                f", recorded {when(note.recorded_at)}"
                if note.recorded_at != note.occurred_at
                else ""
            )
            number = f"{self.n('N', note.id)} " if self.numbered else ""
            head = f"note {number}by {inline(note.author)}{self._to(note.audience)}{recorded}"
            add(note.occurred_at, head, note.text)
        moments.sort(key=lambda moment: (moment[0], moment[1]))
        for _, _, lines in moments:
            yield from lines

    def actions(self) -> Iterator[str]:
        incident = self.found.incident
        yield "## Actions and owners"
        yield ""
        if not incident.actions:
            yield "No actions were recorded."
            return
        for action in incident.actions:
            owner = f"owner {inline(action.owner)}" if action.owner else "no owner"
            what = f"{action.state.value}, {owner}{self._to(action.audience)}"
            head = (
                f"{self.label('A', action.id, what)} added {when(action.created_at)} by "
                f"{inline(action.created_by)}, last changed {when(action.updated_at)}"
            )
            yield from item(head, action.text)

    def workarounds(self) -> Iterator[str]:
        incident = self.found.incident
        yield "## Workarounds"
        yield ""
        if not incident.mitigations:
            yield "No workarounds were recorded."
            return
        for fix in incident.mitigations:
            helps = f", for {', '.join(inline(app) for app in fix.apps)}" if fix.apps else ""
            what = f"{fix.state.value}{helps}{self._to(fix.audience)}"
            since = (
                f", {fix.state.value} since {when(fix.updated_at)}"
                if fix.state is not MitigationState.PROPOSED
                else ""
            )
            head = (
                f"{self.label('M', fix.id, what)} proposed {when(fix.created_at)} by "
                f"{inline(fix.created_by)}{since}"
            )
            yield from item(head, fix.text)

    def communications(self) -> Iterator[str]:
        found, incident = self.found, self.found.incident
        yield "## Communications"
        yield ""
        shown = [p for p in found.updates if find_entry(incident.updates, p.update.id)]
        if not shown:
            yield "No update was published to stakeholders."
            return
        audiences = dict.fromkeys(p.update.audience for p in shown)
        for audience in audiences:
            told = [p for p in shown if covers(p.update.audience, audience)]
            moments = ", ".join(when(p.update.published_at) for p in told)
            yield f"- **{inline(audience)}** was told {len(told)} time(s): {moments}"
        on_time = sum(1 for p in shown if p.on_time)
        yield ""
        yield f"Punctuality: {on_time} of {len(shown)} on time against the cadence."
        for p in shown:
            update = p.update
            number = f" {self.n('U', update.id)}" if self.numbered else ""
            yield ""
            yield (
                f"### {update.kind.value.capitalize()}{number} to {inline(update.audience)}, "
                f"{when(update.published_at)}"
            )
            yield ""
            yield f"- **Published by**: {inline(update.author)}"
            yield f"- **Status then**: {update.status.value}, {update.severity.value}"
            if p.due is None:
                yield "- **Due**: nothing was due (no cadence at this severity)"
            elif p.late_by is None:
                spare = p.due - update.published_at
                yield f"- **Due**: {when(p.due)}; on time ({span(spare)} to spare)"
            else:
                yield f"- **Due**: {when(p.due)}; late by {span(p.late_by)}"
            yield ""
            yield from fenced(body(update).rstrip("\n"))

    def questions(self) -> Iterator[str]:
        incident = self.found.incident
        yield "## Questions"
        yield ""
        if not incident.questions:
            yield "No questions were asked."
            return
        times = [
            gap
            for question in incident.questions
            if question.state is not QuestionState.MERGED
            and (gap := response_time(question, incident)) is not None
        ]
        if times:
            mean = sum(times, timedelta(0)) / len(times)
            target = self.cadence.response_target
            within = sum(1 for gap in times if gap <= target)
            yield (
                f"Mean response time {span(mean)}; {within} of {len(times)} answered within "
                f"the {span(target)} target."
            )
            yield ""
        for question in incident.questions:
            asker = inline(question.asker) if question.asker else "a stakeholder"
            asked = f"asked {when(question.asked_at)} by {asker}" if question.asker else asker
            number = self.n("Q", question.id)
            head = f"**{number}** {asked}" if number else asked
            yield from item(head, question.text)
            yield from self._outcome(question, incident)

    def _outcome(self, question: Question, incident: IncidentState) -> Iterator[str]:
        gap = response_time(question, incident)
        after = f" after {span(gap)}" if gap is not None else ""
        match question.state:
            case QuestionState.OPEN:
                yield "  - still open at the end of the log"
            case QuestionState.ANSWERED:
                to = (
                    "to the asker only"
                    if question.answer_audience is None
                    else f"published to {inline(question.answer_audience)}"
                )
                by = inline(question.answered_by or "")
                stamp = when(question.answered_at) if question.answered_at else "?"
                head = f"answered {stamp}{after} by {by}, {to}"
                if question.merged_into is not None:
                    into = f"Q{question.merged_into}" if self.numbered else "an earlier question"
                    head += f", as a duplicate of {into}"
                yield from item(head, question.answer or "", "  ")
            case QuestionState.DISMISSED:
                stamp = when(question.answered_at) if question.answered_at else "?"
                reason = question.answer or ""
                yield from item(f"dismissed {stamp}", reason, "  ")
            case QuestionState.MERGED:
                into = f"Q{question.merged_into}" if self.numbered else "an earlier question"
                answered = f": answered with it{after}" if gap is not None else ""
                yield f"  - a duplicate, merged into {into}{answered}"
            case _:
                assert_never(question.state)

    def follow_ups(self) -> Iterator[str]:
        found, incident = self.found, self.found.incident
        yield "## Follow-ups"
        yield ""
        resolved = found.resolved_at is not None
        follow = found.follow_ups()
        if not follow:
            yield (
                "No action was left open at resolution."
                if resolved
                else "No action is open; the incident is not resolved yet."
            )
            return
        where = "open at resolution" if resolved else "open (the incident is not resolved yet)"
        yield f"Actions {where}:"
        yield ""
        for number, then in follow:
            action = find_entry(incident.actions, number)
            assert action is not None  # follow_ups keeps only actions the incident still holds
            now = f"; now {action.state.value}" if action.state.value != then else ""
            owner = f"owner {inline(action.owner)}" if action.owner else "no owner"
            yield from item(self.label("A", number, f"{then}, {owner}{now}"), action.text)

    def _to(self, audience: str | None) -> str:
        """`, to exec` for the war room's version; an audience's own says nothing of it."""
        if not self.numbered or audience is None or audience == INTERNAL:
            return ""
        return f", to {inline(audience)}"


def _paragraph(text: str) -> list[str]:
    """`text` on its own: one line of escaped text, or a fenced block for several."""
    if "\n" in text.strip("\n"):
        return fenced(text.strip("\n"))
    return [_LEAD.sub(r"\1\\\2", inline(text.strip()), count=1)]

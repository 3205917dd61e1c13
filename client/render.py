"""Pure renderers from state to rich text: badges, the header line, panel rows.

No widget here; everything takes `now`, so snapshots with a frozen clock are stable. Colour never
carries meaning alone: every badge also reads as text (`SEV1`, `identified`).

Text people typed reaches the screen only through `shown`: a rich `Text` (never markup, so `[/]`
or `[@click=...]` is just text) with its control characters made visible (never sent raw to the
terminal).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.text import Text

from warroom.core import events as e
from warroom.core.domain import (
    ActionState,
    IncidentState,
    MitigationState,
    QuestionState,
    Severity,
    Status,
)
from warroom.core.text import visible
from warroom.core.timeparse import in_local_zone, relative
from warroom.core.views import describe

SEVERITY_STYLE = {
    Severity.SEV1: "bold white on red",
    Severity.SEV2: "bold black on dark_orange",
    Severity.SEV3: "bold black on yellow",
    Severity.SEV4: "bold black on cyan",
}
"""One palette for severities, everywhere."""

STATUS_STYLE = {
    Status.INVESTIGATING: "bold red",
    Status.IDENTIFIED: "bold dark_orange",
    Status.MONITORING: "bold cyan",
    Status.RESOLVED: "bold green",
}

ACTION_STYLE = {
    ActionState.NEXT: "bold",
    ActionState.IN_PROGRESS: "bold yellow",
    ActionState.DONE: "green strike",
    ActionState.DROPPED: "dim strike",
}

MITIGATION_STYLE = {
    MitigationState.PROPOSED: "yellow",
    MitigationState.VERIFIED: "bold green",
    MitigationState.WITHDRAWN: "dim strike",
}


def shown(text: str, style: str = "", multiline: bool = True) -> Text:
    """What someone typed, as text: no markup read in it, control characters made visible."""
    return Text(visible(text, multiline), style=style)


def names(items: Sequence[str], empty: str = "-") -> str:
    """Names (applications, people) as one line, control characters made visible."""
    return visible(", ".join(items), multiline=False) if items else empty


def clock(moment: datetime) -> str:
    """A local wall-clock time, `HH:MM`."""
    return in_local_zone(moment).strftime("%H:%M")


def stamp(moment: datetime) -> str:
    """A local date and time, `Nov 27 14:05`."""
    return in_local_zone(moment).strftime("%b %d %H:%M")


def severity_badge(severity: Severity) -> Text:
    """` SEV1 ` in the severity's colours."""
    return Text(f" {severity.value} ", style=SEVERITY_STYLE[severity])


def status_text(status: Status) -> Text:
    """The status word in its colour."""
    return Text(status.value, style=STATUS_STYLE[status])


def eta_text(incident: IncidentState, now: datetime) -> Text:
    """`ETA 15:30 (in 25m, medium)`, `ETA passed 5m ago`, or `ETA unknown`; once resolved, the
    ETA is history, never overdue."""
    revision = incident.eta
    if revision is None or revision.eta is None:
        return Text("" if incident.resolved_at else "ETA unknown", style="dim")
    when = revision.eta
    if incident.resolved_at is not None:
        return Text(f"ETA was {clock(when)}", style="dim")
    if when < now:
        return Text(f"ETA {clock(when)} passed {relative(when, now)}", style="bold red")
    return Text.assemble(
        "ETA ",
        (clock(when), "bold"),
        f" ({relative(when, now)}, {revision.confidence.value})",
    )


def header_line(
    incident: IncidentState,
    now: datetime,
    present: Sequence[str] | None,
    questions: bool = False,
    due: Text | None = None,
) -> Text:
    """The war room's two lines: id, severity, status, title; when the next update is `due`
    (first on its line: it is what a narrow terminal must not cut), elapsed time, ETA, presence
    (None: not known, as in a replay, which says nothing of it) and, with `questions` (for the
    incident manager, who answers them), how many questions wait."""
    waiting = sum(q.state is QuestionState.OPEN for q in incident.questions) if questions else 0
    elapsed_until = incident.resolved_at or now
    elapsed = relative(incident.declared_at, elapsed_until).removesuffix(" ago")
    line = Text.assemble(
        (incident.id, "bold"),
        " ",
        ("PRIVATE " if incident.private else "", "bold magenta"),
        severity_badge(incident.severity),
        " ",
        status_text(incident.status),
        "  ",
        shown(incident.title, "bold", multiline=False),
        "\n",
        due if due else "",
        "  " if due else "",
        (f"open {elapsed}" if incident.resolved_at is None else f"resolved after {elapsed}"),
        "  ",
        eta_text(incident, now),
        "" if present is None else "  in room: ",
        ("" if present is None else names(present), "italic"),
        (
            f"  {waiting} open question{'s' if waiting > 1 else ''}" if waiting else "",
            "bold yellow",
        ),
    )
    line.no_wrap = False
    return line


def timeline_row(event: e.Event, pinned: bool, numbered: bool = True) -> tuple[Text, Text, Text]:
    """(time, who, what) for one timeline entry (`numbered`: see `warroom.core.views.describe`)."""
    when = event.occurred_at if isinstance(event, e.NoteAdded) else event.at
    line = describe(event, brief=True, numbered=numbered)
    what = Text(line)
    if isinstance(event, e.NoteAdded):
        what = Text.assemble(("★ " if pinned else "", "bold yellow"), line)
    elif not isinstance(event, e.NoteAdded | e.QuestionAsked | e.QuestionAnswered):
        what.stylize("dim")
    return Text(stamp(when)), shown(event.actor, multiline=False), what


def action_state_text(state: ActionState) -> Text:
    """An action's state word in its style (done and dropped are struck through)."""
    return Text(state.value, style=ACTION_STYLE[state])


def mitigation_state_text(state: MitigationState) -> Text:
    """A workaround's state word in its style."""
    return Text(state.value, style=MITIGATION_STYLE[state])

"""Pure renderers of stakeholder communication: when the next update is due, how an update's
deliveries stand, and the message an update becomes.

Like `client.render`, everything takes `now`, so a frozen clock gives the same picture; what a
person wrote leaves as `Text`, never markup; colour never says anything the words do not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from rich.text import Text

from client.render import clock, shown
from warroom.core import protocol
from warroom.core.cadence import Cadence, most_urgent, next_due
from warroom.core.domain import IncidentState, UpdateKind
from warroom.core.messages import Message, body, subject
from warroom.core.text import visible

DELIVERY_ORDER = ("sent", "queued", "retrying", "failed")
"""How the states of deliveries are counted, left to right: what went, then what is stuck."""

DELIVERY_STYLE = {"sent": "green", "queued": "", "retrying": "bold yellow", "failed": "bold red"}


def span(gap: timedelta) -> str:
    """A span as a clock reads it: `mm:ss`, or `h:mm:ss` past the hour."""
    seconds = max(int(gap.total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02}:{seconds:02}"
    return f"{minutes:02}:{seconds:02}"


def countdown(incident: IncidentState, cadence: Cadence, now: datetime) -> Text:
    """`next update to all in 12:30 (14:45)`, or `update to exec OVERDUE by 03:10` once past;
    empty when nothing is due (resolved, or no cadence at the incident's severity)."""
    due = most_urgent(incident, cadence)
    if due is None:
        return Text("")
    audience, when = due
    who = visible(audience, multiline=False)
    if when <= now:
        return Text(f"update to {who} OVERDUE by {span(now - when)}", style="bold white on red")
    return Text.assemble(
        f"next update to {who} in ", (span(when - now), "bold"), f" ({clock(when)})"
    )


def expected_by(view: IncidentState, cadence: Cadence) -> Text:
    """`next update expected by 14:45` (local time) for a stakeholder's view; empty when none
    is due."""
    when = next_due(view, cadence)
    return Text("") if when is None else Text(f"next update expected by {clock(when)}", "bold")


def delivery_summary(deliveries: Sequence[protocol.DeliveryFrame]) -> Text:
    """`2 sent · 1 retrying`, or `no deliveries` when the hub reported none."""
    if not deliveries:
        return Text("no deliveries", style="dim")
    counts: Counter[str] = Counter(d.state for d in deliveries)
    parts = [(f"{counts[state]} {state}", DELIVERY_STYLE[state]) for state in DELIVERY_ORDER]
    kept = [part for part in parts if not part[0].startswith("0 ")]
    joined = Text()
    for index, (words, style) in enumerate(kept):
        if index:
            joined.append(" · ", "dim")
        joined.append(words, style)
    return joined


def delivery_row(delivery: protocol.DeliveryFrame) -> tuple[Text, ...]:
    """(channel, recipient, state, attempts, last error, when) of one delivery."""
    return (
        Text(delivery.channel),
        shown(delivery.recipient, multiline=False),
        Text(delivery.state, style=DELIVERY_STYLE[delivery.state]),
        Text(str(delivery.attempts)),
        shown(delivery.error or "-", "red" if delivery.error else "dim", multiline=False),
        Text(clock(delivery.at)),
    )


def delivery_history(delivery: protocol.DeliveryFrame) -> tuple[str, str]:
    """The heading and body of a delivery's reading view: every attempt and how it ended, as
    plain text (what a recipient's server answered is shown, never interpreted)."""
    heading = f"{delivery.channel} to {delivery.recipient}: {delivery.state}"
    lines = [
        f"attempt {a.number}  {clock(a.at)}  {a.state}" + (f"  {a.error}" if a.error else "")
        for a in delivery.history
    ]
    if not lines:
        lines = ["No attempt yet: the first is due shortly."]
    return visible(heading, multiline=False), visible("\n".join(lines))


def kind_text(kind: UpdateKind) -> Text:
    """`ALERT` or `update`: the first alert stands out, in words as well as colour."""
    return Text("ALERT", style="bold red") if kind is UpdateKind.ALERT else Text("update")


def message_text(incident: IncidentState, message: Message, number: int) -> str:
    """Exactly what the audience receives, as plain text: the subject, a blank line, the body
    (control characters made visible, as everywhere on screen)."""
    heading = subject(incident.id, incident.title, incident.severity, message, number)
    return visible(f"Subject: {heading}\n\n{body(message)}")

"""Updates as their audience receives them: the subject, the plain-text body (email, preview,
the stakeholder's room), and the webhook's JSON body with a Slack-compatible `text`.

One rendering serves every channel, so the preview the incident manager reads before sending
is, byte for byte, what the audience gets.
"""

from __future__ import annotations

from typing import Any, Protocol

from warroom.core.domain import Severity, UpdateKind

WEBHOOK_VERSION = 1
"""The version of the webhook body below; a change of its fields raises it."""


class Message(Protocol):
    """An update or alert: the published event or the entry folded from it (or a draft)."""

    @property
    def kind(self) -> UpdateKind: ...
    @property
    def audience(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def impact(self) -> str: ...
    @property
    def timeline(self) -> str: ...
    @property
    def progress(self) -> str: ...
    @property
    def mitigation(self) -> str: ...


def parts(message: Message) -> list[tuple[str, str]]:
    """The titled parts of `message` in reading order, the empty ones left out."""
    named = [
        ("Summary", message.summary),
        ("Impact", message.impact),
        ("Timeline", message.timeline),
        ("Progress", message.progress),
        ("Mitigation", message.mitigation),
    ]
    return [(title, text) for title, text in named if text]


def subject(incident: str, title: str, severity: Severity, message: Message, number: int) -> str:
    """`[SEV1] INC-7 alert: Payments down` or `[SEV1] INC-7 update U3: Payments down`."""
    what = "alert" if message.kind is UpdateKind.ALERT else f"update U{number}"
    return f"[{severity.value}] {incident} {what}: {title}"


def body(message: Message) -> str:
    """The plain text of `message`: each part under its title, a blank line between."""
    return "\n\n".join(f"{title}\n{text}" for title, text in parts(message)) + "\n"


def webhook(
    *,
    incident: str,
    title: str,
    severity: Severity,
    status: str,
    message: Message,
    number: int,
    delivery: str,
    published_at: str,
) -> dict[str, Any]:
    """The JSON body a webhook receives (documented in the README).

    `delivery` is the same on every retry of one message to one hook, so a receiver can drop a
    duplicate; `text` is what Slack and its look-alikes show."""
    heading = subject(incident, title, severity, message, number)
    return {
        "version": WEBHOOK_VERSION,
        "delivery": delivery,
        "incident": incident,
        "title": title,
        "severity": severity.value,
        "status": status,
        "kind": message.kind.value,
        "update": number,
        "audience": message.audience,
        "published_at": published_at,
        "parts": {title.lower(): text for title, text in parts(message)},
        "text": f"*{slack_escaped(heading)}*\n\n{slack_escaped(body(message))}",
    }


def slack_escaped(text: str) -> str:
    """`text` with the three characters Slack reads as markup escaped (`<!channel>` would ping
    everyone, `<url|label>` would disguise a link): what a user wrote stays what it reads."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

"""Who hears of an update outside the room: the recipient rule over the hub's notify list and
the subscriptions, the checks on an address and a hook's URL, and the identities a receiver
drops a duplicate by.

Pure: the notify list comes from the hub's configuration, the subscriptions from the store, the
incident from the folded state; the answers are the same every time for the same inputs.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from warroom.core.cadence import covers
from warroom.core.domain import EVERYONE, IncidentState, audience_groups, parse_group

Channel = Literal["email", "webhook"]
"""How a message leaves the hub: over SMTP, or as an HTTP POST."""

MAX_ADDRESS = 254
"""The longest email address (RFC 5321's path limit)."""

_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def parse_address(text: str) -> str:
    """An email address as typed, checked: `name@host.domain`, printable ASCII, no spaces.

    Raises:
        ValueError: with a sentence saying what is wrong.
    """
    value = text.strip()
    if len(value) > MAX_ADDRESS or not _ADDRESS.match(value) or ".." in value:
        raise ValueError(f"bad email address {text!r:.80}: expected name@host.domain")
    return value


def is_address(text: str) -> bool:
    """Whether `text` names an email address rather than a stakeholder group."""
    return "@" in text


def parse_hook(text: str) -> str:
    """A webhook's URL, checked: `http://` or `https://` with a host.

    Raises:
        ValueError: with a sentence saying what is wrong.
    """
    value = text.strip()
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ValueError(f"bad webhook URL {text!r:.120}: not a URL") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError(
            f"bad webhook URL {text!r:.120}: the scheme must be http or https, not "
            f"{parts.scheme or 'none'!r}"
        )
    if not parts.hostname or any(char.isspace() or not char.isprintable() for char in value):
        raise ValueError(f"bad webhook URL {text!r:.120}: it names no host")
    del port  # read only to refuse a malformed port
    return value


def parse_notify_audience(text: str) -> str:
    """A notify entry's audience: `all`, or one stakeholder group.

    Raises:
        ValueError: for `internal`, several groups, or a malformed group name.
    """
    value = text.strip().lower()
    if value == EVERYONE:
        return value
    if "," in value:
        raise ValueError(f"bad audience {text!r}: one stakeholder group, or 'all'")
    try:
        return parse_group(value)
    except ValueError:
        raise ValueError(
            f"bad audience {text!r}: a stakeholder group (lower-case letters, digits, "
            "'-', '_', '.') or 'all'; never 'internal'"
        ) from None


@dataclass(frozen=True)
class Notify:
    """One `[[notify]]` entry of the hub's configuration: who receives what `audience` may see."""

    audience: str
    """`all` or one stakeholder group."""
    emails: tuple[str, ...] = ()
    webhooks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Subscription:
    """A group, or a single address, that asked to hear of incidents affecting `app`."""

    subscriber: str
    app: str


def recipients(
    published: str,
    incident: IncidentState,
    notify: Iterable[Notify],
    subscriptions: Iterable[Subscription],
) -> list[tuple[Channel, str]]:
    """Where an update published to `published` goes: (channel, address or URL), each once.

    The rule (the README's "Keeping stakeholders informed" states it):

    - a notify entry hears of it only if the update reached everyone in the entry's audience
      (`covers`): an entry never receives what was composed for people it does not contain;
    - among those, an entry whose audience the update names (its group, or `all` for `all`)
      receives it; an entry of a group the update reached through `all` receives it if the
      group subscribes to no application, or to one the incident affects;
    - an address subscribed to an application the incident affects receives updates to `all`.
    """
    affected = {app.casefold() for app in incident.apps}
    apps_of: dict[str, set[str]] = {}
    for subscription in subscriptions:
        apps_of.setdefault(subscription.subscriber, set()).add(subscription.app.casefold())
    found: dict[tuple[Channel, str], None] = {}
    for entry in notify:
        if not covers(published, entry.audience):
            continue
        named = entry.audience == published or (
            published != EVERYONE and audience_groups(entry.audience) <= audience_groups(published)
        )
        if not named:
            wanted = apps_of.get(entry.audience, set())
            if wanted and not wanted & affected:
                continue
        for address in entry.emails:
            found[("email", address)] = None
        for hook in entry.webhooks:
            found[("webhook", hook)] = None
    if published == EVERYONE:
        for subscriber, apps in sorted(apps_of.items()):
            if is_address(subscriber) and apps & affected:
                found[("email", subscriber)] = None
    return list(found)


def delivery_id(log_id: str, seq: int, channel: Channel, recipient: str) -> str:
    """The stable id of one message to one recipient: the same on every retry and after a
    restart, another for another log (a restored backup), so a receiver can drop a duplicate."""
    material = f"{log_id}\n{seq}\n{channel}\n{recipient}".encode()
    return hashlib.sha256(material).hexdigest()[:32]


def message_id(delivery: str, sender: str) -> str:
    """The `Message-ID` of an email delivery: its delivery id at the sender's domain."""
    domain = sender.rsplit("@", 1)[-1] or "warroom.invalid"
    return f"<{delivery}@{domain}>"


def answered_subject(incident: str) -> str:
    """The subject of the email that tells an asker their question was answered."""
    return f"Your question on {incident} was answered"


def answered_body(incident: str, title: str, question: str, answer: str) -> str:
    """The plain text of that email: the incident, the question, then the answer."""
    return f"{incident}: {title}\n\nYou asked:\n{question}\n\nThe answer:\n{answer}\n"


def asker_of(incident: IncidentState, question: int) -> str | None:
    """Who asked question `question` of `incident` (None if the state holds no such question)."""
    for asked in incident.questions:
        if asked.id == question:
            return asked.asker
    return None

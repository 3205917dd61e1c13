"""Outbound delivery: plans a message per recipient for each committed update (and each answer
whose asker gave an address), records it in the store's outbox, then sends it by email over
SMTP or as a webhook's HTTP POST, with retries and exponential backoff.

It runs as one asyncio task in the hub's process and never holds the room up: every database
call runs on a worker thread, at most `MAX_ATTEMPTS` attempts run at once, each bounded by the
configured timeout, and at most one per recipient, so a receiver that hangs holds one attempt
and every other recipient's messages go on. A message is recorded before its first attempt and
marked sent after it, so a hub killed in between sends it again after a restart (at least once;
receivers drop the duplicate by its `Message-ID` or `X-Warroom-Delivery`), and one never
attempted is sent once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import TYPE_CHECKING, Literal

from server import readers
from server.config import Config
from server.snapshots import read_back
from warroom.core import events as e
from warroom.core import messages, protocol
from warroom.core.domain import IncidentState, ShelvedIncident, World
from warroom.core.recipients import (
    Subscription,
    answered_body,
    answered_subject,
    asker_of,
    delivery_id,
    message_id,
    recipients,
)
from warroom.core.text import visible
from warroom.store import Delivery, Planned, Store, StoreError

if TYPE_CHECKING:
    # The mail and HTTP clients are imported by a hub that sends (`Courier.start`): one that
    # sends nothing does not hold them in memory.
    import httpx

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
"""Attempts under way at once: a slow mail server or hook holds at most this many."""

RECENT = 1000
"""Deliveries a war-room connection is told of when it starts streaming: the newest."""

PLAN_PAGE = 1000
"""Events read from the log per step of planning."""

IDLE = 5.0
"""The longest the courier sleeps without looking at the outbox again."""

AFTER_STORE_FAILURE = 2.0
"""Seconds before trying again when the database failed."""

LEASE_MARGIN = 30.0
"""Seconds a claimed delivery stays leased beyond its attempt's timeout (see
`warroom.store.Deliveries.claim`): a hub that died mid-attempt is taken over after that."""

MAX_ERROR = 200
"""Characters of a recorded error: enough to read, never a receiver's whole page."""

_WAKING = (e.UpdatePublished, e.QuestionAnswered)
_RELEVANT = ('"type":"update.published"', '"type":"question.answered"')


class _Refused(Exception):
    """An attempt the receiver answered with a refusal; the message is the sentence."""


def delivery_frame(delivery: Delivery) -> str:
    """The `delivery` frame that tells the war room how `delivery` stands."""
    return protocol.encode(
        protocol.DeliveryFrame(
            incident=delivery.incident,
            update=delivery.update,
            channel="email" if delivery.channel == "email" else "webhook",
            recipient=delivery.recipient,
            state=_state(delivery.state),
            attempts=delivery.attempts,
            error=delivery.error,
            at=delivery.changed_at,
            question=delivery.question,
            history=tuple(
                protocol.AttemptPart(
                    number=attempt.number,
                    at=attempt.at,
                    state=_attempted(attempt.state),
                    error=attempt.error,
                )
                for attempt in delivery.history
            ),
        )
    )


def _attempted(state: str) -> Literal["sent", "retrying", "failed"]:
    match state:
        case "sent" | "retrying" | "failed":
            return state
    raise ValueError(f"not how an attempt ends: {state!r}")


def _state(state: str) -> protocol.DeliveryState:
    match state:
        case "queued" | "sent" | "retrying" | "failed":
            return state
    raise ValueError(f"unknown delivery state {state!r}")


class Courier:
    """Plans, records and sends the hub's outbound messages.

    Args:
        store: the hub's store (its outbox, log, users and subscriptions).
        config: what to send through and to whom (None: nothing is sent; the log is still
            marked planned, so updates published meanwhile are never sent late).
        log_id: the log's identity, part of every delivery id.
        committed: the world and head the hub has published (read on the event loop).
        changed: told of every delivery recorded or changed, on the event loop.
    """

    def __init__(
        self,
        store: Store,
        config: Config | None,
        log_id: str,
        committed: Callable[[], tuple[World, int]],
        changed: Callable[[Delivery], None],
    ) -> None:
        self.store = store
        self.config = config
        self.log_id = log_id
        self.committed = committed
        self.changed = changed
        self.recent: OrderedDict[int, Delivery] = OrderedDict()
        """The newest deliveries by id, kept current: what a streaming war room is first told."""
        self._wake = asyncio.Event()
        self._busy: dict[int, str] = {}
        """The attempts under way: delivery id -> recipient."""
        self._attempts: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._http: httpx.AsyncClient | None = None

    @property
    def sends(self) -> bool:
        """Whether anything may be sent at all."""
        return self.config is not None and (
            self.config.smtp is not None or bool(self.config.notify)
        )

    def start(self) -> None:
        """Start planning and sending, on the running event loop."""
        if self.sends:
            assert self.config is not None
            import aiosmtplib  # noqa: F401  (loaded now, not on the loop at the first send)
            import httpx

            # No proxy from the environment: hooks are reached as configured, as the hub's own
            # websocket clients reach it.
            self._http = httpx.AsyncClient(
                timeout=self.config.retry.timeout, follow_redirects=False, trust_env=False
            )
        self._task = asyncio.create_task(self._run())

    def wake(self) -> None:
        """Look at the log and the outbox now (an update or an answer was committed)."""
        self._wake.set()

    def wakes_for(self, event: e.Event) -> bool:
        """Whether a committed `event` may need a delivery."""
        return isinstance(event, _WAKING)

    async def close(self) -> None:
        """Stop: attempts under way are abandoned (they stay due, and are made after a restart)."""
        tasks = [task for task in (self._task, *self._attempts) if task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._http is not None:
            await self._http.aclose()

    # The loop ---------------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            newest = await readers.read(self.store.deliveries.newest, RECENT)
        except StoreError as error:
            log.warning("could not read the outbox: %s", error)
            newest = []
        for delivery in newest:
            self.recent[delivery.id] = delivery
        while True:
            self._wake.clear()
            try:
                await self._plan()
                wait = await self._dispatch() if self.sends else IDLE
            except StoreError as error:
                log.warning("delivery paused: %s", error)
                wait = AFTER_STORE_FAILURE
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    def _note(self, delivery: Delivery) -> None:
        self.recent[delivery.id] = delivery
        self.recent.move_to_end(delivery.id)
        while len(self.recent) > RECENT:
            self.recent.popitem(last=False)
        self.changed(delivery)

    # Planning ---------------------------------------------------------------------------------

    async def _plan(self) -> None:
        """Plan every event the hub published after the outbox's mark."""
        while True:
            world, head = self.committed()
            planned = await readers.read(self._plan_page, world, head)
            if planned is None:
                return
            for delivery in planned:
                self._note(delivery)

    def _plan_page(self, world: World, head: int) -> list[Delivery] | None:
        """Plan one page of the log after the mark, up to `head`; None if nothing is left.
        On a worker thread."""
        mark = self.store.deliveries.planned_upto()
        if mark >= head:
            return None
        rows = self.store.log.read_raw(mark, PLAN_PAGE, head)
        upto = rows[-1][0] if len(rows) == PLAN_PAGE else head
        planned: list[Planned] = []
        subscriptions: list[Subscription] | None = None
        emails: dict[str, str] | None = None
        for seq, encoded in rows:
            if self.config is None or not any(kind in encoded for kind in _RELEVANT):
                continue
            event = protocol.load_event(encoded)
            incident = world.incident(event.incident)
            if incident is None or incident.private:
                # Only a private incident's invitees may hear of it, and only in the room.
                continue
            if isinstance(event, e.UpdatePublished):
                if subscriptions is None:
                    subscriptions = self.store.subscriptions.all()
                planned += self._update(seq, event, incident, subscriptions)
            elif isinstance(event, e.QuestionAnswered) and self.config.smtp is not None:
                if emails is None:
                    emails = self.store.users.emails()
                if isinstance(incident, ShelvedIncident):
                    # Its asker is among its entries: read it back (on this worker thread).
                    incident = read_back(self.store, self.log_id, incident.id, head) or incident
                planned += self._answer(seq, event, incident, emails)
        return self.store.deliveries.plan(planned, upto)

    def _update(
        self,
        seq: int,
        event: e.UpdatePublished,
        incident: IncidentState,
        subscriptions: list[Subscription],
    ) -> list[Planned]:
        assert self.config is not None
        found = recipients(event.audience, incident, self.config.notify, subscriptions)
        heading = messages.subject(incident.id, incident.title, event.severity, event, event.update)
        text = messages.body(event)
        planned: list[Planned] = []
        for channel, recipient in found:
            if channel == "email" and self.config.smtp is None:
                continue
            ident = delivery_id(self.log_id, seq, channel, recipient)
            if channel == "webhook":
                body = json.dumps(
                    messages.webhook(
                        incident=incident.id,
                        title=incident.title,
                        severity=event.severity,
                        status=event.status.value,
                        message=event,
                        number=event.update,
                        delivery=ident,
                        published_at=event.at.isoformat(),
                    )
                )
            else:
                body = text
            planned.append(
                Planned(seq, incident.id, event.update, channel, recipient, ident, body, heading)
            )
        return planned

    def _answer(
        self, seq: int, event: e.QuestionAnswered, incident: IncidentState, emails: dict[str, str]
    ) -> list[Planned]:
        asker = asker_of(incident, event.question)
        address = None if asker is None else emails.get(asker)
        if address is None:
            return []
        ident = delivery_id(self.log_id, seq, "email", address)
        body = answered_body(incident.id, incident.title, event.question_text, event.text)
        return [
            Planned(
                seq,
                incident.id,
                0,
                "email",
                address,
                ident,
                body,
                answered_subject(incident.id),
                question=event.question,
            )
        ]

    # Sending ----------------------------------------------------------------------------------

    async def _dispatch(self) -> float:
        """Start the attempts that are due; return how long to sleep before looking again."""
        deliveries = self.store.deliveries
        free = MAX_ATTEMPTS - len(self._busy)
        if free > 0:
            assert self.config is not None
            # Leased while attempted: another hub of a PostgreSQL outbox leaves it alone.
            lease = self.config.retry.timeout + LEASE_MARGIN
            busy, recipients = set(self._busy), set(self._busy.values())
            now = time.time()
            due = await readers.read(deliveries.claim, now, free, lease, busy, recipients)
            later: list[int] = []
            for delivery in due:
                if delivery.recipient in self._busy.values():
                    # One at a time to a recipient: the next once this one is done (claimed
                    # beside it, its lease is given back so that it does not wait for it).
                    later.append(delivery.id)
                    continue
                self._busy[delivery.id] = delivery.recipient
                task = asyncio.create_task(self._attempt(delivery))
                self._attempts.add(task)
                task.add_done_callback(self._attempts.discard)
            if later:
                await readers.read(deliveries.release, later, now)
        if len(self._busy) >= MAX_ATTEMPTS:
            return IDLE  # every slot is taken: the attempt that ends first wakes the loop
        soonest = await readers.read(
            deliveries.next_attempt, set(self._busy), set(self._busy.values())
        )
        if soonest is None:
            return IDLE
        return min(max(soonest - time.time(), 0.0), IDLE)

    async def _attempt(self, delivery: Delivery) -> None:
        assert self.config is not None
        retry = self.config.retry
        try:
            world, _ = self.committed()
            incident = world.incident(delivery.incident)
            attempts = delivery.attempts
            if incident is None or incident.private:
                state, error, next_at = (
                    "failed",
                    f"{delivery.incident} became private: only its invitees may hear of it",
                    0.0,
                )
            else:
                attempts += 1
                try:
                    async with asyncio.timeout(retry.timeout):
                        if delivery.channel == "email":
                            await self._email(delivery)
                        else:
                            await self._post(delivery)
                    state, error, next_at = "sent", "", 0.0
                except Exception as failure:  # every way an attempt fails is one sentence
                    error = _explain(failure, retry.timeout)
                    if attempts >= retry.attempts:
                        state, next_at = "failed", 0.0
                        error = f"gave up after {attempts} attempts: {error}"
                    else:
                        state, next_at = "retrying", time.time() + retry.delay(attempts)
            recorded = await readers.read(
                self.store.deliveries.record, delivery.id, state, attempts, next_at, error
            )
            self._note(recorded)
        except StoreError as failure:
            log.warning("could not record delivery %d: %s", delivery.id, failure)
        finally:
            self._busy.pop(delivery.id, None)
            self._wake.set()

    async def _email(self, delivery: Delivery) -> None:
        assert self.config is not None
        smtp = self.config.smtp
        if smtp is None:
            raise _Refused("no mail server is configured ([smtp])")
        message = EmailMessage()
        message["From"] = smtp.sender
        message["To"] = delivery.recipient
        message["Subject"] = delivery.subject
        message["Message-ID"] = message_id(delivery.delivery, smtp.sender)
        message["Date"] = format_datetime(datetime.now(UTC))
        message["X-Warroom-Delivery"] = delivery.delivery
        message.set_content(delivery.body)
        import aiosmtplib

        await aiosmtplib.send(
            message,
            hostname=smtp.host,
            port=smtp.port,
            username=smtp.username,
            password=smtp.password,
            use_tls=smtp.tls,
            # Unless told, STARTTLS is used when the server offers it.
            start_tls=False if smtp.tls else (True if smtp.starttls else None),
            timeout=smtp.timeout,
        )

    async def _post(self, delivery: Delivery) -> None:
        assert self._http is not None
        response = await self._http.post(
            delivery.recipient,
            content=delivery.body.encode(),
            headers={
                "Content-Type": "application/json",
                "User-Agent": "warroom",
                "X-Warroom-Delivery": delivery.delivery,
            },
        )
        if not 200 <= response.status_code < 300:
            reason = response.reason_phrase or ""
            raise _Refused(f"the hook answered HTTP {response.status_code} {reason}".strip())


def _explain(error: Exception, timeout: float) -> str:
    """A failed attempt as a short sentence (made only by a hub that sends, so with both
    clients loaded)."""
    import aiosmtplib
    import httpx

    if isinstance(error, TimeoutError | aiosmtplib.SMTPTimeoutError | httpx.TimeoutException):
        sentence = f"no answer within {timeout:g}s"
    elif isinstance(error, _Refused):
        sentence = str(error)
    elif isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        refusals = [f"{r.code} {r.message}" for r in error.recipients]
        sentence = f"the mail server refused the recipient: {'; '.join(refusals)}"
    elif isinstance(error, aiosmtplib.SMTPConnectError | httpx.ConnectError):
        sentence = f"cannot connect: {_cause(error)}"
    elif isinstance(error, aiosmtplib.SMTPResponseException):
        sentence = f"the mail server answered {error.code} {error.message}"
    elif isinstance(error, OSError) and error.strerror:
        sentence = f"cannot connect: {error.strerror.lower()}"
    else:
        sentence = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    flat = " ".join(visible(sentence).split())
    return flat if len(flat) <= MAX_ERROR else flat[: MAX_ERROR - 1] + "…"


def _cause(error: Exception) -> str:
    """The innermost reason of a connection failure ("connection refused")."""
    inner: BaseException = error
    while inner.__cause__ is not None or inner.__context__ is not None:
        inner = inner.__cause__ or inner.__context__  # type: ignore[assignment]
    if isinstance(inner, OSError) and inner.strerror:
        return inner.strerror.lower()
    return str(error) or type(error).__name__

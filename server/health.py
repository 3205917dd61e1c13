"""`/healthz`: whether this hub can serve, for a load balancer, without a token.

The hub can serve while its event store answers: a read of the log's head, in a worker thread,
bounded by `PROBE_TIMEOUT` (a read that hangs holds that one thread: no other starts meanwhile).
One probe answers every check for `PROBE_EVERY` seconds, however many arrive, so an
unauthenticated endpoint costs the database nothing much. The body says `ok` or `unavailable`
and nothing else: no seq, no count, nothing a stranger could learn about the incidents from (the
store's own error goes to the hub's log).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import time
from collections.abc import Callable
from http import HTTPStatus

from websockets.datastructures import Headers
from websockets.http11 import Response

log = logging.getLogger(__name__)

PROBE_TIMEOUT = 2.0
"""A store slower than this to read its head cannot serve."""

PROBE_EVERY = 1.0
"""Seconds one probe's verdict answers the checks that follow it."""


class Health:
    """Answers `/healthz` from a probe of the store, shared by the checks that arrive together.

    Args:
        probe: reads something cheap from the store (blocking); raises if the store fails.
        clock: monotonic seconds.
    """

    def __init__(
        self, probe: Callable[[], object], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._probe = probe
        self._clock = clock
        self._verdict: tuple[float, bool] | None = None
        """When the last probe ended, and whether the store answered."""
        self._running: asyncio.Task[bool] | None = None
        """The check under way, which every check that arrives meanwhile awaits."""
        self._probing: asyncio.Future[object] | None = None
        """The last probe's read of the store (in a worker thread, which a timeout does not
        stop): while it runs, no other is started, so a store that hangs holds one thread."""

    async def serving(self) -> bool:
        """Whether the store answered its last probe (probed again if that is older than
        `PROBE_EVERY`)."""
        if self._verdict is not None and self._clock() - self._verdict[0] < PROBE_EVERY:
            return self._verdict[1]
        if self._running is None:
            self._running = asyncio.create_task(self._check())
        # Shielded: a check whose client hangs up does not cancel the probe the others await.
        return await asyncio.shield(self._running)

    async def _check(self) -> bool:
        if self._probing is not None and not self._probing.done():
            # The last probe's thread still waits on the store: no second one beside it.
            good = False
        else:
            self._probing = asyncio.ensure_future(asyncio.to_thread(self._probe))
            try:
                await asyncio.wait_for(asyncio.shield(self._probing), PROBE_TIMEOUT)
                good = True
            except TimeoutError:
                log.error("health check: the event store did not answer in %.0fs", PROBE_TIMEOUT)
                good = False
            except Exception as error:  # any way the store fails means the hub cannot serve
                log.error("health check: the event store failed: %s", error)
                good = False
        self._verdict = (self._clock(), good)
        self._running = None
        return good

    async def answer(self) -> Response:
        """200 `{"status": "ok"}` while the store answers, else 503 `{"status":
        "unavailable"}`; never cached by anything in between."""
        if await self.serving():
            status, verdict = HTTPStatus.OK, "ok"
        else:
            status, verdict = HTTPStatus.SERVICE_UNAVAILABLE, "unavailable"
        body = (json.dumps({"status": verdict}) + "\n").encode()
        headers = Headers(
            [
                ("Date", email.utils.formatdate(usegmt=True)),
                ("Connection", "close"),
                ("Content-Length", str(len(body))),
                ("Content-Type", "application/json"),
                ("Cache-Control", "no-store"),
                ("X-Content-Type-Options", "nosniff"),
            ]
        )
        return Response(status.value, status.phrase, headers, body)

"""Real receivers of the hub's deliveries on loopback: an SMTP server (`aiosmtpd`) and an HTTP
server for webhooks, each on a thread of its own, recording what they accept and able to
refuse, fail or hang on demand. Every wait has a deadline.
"""

from __future__ import annotations

import email
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.kit.harness import free_port

WAIT = 20.0


class _Record:
    """What a receiver took, with a condition to wait on."""

    def __init__(self) -> None:
        self.changed = threading.Condition()

    def wait(self, ready: Callable[[], bool], timeout: float = WAIT) -> None:
        """Wait until `ready()` holds; fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not ready():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"the receiver did not get there in {timeout}s")
                self.changed.wait(remaining)


@dataclass(frozen=True)
class Mail:
    """One email the SMTP server accepted, for one recipient."""

    recipient: str
    message: Message

    @property
    def text(self) -> str:
        body = self.message.get_payload(decode=True)
        assert isinstance(body, bytes)
        # SMTP carries lines ended by CRLF; the message was written with LF.
        return body.decode().replace("\r\n", "\n")


class SmtpReceiver(_Record):
    """An SMTP server on 127.0.0.1 that accepts every message, or refuses the next ones with a
    temporary error (451) while `refusing` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.port = free_port()
        self.mails: list[Mail] = []
        self.refused = 0
        self.refusing = False
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpReceiver:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.changed:
            if self.refusing:
                self.refused += 1
                self.changed.notify_all()
                return "451 4.3.0 not now, try again later"
            content = envelope.original_content or envelope.content
            assert isinstance(content, bytes)
            message = email.message_from_bytes(content)
            for recipient in envelope.rcpt_tos:
                self.mails.append(Mail(recipient, message))
            self.changed.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = WAIT) -> list[Mail]:
        """Wait until at least `count` emails arrived; return them all."""
        self.wait(lambda: len(self.mails) >= count, timeout)
        return list(self.mails)


@dataclass(frozen=True)
class Post:
    """One request a hook received, and the status it answered."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    def json(self) -> Any:
        return json.loads(self.body)


class HookReceiver(_Record):
    """An HTTP server on 127.0.0.1: each path answers 204, or 500 for its first `fail` posts,
    or never while `hang` holds a path (until `release`)."""

    def __init__(self) -> None:
        super().__init__()
        self.posts: list[Post] = []
        self.failures: dict[str, int] = {}
        self.hanging: set[str] = set()
        self.started: list[str] = []
        """Paths of the requests that arrived, whatever they were answered."""
        self.held: list[str] = []
        """Paths of the requests a hanging path holds now, unanswered."""
        self._release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver.changed:
                    receiver.started.append(self.path)
                    receiver.changed.notify_all()
                if self.path in receiver.hanging:
                    with receiver.changed:
                        receiver.held.append(self.path)
                    receiver._release.wait(60)
                    with receiver.changed:
                        receiver.held.remove(self.path)
                        receiver.changed.notify_all()
                    return
                with receiver.changed:
                    left = receiver.failures.get(self.path, 0)
                    status = 500 if left else 204
                    if left:
                        receiver.failures[self.path] = left - 1
                    headers = {key.lower(): value for key, value in self.headers.items()}
                    receiver.posts.append(Post(self.path, headers, body, status))
                    receiver.changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the test's output stays its own

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> HookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def delivered(self, path: str | None = None) -> list[Post]:
        """The posts answered 2xx (to `path`, or to any)."""
        with self.changed:
            return [p for p in self.posts if 200 <= p.status < 300 and path in (None, p.path)]

    def wait_for(self, count: int, path: str | None = None, timeout: float = WAIT) -> list[Post]:
        """Wait until `count` posts were answered 2xx (to `path`, or to any); return them."""
        self.wait(lambda: len(self.delivered(path)) >= count, timeout)
        return self.delivered(path)

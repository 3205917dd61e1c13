"""What every `warroom` verb shares: failures and exit codes, the login file, where to connect,
output as text or JSON, talking to the hub, and the database for the admin verbs.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, assert_never

import platformdirs

from warroom.core import commands as c
from warroom.core import json_forms, protocol
from warroom.core.domain import Actor, IncidentState, World, parse_audience
from warroom.core.policy import visible_part
from warroom.core.rejections import EtaConflict, ImpactConflict
from warroom.core.summary import IncidentSummary
from warroom.core.text import strip_colours, visible
from warroom.core.timeparse import local, parse_time
from warroom.core.views import event_line

if TYPE_CHECKING:
    from warroom.net.remote import Remote
    from warroom.store import Store

DEFAULT_URL = "ws://127.0.0.1:8765"

EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_CONFLICT = 3
EXIT_UNREACHABLE = 4
EXIT_INTERRUPTED = 130
EXIT_READER_GONE = 141
"""128 + SIGPIPE, as for any program whose reader closed the pipe."""

T = TypeVar("T")


class Failure(Exception):
    """Ends the command with a one-line reason and an exit code.

    Attributes:
        json: the verb was asked for JSON, so the failure is printed as JSON on stdout too.
    """

    def __init__(
        self, message: str, code: int = EXIT_REFUSED, detail: dict[str, Any] | None = None
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.detail = detail or {}
        self.json = False


def report(failure: Failure) -> None:
    """Print the reason on stderr (with both values for a conflict), and JSON if asked."""
    # A refusal may quote what was sent, a conflict the text someone else wrote: shown as text.
    print(f"warroom: {visible(failure.message)}", file=sys.stderr)
    current = failure.detail.get("current")
    if failure.code == EXIT_CONFLICT and isinstance(current, ImpactConflict | EtaConflict):
        theirs: str | None
        match current:
            case ImpactConflict():
                theirs, author = current.statement, current.updated_by
            case EtaConflict():
                theirs = local(current.eta) if current.eta is not None else None
                author = current.set_by
            case _:
                assert_never(current)
        shown = visible(f"  current (v{current.version}, by {author}): {theirs}")
        print(shown, file=sys.stderr)
        print(visible(f"  yours: {failure.detail.get('yours')}"), file=sys.stderr)
        print(
            f"  re-run with --based-on {current.version} to replace it, or --force",
            file=sys.stderr,
        )
    if failure.json:
        fields = {key: value for key, value in failure.detail.items() if key != "code"}
        error = failure.detail.get("code", "failed")
        output = {"error": error, "message": failure.message, **fields}
        print(json.dumps(output, default=json_forms.conflict_data))


def now() -> datetime:
    return datetime.now(UTC)


# Reading what the user typed ---------------------------------------------------------------------


def parsed(kind: Callable[[str], T], text: str) -> T:
    """`kind(text)`; a ValueError is bad usage, with its sentence as the reason."""
    try:
        return kind(text)
    except ValueError as error:
        raise Failure(str(error), EXIT_USAGE) from None


def audience_of(text: str | None) -> str:
    """An audience as typed: internal, all, or stakeholder groups (comma-separated)."""
    return parsed(parse_audience, text or "internal")


def moment(text: str) -> datetime:
    """A time as people type it: ISO 8601, HH:MM (today, local time), -15m, +2h."""
    return parsed(lambda t: parse_time(t, now()), text)


def text_or_stdin(text: str) -> str:
    """The text itself, or standard input for `-` (`kubectl get pods | warroom note INC -`).

    Piped command output often comes coloured: its colour codes go, since they would only be
    noise in the log (and are refused there). Any other control character stays, for the hub to
    refuse with its position, rather than be changed into something nobody wrote.
    """
    return strip_colours(sys.stdin.read()) if text == "-" else text


# Output ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Output:
    """How the verb prints: text for people, or JSON with `--json`."""

    json: bool

    def emit(self, data: Any, text: str | Sequence[str]) -> None:
        if self.json:
            print(json.dumps(data, indent=None, default=str))
        else:
            # JSON escapes every control character itself; text shows them (they may come from
            # an old log, a key's comment, a hub): no output of ours drives the terminal.
            for line in [text] if isinstance(text, str) else text:
                print(visible(line))


# Where to connect, and as whom -------------------------------------------------------------------


def login_file() -> Path:
    """Where `warroom login` keeps the URL and token (readable by the user alone)."""
    return Path(platformdirs.user_config_dir("warroom")) / "login.json"


def _read_login() -> dict[str, Any]:
    try:
        data = json.loads(login_file().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_login(url: str, token: str, ca: str | None = None) -> Path:
    """Store `token` for `url` (and the certificates `ca` names to verify it, as an absolute path)
    and make `url` the default hub; return the file."""
    from warroom.store.files import private_folder, tighten

    path = login_file()
    private_folder(path.parent)
    data = _read_login()
    stored = data.get("tokens")
    tokens: dict[str, str] = dict(stored) if isinstance(stored, dict) else {}
    tokens[url] = token
    kept = data.get("cas")
    cas: dict[str, str] = dict(kept) if isinstance(kept, dict) else {}
    if ca:
        cas[url] = str(Path(ca).resolve())
    else:
        cas.pop(url, None)
    # Owner-only before the secret is written into it, whether it is made now or was there.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    tighten(descriptor, path)
    with os.fdopen(descriptor, "w") as handle:
        json.dump({"url": url, "tokens": tokens, "cas": cas}, handle, indent=2)
    return path


def hub_urls(values: Sequence[str]) -> tuple[str, ...]:
    """The hub URLs named by `values` (each one URL or a comma-separated list), in order, each
    once."""
    urls = (url.strip() for value in values for url in value.split(","))
    return tuple(dict.fromkeys(url for url in urls if url))


@dataclass(frozen=True)
class Target:
    """Where to connect and as whom: the hubs of one war room, tried in this order."""

    urls: tuple[str, ...]
    token: str

    @property
    def url(self) -> str:
        """The first hub named."""
        return self.urls[0]

    async def open(self) -> Remote:
        """A connection to the first hub that answers (`warroom.net.remote.open_any`)."""
        from warroom.net.remote import open_any

        remote, _ = await open_any(self.urls, self.token)
        return remote


@dataclass(frozen=True)
class HubArgs(Output):
    """`--url`, `--token` and `--json`: what every verb that talks to the hub is given."""

    url: tuple[str, ...]
    token: str | None

    def target(self) -> Target:
        """The hubs and token: the options, else WARROOM_URL / WARROOM_TOKEN, else the login.

        Several hubs of one war room are named by `--url` repeated or a comma-separated list
        (in either); a command goes to the first that answers.
        """
        stored = _read_login()
        remembered = stored.get("url")
        urls = (
            hub_urls(self.url)
            or hub_urls([os.environ.get("WARROOM_URL", "")])
            or hub_urls([remembered if isinstance(remembered, str) else ""])
            or (DEFAULT_URL,)
        )
        saved = stored.get("tokens")
        tokens: dict[str, str] = saved if isinstance(saved, dict) else {}
        token = (
            self.token
            or os.environ.get("WARROOM_TOKEN")
            or next((tokens[url] for url in urls if tokens.get(url)), None)
        )
        if not token:
            named = ", ".join(urls)
            raise Failure(
                f"no token for {named}: pass --token, set WARROOM_TOKEN, "
                f"or run `warroom login {urls[0]} TOKEN`",
                EXIT_UNREACHABLE,
            )
        cas = stored.get("cas")
        known = cas if isinstance(cas, dict) else {}
        ca = next((known[url] for url in urls if isinstance(known.get(url), str)), None)
        if ca is not None and not os.environ.get("WARROOM_CA"):
            # Where the websocket client reads it (`warroom.net.remote.tls_context`), as `--ca`.
            os.environ["WARROOM_CA"] = ca
        return Target(urls, token)


@dataclass(frozen=True)
class DatabaseArgs(Output):
    """`--db` and `--json`: what every verb that works on the database directly is given."""

    db: str | None


@contextmanager
def opened_store(db: str | None, create: bool = False) -> Iterator[Store]:
    """The store at `db` (default: WARROOM_DB, else the user's file), closed on the way out;
    a StoreError, opening or later, ends the command with its sentence.

    A SQLite file that does not exist yet is made only if `create` says so: an admin command
    with a mistyped path (or run before the hub ever started) says which file it looked for
    instead of leaving an empty war room there.
    """
    from warroom.store import Store, StoreError, open_engine
    from warroom.store.engine import check_supported, default_url, normalise_url, sqlite_file

    try:
        url = normalise_url(db) if db else default_url()
        check_supported(url)
        missing = sqlite_file(url)
        if missing is not None and not create and not missing.exists():
            raise StoreError(
                f"there is no war room database at {missing}: `warroom serve` creates it on its "
                "first start, as does `warroom user add --create`"
            )
        store = Store(open_engine(url))
    except StoreError as error:
        raise Failure(str(error)) from None
    try:
        yield store
    except StoreError as error:
        raise Failure(str(error)) from None
    finally:
        store.close()


# Talking to the hub ------------------------------------------------------------------------------


def _remote_failure(error: Exception) -> Failure:
    from warroom.net.remote import RemoteError

    assert isinstance(error, RemoteError)
    if error.code == "conflict":
        return Failure(error.message, EXIT_CONFLICT, {"code": error.code, "current": error.current})
    fatal = ("unauthorized", "unreachable", "bad-url", "bad-ca", "disconnected", "protocol")
    if error.code in fatal:
        return Failure(error.message, EXIT_UNREACHABLE, {"code": error.code})
    return Failure(error.message, EXIT_REFUSED, {"code": error.code})


def run(job: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine against the hub; its RemoteError becomes a Failure with the right code."""
    from warroom.net.remote import RemoteError

    async def guarded() -> T:
        try:
            return await job()
        except RemoteError as error:
            raise _remote_failure(error) from None

    return asyncio.run(guarded())


@dataclass(frozen=True)
class Fetched:
    """The log the user may see, folded, and who the user is."""

    world: World
    log: list[protocol.EventFrame]
    me: Actor
    known_groups: tuple[str, ...] = ()
    """The stakeholder groups some user holds (told to the war room only)."""


def fetch_summaries(target: Target) -> list[IncidentSummary]:
    """A summary of every incident the user may see, newest first, without reading the log."""

    async def job() -> list[IncidentSummary]:
        async with await target.open() as remote:
            summaries = await remote.summaries()
        return sorted(summaries, key=lambda summary: summary.declared_at, reverse=True)

    return run(job)


def fetch_incident(target: Target, incident_id: str) -> Fetched:
    """One incident the user may see, read alone: the world holds it (if it exists) and nothing
    else, the log its events only. The other incidents' size costs nothing."""
    from warroom.net.remote import read_incident

    async def job() -> Fetched:
        read = await read_incident(target.urls, target.token, incident_id)
        world = World.of(() if read.state is None else (read.state,))
        return Fetched(world, read.log, read.me, read.known_groups)

    return run(job)


def incident_in(world: World, incident_id: str, viewer: Actor | None = None) -> IncidentState:
    """The incident `incident_id` as `viewer` may see it; a Failure if there is none."""
    incident = world.incident(incident_id)
    if incident is None:
        raise Failure(f"there is no incident {incident_id.upper()} that you may see")
    # Entries moved away from the viewer's audience are dropped, as the hub would not send them.
    return incident if viewer is None else visible_part(incident, viewer)


Caused = tuple[protocol.Position, list[protocol.EventFrame]]
"""The ack's seq and the events the command caused."""


def print_caused(out: Output, caused: Caused) -> None:
    seq, events = caused
    data = {"seq": seq, "events": [json_forms.event_data(item.event) for item in events]}
    out.emit(data, [event_line(item) for item in events] or [f"done (seq {seq})"])


def change(hub: HubArgs, command: c.Command) -> None:
    """Submit a command and print what it did."""
    target = hub.target()

    async def build(_: Remote) -> c.Command:
        return command

    seq, caused = run(lambda: committed(target, build))
    if isinstance(command, c.DeclareIncident):
        incident = caused[0].event.incident if caused else "?"
        hub.emit({"incident": incident, "seq": seq}, incident)
        return
    print_caused(hub, (seq, caused))


def change_versioned(
    hub: HubArgs, incident_id: str, build: Callable[[IncidentState], c.Command], yours: str
) -> None:
    """Submit an edit of a versioned field (impact, ETA), built from the incident as it is now;
    a stale edit ends with exit code 3 and both values."""
    target = hub.target()

    async def from_current(remote: Remote) -> c.Command:
        incident = await remote.incident(incident_id)
        if incident is None:
            raise Failure(f"there is no incident {incident_id.upper()} that you may see")
        return build(incident)

    try:
        caused = run(lambda: committed(target, from_current))
    except Failure as failure:
        if failure.code == EXIT_CONFLICT:
            failure.detail["yours"] = yours
        raise
    print_caused(hub, caused)


async def committed(
    target: Target, command_for: Callable[[Remote], Awaitable[c.Command]]
) -> Caused:
    """Submit the command `command_for` builds (on the first connection), wait for its ack, and
    return it with the events it caused.

    If the hub goes away before it answers, the command is sent again, with the same id, to the
    next hub named (round-robin; once to each other hub): one that had committed it answers with
    the original ack, and nothing is recorded twice. Its events are then read from where the log
    stood before it was first sent.
    """
    from warroom.net.remote import RemoteError, open_any

    ident = uuid.uuid4().hex
    command: c.Command | None = None
    since: protocol.Position | None = None  # where the log stood before it was first sent
    index = 0
    resends = len(target.urls) - 1
    while True:
        remote, index = await open_any(target.urls, target.token, index)
        async with remote:
            if command is None:
                command = await command_for(remote)
                # From now on: the command's own events come before its ack.
                replayed = await remote.sync(None)
                assert remote.welcome is not None
                since = remote.welcome.head
            else:
                replayed = await remote.sync(since)
            try:
                seq, received = await remote.submit(command, ident)
            except RemoteError as error:
                if error.code != "disconnected" or resends == 0:
                    raise
                resends -= 1
                index = (index + 1) % len(target.urls)
                continue
        return seq, [item for item in [*replayed, *received] if item.seq == seq]

"""The `warroom` command: serve the hub, manage users, and drive incidents from a shell or script.

Client verbs talk to a running hub (`--url` / `WARROOM_URL`, `--token` / `WARROOM_TOKEN`, or what
`warroom login` stored). Output is plain text for people and JSON with `--json`. Exit codes: 0 done,
1 refused, 2 bad usage, 3 conflict (a stale edit), 4 cannot reach or log in to the hub.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, assert_never

import platformdirs

from warroom.core import commands as c
from warroom.core import protocol
from warroom.core.decide import EtaConflict, ImpactConflict
from warroom.core.domain import (
    ActionState,
    Actor,
    Confidence,
    IncidentState,
    MitigationState,
    Role,
    Severity,
    Status,
    World,
    entry_number,
    parse_audience,
    parse_enum,
)
from warroom.core.policy import preview_actor, visible_part, visible_to
from warroom.core.reducer import replay
from warroom.core.timeparse import local, parse_time
from warroom.core.views import event_line, incident_page, incident_row

DEFAULT_URL = "ws://127.0.0.1:8765"

T = TypeVar("T")

EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_CONFLICT = 3
EXIT_UNREACHABLE = 4


class Failure(Exception):
    """Ends the command with a one-line reason and an exit code."""

    def __init__(
        self, message: str, code: int = EXIT_REFUSED, detail: dict[str, Any] | None = None
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.detail = detail or {}


def _now() -> datetime:
    return datetime.now(UTC)


# Stored login ------------------------------------------------------------------------------------


def login_file() -> Path:
    """Where `warroom login` keeps the URL and token (readable by the user alone)."""
    return Path(platformdirs.user_config_dir("warroom")) / "login.json"


def _read_login() -> dict[str, Any]:
    try:
        data = json.loads(login_file().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_login(url: str, token: str) -> Path:
    path = login_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = _read_login()
    stored = data.get("tokens")
    tokens: dict[str, str] = dict(stored) if isinstance(stored, dict) else {}
    tokens[url] = token
    # Create the file with owner-only permissions before the secret is written into it.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump({"url": url, "tokens": tokens}, handle, indent=2)
    path.chmod(0o600)
    return path


@dataclass(frozen=True)
class Target:
    """Where to connect and as whom."""

    url: str
    token: str


def _target(args: argparse.Namespace) -> Target:
    stored = _read_login()
    url = args.url or os.environ.get("WARROOM_URL") or stored.get("url") or DEFAULT_URL
    saved = stored.get("tokens")
    tokens: dict[str, str] = saved if isinstance(saved, dict) else {}
    token = args.token or os.environ.get("WARROOM_TOKEN") or tokens.get(url)
    if not token:
        raise Failure(
            f"no token for {url}: pass --token, set WARROOM_TOKEN, "
            f"or run `warroom login {url} TOKEN`",
            EXIT_UNREACHABLE,
        )
    return Target(url, token)


# Talking to the hub ------------------------------------------------------------------------------


def _remote_failure(error: Exception) -> Failure:
    from warroom.net.remote import RemoteError

    assert isinstance(error, RemoteError)
    if error.code == "conflict":
        return Failure(error.message, EXIT_CONFLICT, {"code": error.code, "current": error.current})
    if error.code in ("unauthorized", "unreachable", "bad-url", "disconnected", "protocol"):
        return Failure(error.message, EXIT_UNREACHABLE, {"code": error.code})
    return Failure(error.message, EXIT_REFUSED, {"code": error.code})


def _run(job: Callable[[], Awaitable[T]]) -> T:
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


async def _fetch(target: Target) -> Fetched:
    from warroom.net.remote import Remote

    async with await Remote.open(target.url, target.token) as remote:
        log = await remote.sync(0)
        welcome = remote.welcome
    assert welcome is not None
    me = Actor(welcome.user, Role(welcome.role), frozenset(welcome.groups))
    return Fetched(replay(item.event for item in log), log, me)


def _incident(world: World, incident_id: str, viewer: Actor | None = None) -> IncidentState:
    incident = world.incident(incident_id)
    if incident is None:
        raise Failure(f"there is no incident {incident_id.upper()} that you may see")
    # Entries moved away from the viewer's audience are dropped, as the hub would not send them.
    return incident if viewer is None else visible_part(incident, viewer)


# Output ------------------------------------------------------------------------------------------


def _emit(args: argparse.Namespace, data: Any, text: str | Sequence[str]) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, indent=None, default=str))
    elif isinstance(text, str):
        print(text)
    else:
        for line in text:
            print(line)


# Verbs that change an incident -------------------------------------------------------------------


async def _submit(
    target: Target, command: c.Command
) -> tuple[protocol.Position, list[protocol.EventFrame]]:
    """Submit `command`; return the ack's seq and the events the command caused."""
    from warroom.net.remote import Remote

    async with await Remote.open(target.url, target.token) as remote:
        await remote.sync(None)
        seq, received = await remote.submit(command)
    return seq, [item for item in received if item.seq == seq]


def _change(args: argparse.Namespace, command: c.Command) -> None:
    """Submit a command and print what it did."""
    target = _target(args)
    seq, caused = _run(lambda: _submit(target, command))
    if isinstance(command, c.DeclareIncident):
        incident = caused[0].event.incident if caused else "?"
        _emit(args, {"incident": incident, "seq": seq}, incident)
        return
    data = {"seq": seq, "events": [protocol.event_data(item.event) for item in caused]}
    _emit(args, data, [event_line(item) for item in caused] or [f"done (seq {seq})"])


def _parse(kind: Callable[[str], T], text: str) -> T:
    try:
        return kind(text)
    except ValueError as error:
        raise Failure(str(error), EXIT_USAGE) from None


def _audience_arg(text: str | None) -> str:
    return _parse(parse_audience, text or "internal")


def _time(text: str) -> datetime:
    return _parse(lambda t: parse_time(t, _now()), text)


def _declare(args: argparse.Namespace) -> None:
    severity = _parse(Severity.parse, args.severity)
    command = c.DeclareIncident(
        title=args.title, severity=severity, apps=tuple(args.app), private=args.private
    )
    _change(args, command)


def _invite(args: argparse.Namespace) -> None:
    command = c.ChangeAccess(
        incident=args.incident.upper(), user=args.user, invited=not args.remove
    )
    _change(args, command)


def _privacy(args: argparse.Namespace) -> None:
    private = args.privacy == "private"
    _change(args, c.ChangePrivacy(incident=args.incident.upper(), private=private))


def _status(args: argparse.Namespace) -> None:
    status = _parse(lambda t: parse_enum(Status, t, "status"), args.status)
    _change(args, c.ChangeStatus(incident=args.incident.upper(), status=status))


def _severity(args: argparse.Namespace) -> None:
    severity = _parse(Severity.parse, args.severity)
    _change(args, c.ChangeSeverity(incident=args.incident.upper(), severity=severity))


def _text_arg(text: str) -> str:
    return sys.stdin.read() if text == "-" else text


def _versioned(
    args: argparse.Namespace, build: Callable[[IncidentState], c.Command], yours: str
) -> None:
    """Submit an edit of a versioned field (impact, ETA), based on `--based-on` or the current
    version; a stale edit ends with exit code 3 and both values."""
    target = _target(args)

    async def job() -> tuple[protocol.Position, list[protocol.EventFrame]]:
        from warroom.net.remote import Remote

        async with await Remote.open(target.url, target.token) as remote:
            world = replay(item.event for item in await remote.sync(0))
            command = build(_incident(world, args.incident))
            seq, received = await remote.submit(command)
        return seq, [item for item in received if item.seq == seq]

    try:
        seq, caused = _run(job)
    except Failure as failure:
        if failure.code == EXIT_CONFLICT:
            failure.detail["yours"] = yours
        raise
    data = {"seq": seq, "events": [protocol.event_data(item.event) for item in caused]}
    _emit(args, data, [event_line(item) for item in caused] or [f"done (seq {seq})"])


def _impact(args: argparse.Namespace) -> None:
    statement = _text_arg(args.text)
    audience = _audience_arg(args.audience)

    def build(incident: IncidentState) -> c.Command:
        return c.SetImpact(
            incident=incident.id,
            statement=statement,
            customer_facing=args.customer_facing,
            base_version=args.based_on if args.based_on is not None else incident.impact.version,
            audience=audience,
            force=args.force,
        )

    _versioned(args, build, statement)


def _eta(args: argparse.Namespace) -> None:
    eta = None if args.time.lower() in ("none", "unknown") else _time(args.time)
    confidence = _parse(lambda t: parse_enum(Confidence, t, "confidence"), args.confidence)

    def build(incident: IncidentState) -> c.Command:
        return c.SetEta(
            incident=incident.id,
            eta=eta,
            confidence=confidence,
            base_version=args.based_on if args.based_on is not None else incident.eta_version,
            force=args.force,
        )

    _versioned(args, build, "none" if eta is None else local(eta))


def _app(args: argparse.Namespace) -> None:
    incident = args.incident.upper()
    command: c.Command = (
        c.AddApp(incident=incident, app=args.app)
        if args.op == "add"
        else c.RemoveApp(incident=incident, app=args.app)
    )
    _change(args, command)


def _note(args: argparse.Namespace) -> None:
    _change(
        args,
        c.AddNote(
            incident=args.incident.upper(),
            text=_text_arg(args.text),
            occurred_at=_time(args.at) if args.at else None,
            pinned=args.pin,
            audience=_audience_arg(args.audience),
        ),
    )


def _pin(args: argparse.Namespace) -> None:
    note = _parse(lambda t: entry_number(t, "N"), args.note)
    _change(args, c.PinNote(incident=args.incident.upper(), note=note, pinned=not args.off))


def _action(args: argparse.Namespace) -> None:
    _change(
        args,
        c.AddAction(
            incident=args.incident.upper(),
            text=_text_arg(args.text),
            owner=args.owner,
            audience=_audience_arg(args.audience),
        ),
    )


def _action_state(args: argparse.Namespace) -> None:
    action = _parse(lambda t: entry_number(t, "A"), args.id)
    state = _parse(lambda t: parse_enum(ActionState, t, "action state"), args.state)
    _change(args, c.ChangeActionState(incident=args.incident.upper(), action=action, state=state))


def _assign(args: argparse.Namespace) -> None:
    action = _parse(lambda t: entry_number(t, "A"), args.id)
    owner = None if args.owner.lower() in ("none", "-") else args.owner
    _change(args, c.AssignAction(incident=args.incident.upper(), action=action, owner=owner))


def _mitigate(args: argparse.Namespace) -> None:
    _change(
        args,
        c.AddMitigation(
            incident=args.incident.upper(),
            text=_text_arg(args.text),
            apps=tuple(args.app),
            audience=_audience_arg(args.audience),
        ),
    )


def _mitigation_state(args: argparse.Namespace) -> None:
    mitigation = _parse(lambda t: entry_number(t, "M"), args.id)
    state = _parse(lambda t: parse_enum(MitigationState, t, "workaround state"), args.state)
    _change(
        args,
        c.ChangeMitigationState(incident=args.incident.upper(), mitigation=mitigation, state=state),
    )


def _ask(args: argparse.Namespace) -> None:
    _change(args, c.AskQuestion(incident=args.incident.upper(), text=_text_arg(args.text)))


def _answer(args: argparse.Namespace) -> None:
    question = _parse(lambda t: entry_number(t, "Q"), args.question)
    _change(
        args,
        c.AnswerQuestion(
            incident=args.incident.upper(),
            question=question,
            text=_text_arg(args.text),
            audience=_audience_arg(args.audience) if args.audience else None,
        ),
    )


def _dismiss(args: argparse.Namespace) -> None:
    question = _parse(lambda t: entry_number(t, "Q"), args.question)
    _change(
        args,
        c.DismissQuestion(incident=args.incident.upper(), question=question, reason=args.reason),
    )


def _audience(args: argparse.Namespace) -> None:
    command = c.ChangeAudience(
        incident=args.incident.upper(), entry=args.entry, audience=_audience_arg(args.audience)
    )
    _change(args, command)


# Verbs that read ---------------------------------------------------------------------------------


def _summary(incident: IncidentState) -> dict[str, Any]:
    return {
        "id": incident.id,
        "title": incident.title,
        "severity": incident.severity.value,
        "status": incident.status.value,
        "apps": list(incident.apps),
        "private": incident.private,
        "declared_at": incident.declared_at.isoformat(),
        "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
        "manager": incident.manager,
        "open_questions": len(incident.open_questions),
    }


def _list(args: argparse.Namespace) -> None:
    target = _target(args)
    world = _run(lambda: _fetch(target)).world
    status = _parse(lambda t: parse_enum(Status, t, "status"), args.status) if args.status else None
    app = args.app.lower() if args.app else None
    rows = [
        incident
        for incident in world.newest_first()
        if (status is None or incident.status is status)
        and (app is None or app in (a.lower() for a in incident.apps))
    ]
    now = _now()
    lines = [incident_row(incident, now) for incident in rows] or ["no incidents"]
    _emit(args, [_summary(incident) for incident in rows], lines)


def _show(args: argparse.Namespace) -> None:
    target = _target(args)
    fetched = _run(lambda: _fetch(target))
    world, log, viewer = fetched.world, fetched.log, fetched.me
    if args.as_audience:
        # What that audience receives now: the hub's own filter, over the whole log.
        if fetched.me.role is not Role.INCIDENT_MANAGER:
            raise Failure("only an incident manager may preview what an audience sees")
        viewer = preview_actor(_audience_arg(args.as_audience))
        log = [item for item in log if visible_to(viewer, item.event, world)]
        world = replay(item.event for item in log)
    incident = _incident(world, args.incident, viewer)
    data = {"incident": protocol.incident_data(incident)}
    _emit(args, data, list(incident_page(incident, log, _now())))


def _export(args: argparse.Namespace) -> None:
    target = _target(args)
    fetched = _run(lambda: _fetch(target))
    incident = _incident(fetched.world, args.incident, fetched.me)
    log = fetched.log
    document = {
        "format": "warroom-export",
        "version": 1,
        "exported_at": _now().isoformat(),
        "incident": protocol.incident_data(incident),
        "events": [
            {"seq": item.seq, "event": protocol.event_data(item.event)}
            for item in log
            if item.event.incident == incident.id
        ],
    }
    text = json.dumps(document, indent=2)
    if args.output and args.output != "-":
        try:
            Path(args.output).write_text(text + "\n")
        except OSError as error:
            raise Failure(f"cannot write {args.output}: {error.strerror}") from None
        print(f"exported {incident.id} to {args.output}", file=sys.stderr)
    else:
        print(text)


def _tail(args: argparse.Namespace) -> None:
    from warroom.net.remote import follow

    target = _target(args)
    wanted = args.incident.upper() if args.incident else None

    async def job() -> None:
        async for item in follow(target.url, target.token, cursor=0 if args.all else None):
            if wanted is not None and item.event.incident != wanted:
                continue
            if args.json:
                line = json.dumps({"seq": item.seq, "event": protocol.event_data(item.event)})
            else:
                line = event_line(item)
            print(line, flush=True)

    with contextlib.suppress(KeyboardInterrupt):
        _run(job)


# Admin verbs (the database directly) -------------------------------------------------------------


def _open_store(args: argparse.Namespace) -> Any:
    from warroom.store import EventStore, StoreError

    try:
        return EventStore(args.db)
    except StoreError as error:
        raise Failure(str(error)) from None


def _read_key(path: str) -> Any:
    """The SSH public key in the file `path` (`-`: standard input), checked."""
    from warroom.cli.keys import BadKey, parse_public_key

    try:
        text = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as error:
        raise Failure(f"cannot read {path}: {error.strerror or error}", EXIT_USAGE) from None
    try:
        return parse_public_key(text)
    except BadKey as error:
        raise Failure(f"{path}: {error}", EXIT_USAGE) from None


def _user_add(args: argparse.Namespace) -> None:
    from warroom.store import StoreError

    role = _parse(lambda t: parse_enum(Role, t, "role"), args.role)
    keys = [_read_key(path) for path in args.ssh_key]
    store = _open_store(args)
    try:
        token = store.add_user(args.name, role, args.group, keys)
    except StoreError as error:
        raise Failure(str(error)) from None
    finally:
        store.close()
    data = {
        "name": args.name,
        "role": role.value,
        "token": token,
        "ssh_keys": [key.fingerprint for key in keys],
    }
    _emit(args, data, token)


def _user_list(args: argparse.Namespace) -> None:
    store = _open_store(args)
    try:
        users = store.users()
    finally:
        store.close()
    data = [
        {
            "name": u.name,
            "role": u.role.value,
            "groups": list(u.groups),
            "created_at": u.created_at,
            "revoked": u.revoked,
            "ssh_keys": u.ssh_keys,
        }
        for u in users
    ]
    lines = [
        f"{u.name:<16} {u.role.value:<17} {','.join(u.groups) or '-':<20} "
        f"{'revoked' if u.revoked else 'active'}"
        + (f"  {u.ssh_keys} ssh key{'s' if u.ssh_keys > 1 else ''}" if u.ssh_keys else "")
        for u in users
    ] or ["no users"]
    _emit(args, data, lines)


def _user_revoke(args: argparse.Namespace) -> None:
    from warroom.store import StoreError

    store = _open_store(args)
    try:
        store.revoke_user(args.name)
    except StoreError as error:
        raise Failure(str(error)) from None
    finally:
        store.close()
    _emit(args, {"name": args.name, "revoked": True}, f"revoked {args.name}")


def _user_change(args: argparse.Namespace) -> None:
    from warroom.store import StoreError

    role = _parse(lambda t: parse_enum(Role, t, "role"), args.role) if args.role else None
    groups = args.group if args.group else ([] if args.no_groups else None)
    store = _open_store(args)
    try:
        store.change_user(args.name, role, groups)
        changed = store.user_states()[args.name]
    except StoreError as error:
        raise Failure(str(error)) from None
    finally:
        store.close()
    assert changed is not None
    data = {"name": args.name, "role": changed.role.value, "groups": sorted(changed.groups)}
    text = f"{args.name}: {changed.role.value} {','.join(sorted(changed.groups)) or ''}".strip()
    _emit(args, data, text)


def _key_data(key: Any) -> dict[str, str]:
    return {
        "user": key.user,
        "fingerprint": key.fingerprint,
        "algorithm": key.algorithm,
        "comment": key.comment,
        "created_at": key.created_at,
    }


def _user_key_add(args: argparse.Namespace) -> None:
    from warroom.store import StoreError

    key = _read_key(args.file)
    store = _open_store(args)
    try:
        added = store.add_ssh_key(args.name, key)
    except StoreError as error:
        raise Failure(str(error)) from None
    finally:
        store.close()
    _emit(args, _key_data(added), f"{args.name} can now log in over SSH with {key.fingerprint}")


def _user_key_remove(args: argparse.Namespace) -> None:
    from warroom.store import StoreError

    which = args.key
    fingerprint = which if which.startswith("SHA256:") else _read_key(which).fingerprint
    store = _open_store(args)
    try:
        removed = store.remove_ssh_key(args.name, fingerprint)
    except StoreError as error:
        raise Failure(str(error)) from None
    finally:
        store.close()
    _emit(args, _key_data(removed), f"removed {fingerprint} from {args.name}")


def _user_key_list(args: argparse.Namespace) -> None:
    store = _open_store(args)
    try:
        keys = store.ssh_keys(args.name)
    finally:
        store.close()
    lines = [
        f"{key.user:<16} {key.fingerprint}  {key.algorithm:<20} {key.comment}".rstrip()
        for key in keys
    ] or ["no SSH keys"]
    _emit(args, [_key_data(key) for key in keys], lines)


def _login(args: argparse.Namespace) -> None:
    from warroom.net.remote import Remote

    async def check() -> str:
        async with await Remote.open(args.url, args.token) as remote:
            await remote.sync(None)
            assert remote.welcome is not None
            return f"{remote.welcome.user} ({remote.welcome.role})"

    who = _run(check)
    path = _write_login(args.url, args.token)
    _emit(
        args,
        {"url": args.url, "user": who, "saved": str(path)},
        f"logged in to {args.url} as {who}",
    )


def _join(args: argparse.Namespace) -> None:
    from client.launch import join

    if args.url_arg:
        args.url = args.url_arg
    target = _target(args)
    join(target.url, target.token, args.incident, args.observer)


def _demo(args: argparse.Namespace) -> None:
    import getpass

    from warroom.cli.demo import demo
    from warroom.store import StoreError

    try:
        manager = getpass.getuser() or "manager"
    except (KeyError, OSError):
        manager = "manager"
    try:
        demo(args.db, manager if manager not in ("ana", "bob", "olga", "carol", "dave") else "im")
    except (StoreError, ValueError, RuntimeError) as error:
        raise Failure(str(error)) from None


def _serve(args: argparse.Namespace) -> None:
    from server.app import main as serve_main
    from server.ssh import GatewayError
    from warroom.store import StoreError

    if args.ssh_port is not None and not 0 <= args.ssh_port <= 65535:
        raise Failure(f"--ssh-port {args.ssh_port}: not a port (0 to 65535)", EXIT_USAGE)
    host_key = Path(args.ssh_host_key).expanduser() if args.ssh_host_key else None
    try:
        serve_main(args.db, args.host, args.port, args.ssh_port, host_key)
    except (StoreError, GatewayError) as error:
        raise Failure(str(error)) from None
    except OSError as error:
        raise Failure(
            f"cannot listen on {args.host}:{args.port}: {error.strerror or error}"
        ) from None


# The parser --------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        self.print_usage(sys.stderr)
        raise Failure(message, EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    """The `warroom` argument parser, with one sub-command per verb."""
    client = _Parser(add_help=False)
    client.add_argument("--url", help="the hub's websocket URL (WARROOM_URL; default from login)")
    client.add_argument("--token", help="your token (WARROOM_TOKEN; default from login)")
    client.add_argument("--json", action="store_true", help="print JSON instead of text")
    admin = _Parser(add_help=False)
    admin.add_argument("--db", help="database URL or SQLite file (WARROOM_DB)")
    admin.add_argument("--json", action="store_true", help="print JSON instead of text")
    audience = _Parser(add_help=False)
    audience.add_argument(
        "--audience", default="internal", help="internal (default), all, or stakeholder groups"
    )

    parser = _Parser(prog="warroom", description="A terminal-native war room for live incidents.")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)

    def verb(
        name: str,
        run: Callable[[argparse.Namespace], None],
        help: str,
        *parents: _Parser,
    ) -> argparse.ArgumentParser:
        sub = verbs.add_parser(name, help=help, description=help, parents=list(parents))
        sub.set_defaults(run=run)
        return sub

    p = verb("serve", _serve, "run the war room hub")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--db", help="database URL or SQLite file (WARROOM_DB)")
    p.add_argument(
        "--ssh-port",
        type=int,
        metavar="PORT",
        help="also serve the war room over SSH on this port (0: any free port; off by default)",
    )
    p.add_argument(
        "--ssh-host-key",
        metavar="PATH",
        help="the SSH host key file, made on first use (default: under the user data directory)",
    )

    p = verb("demo", _demo, "try warroom: a local hub, a seeded incident, the war room on screen")
    p.add_argument("--db", help="keep the demo in this SQLite file (default: a temporary one)")

    p = verb("join", _join, "open the war room in the terminal", client)
    p.add_argument("url_arg", nargs="?", metavar="URL", help="the hub (default: --url, login)")
    p.add_argument("incident", nargs="?", help="open this incident's war room directly")
    p.add_argument("--observer", action="store_true", help="read only, whatever your role")

    user = verbs.add_parser("user", help="manage users (on the database directly)")
    user_verbs = user.add_subparsers(
        dest="user_verb", metavar="ACTION", required=True, parser_class=_Parser
    )
    p = user_verbs.add_parser("add", help="add a user and print their token", parents=[admin])
    p.set_defaults(run=_user_add)
    p.add_argument("name")
    p.add_argument("--role", required=True, help=", ".join(r.value for r in Role))
    p.add_argument("--group", action="append", default=[], help="stakeholder group (repeatable)")
    p.add_argument(
        "--ssh-key",
        action="append",
        default=[],
        metavar="FILE",
        help="an SSH public key (.pub) that logs them in over SSH (repeatable)",
    )
    p = user_verbs.add_parser("list", help="list users", parents=[admin])
    p.set_defaults(run=_user_list)
    p = user_verbs.add_parser(
        "change", help="change a user's role or groups (live on the hub)", parents=[admin]
    )
    p.set_defaults(run=_user_change)
    p.add_argument("name")
    p.add_argument("--role", help=", ".join(r.value for r in Role))
    p.add_argument("--group", action="append", default=[], help="stakeholder group (repeatable)")
    p.add_argument("--no-groups", action="store_true", help="remove every group")
    p = user_verbs.add_parser("revoke", help="revoke a user's token", parents=[admin])
    p.set_defaults(run=_user_revoke)
    p.add_argument("name")
    key = user_verbs.add_parser("key", help="manage the SSH keys that log users in")
    key_verbs = key.add_subparsers(
        dest="key_verb", metavar="ACTION", required=True, parser_class=_Parser
    )
    p = key_verbs.add_parser("add", help="let an SSH public key log a user in", parents=[admin])
    p.set_defaults(run=_user_key_add)
    p.add_argument("name")
    p.add_argument("file", help="the public key file (.pub), or - for standard input")
    p = key_verbs.add_parser("remove", help="stop an SSH key logging a user in", parents=[admin])
    p.set_defaults(run=_user_key_remove)
    p.add_argument("name")
    p.add_argument("key", metavar="FINGERPRINT|FILE", help="SHA256:... or the public key file")
    p = key_verbs.add_parser("list", help="list SSH keys (SHA256 fingerprints)", parents=[admin])
    p.set_defaults(run=_user_key_list)
    p.add_argument("name", nargs="?", help="only this user's keys")

    p = verb("login", _login, "check a URL and token and store them for later commands")
    p.add_argument("url")
    p.add_argument("token")
    p.add_argument("--json", action="store_true")

    p = verb("declare", _declare, "declare an incident; prints its id", client)
    p.add_argument("title")
    p.add_argument("--severity", "-s", required=True, help="1 (worst) to 4")
    p.add_argument("--app", action="append", default=[], help="affected application (repeatable)")
    p.add_argument(
        "--private",
        action="store_true",
        help="seen only by incident managers, you, and the people invited",
    )

    p = verb("invite", _invite, "let a user see a private incident (incident manager)", client)
    p.add_argument("incident")
    p.add_argument("user")
    p.add_argument("--remove", action="store_true", help="take the invitation back")

    p = verb("privacy", _privacy, "make an incident private or public (incident manager)", client)
    p.add_argument("incident")
    p.add_argument("privacy", choices=["private", "public"])

    p = verb("status", _status, "change an incident's status", client)
    p.add_argument("incident")
    p.add_argument("status", help=", ".join(s.value for s in Status))

    p = verb("severity", _severity, "change an incident's severity", client)
    p.add_argument("incident")
    p.add_argument("severity", help="1 (worst) to 4")

    p = verb("impact", _impact, "set the impact statement (- reads stdin)", client, audience)
    p.add_argument("incident")
    p.add_argument("text")
    p.add_argument("--customer-facing", action="store_true")
    p.add_argument("--based-on", type=int, help="the version your edit is based on")
    p.add_argument("--force", action="store_true", help="replace a newer version anyway")

    p = verb("eta", _eta, "set the ETA (ISO 8601, HH:MM, +2h; 'none' withdraws it)", client)
    p.add_argument("incident")
    p.add_argument("time")
    p.add_argument("--confidence", default="medium", help="low, medium or high")
    p.add_argument("--based-on", type=int, help="the version your edit is based on")
    p.add_argument("--force", action="store_true", help="replace a newer version anyway")

    p = verb("app", _app, "add or remove an affected application", client)
    p.add_argument("incident")
    p.add_argument("op", choices=["add", "remove"])
    p.add_argument("app")

    p = verb("note", _note, "add a note to the timeline (- reads stdin)", client, audience)
    p.add_argument("incident")
    p.add_argument("text")
    p.add_argument("--at", help="when it happened (ISO 8601, HH:MM, -15m)")
    p.add_argument("--pin", action="store_true", help="pin as a key moment")

    p = verb("pin", _pin, "pin a note as a key moment (--off unpins)", client)
    p.add_argument("incident")
    p.add_argument("note", help="note id, e.g. N3")
    p.add_argument("--off", action="store_true")

    p = verb("action", _action, "add an action (- reads stdin)", client, audience)
    p.add_argument("incident")
    p.add_argument("text")
    p.add_argument("--owner")

    p = verb("action-state", _action_state, "change an action's state", client)
    p.add_argument("incident")
    p.add_argument("id", help="action id, e.g. A2")
    p.add_argument("state", help=", ".join(s.value for s in ActionState))

    p = verb("action-owner", _assign, "give an action an owner ('none' clears it)", client)
    p.add_argument("incident")
    p.add_argument("id", help="action id, e.g. A2")
    p.add_argument("owner")

    p = verb("mitigate", _mitigate, "add a workaround (- reads stdin)", client, audience)
    p.add_argument("incident")
    p.add_argument("text")
    p.add_argument("--app", action="append", default=[], help="application it helps (repeatable)")

    p = verb("mitigation-state", _mitigation_state, "change a workaround's state", client)
    p.add_argument("incident")
    p.add_argument("id", help="workaround id, e.g. M1")
    p.add_argument("state", help=", ".join(s.value for s in MitigationState))

    p = verb("ask", _ask, "ask the incident manager a question", client)
    p.add_argument("incident")
    p.add_argument("text")

    p = verb(
        "answer", _answer, "answer a question (to the asker, or --audience to publish)", client
    )
    p.add_argument("incident")
    p.add_argument("question", help="question id, e.g. Q1")
    p.add_argument("text")
    p.add_argument("--audience", help="publish the answer to this audience")

    p = verb("dismiss", _dismiss, "dismiss a question", client)
    p.add_argument("incident")
    p.add_argument("question", help="question id, e.g. Q1")
    p.add_argument("--reason", default="")

    p = verb("list", _list, "list incidents, newest first", client)
    p.add_argument("--app")
    p.add_argument("--status")

    p = verb("show", _show, "show an incident's four panels and questions", client)
    p.add_argument("incident")
    p.add_argument(
        "--as",
        dest="as_audience",
        metavar="AUDIENCE",
        help="preview what a stakeholder group (or 'all') sees now (incident manager only)",
    )

    p = verb(
        "audience", _audience, "show an entry (N3, A2, M1, impact) to another audience", client
    )
    p.add_argument("incident")
    p.add_argument("entry")
    p.add_argument("audience", help="internal, all, or stakeholder groups (comma-separated)")

    p = verb("tail", _tail, "stream events as they happen", client)
    p.add_argument("incident", nargs="?")
    p.add_argument("--all", action="store_true", help="start from the first event")

    p = verb("export", _export, "write an incident's state and event log", client)
    p.add_argument("incident")
    p.add_argument("--format", choices=["json"], default="json")
    p.add_argument("--output", "-o", help="file to write (default: stdout)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `warroom` command; return its exit code."""
    parser = build_parser()
    args: argparse.Namespace | None = None
    try:
        args = parser.parse_args(_join_negative_times(list(sys.argv[1:] if argv is None else argv)))
        if not hasattr(args, "run"):
            parser.print_help()
            return EXIT_USAGE
        args.run(args)
    except Failure as failure:
        _report(failure, args)
        return failure.code
    except KeyboardInterrupt:
        return 130
    return 0


_TIME_OPTIONS = frozenset({"--at"})


def _join_negative_times(argv: list[str]) -> list[str]:
    """Let `--at -15m` mean what it says: argparse would take `-15m` for an option."""
    joined: list[str] = []
    index = 0
    while index < len(argv):
        word = argv[index]
        if word in _TIME_OPTIONS and index + 1 < len(argv) and argv[index + 1].startswith("-"):
            joined.append(f"{word}={argv[index + 1]}")
            index += 2
            continue
        joined.append(word)
        index += 1
    return joined


def _report(failure: Failure, args: argparse.Namespace | None) -> None:
    print(f"warroom: {failure.message}", file=sys.stderr)
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
        print(f"  current (v{current.version}, by {author}): {theirs}", file=sys.stderr)
        print(f"  yours: {failure.detail.get('yours')}", file=sys.stderr)
        print(
            f"  re-run with --based-on {current.version} to replace it, or --force",
            file=sys.stderr,
        )
    if args is not None and getattr(args, "json", False):
        print(
            json.dumps(
                {
                    "error": failure.detail.get("code", "failed"),
                    "message": failure.message,
                    **{k: v for k, v in failure.detail.items() if k != "code"},
                },
                default=protocol.conflict_data,
            )
        )


if __name__ == "__main__":
    sys.exit(main())

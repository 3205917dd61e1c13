"""The verbs around the hub itself: serve it, try it (demo), log in to it, join its war room."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from warroom.cli.common import EXIT_USAGE, Failure, HubArgs, Output, run, write_login
from warroom.cli.parsing import ca_option, hub_options, json_option, option, verb

_DEMO_PEOPLE = ("ana", "bob", "olga", "carol", "dave")
"""The demo's own users: a login name among them would clash, so the manager becomes `im`."""


@verb("serve", "run the war room hub")
@option("--host", default="127.0.0.1")
@option("--port", type=int, default=8765, metavar="PORT")
@option("--db", help="database URL or SQLite file (WARROOM_DB)")
@option(
    "--ssh-port",
    type=int,
    metavar="PORT",
    help="also serve the war room over SSH on this port (0: any free port; off by default)",
)
@option(
    "--ssh-host-key",
    metavar="PATH",
    help="the SSH host key file, made on first use (default: under the user data directory)",
)
@option(
    "--ssh-sessions-per-key",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    metavar="N",
    help="SSH sessions one key may hold open at once; the next is refused",
)
@option("--tls-cert", metavar="PEM", help="serve wss:// with this certificate (chain), PEM")
@option("--tls-key", metavar="PEM", help="the certificate's private key, PEM")
@option(
    "--insecure",
    is_flag=True,
    help="serve a non-loopback --host without TLS (anyone on the path reads every token)",
)
@option(
    "--allow-origin",
    "allow_origins",
    multiple=True,
    metavar="ORIGIN",
    help="a web origin that may connect besides the hub's own (https://host[:port]); repeatable",
)
@option(
    "--config",
    metavar="FILE",
    envvar="WARROOM_CONFIG",
    help="the mail server, cadence and who is told of updates, in TOML (WARROOM_CONFIG)",
)
def serve(
    host: str,
    port: int,
    db: str | None,
    ssh_port: int | None,
    ssh_host_key: str | None,
    ssh_sessions_per_key: int,
    tls_cert: str | None,
    tls_key: str | None,
    insecure: bool,
    allow_origins: tuple[str, ...],
    config: str | None,
) -> None:
    from server.app import main as serve_main
    from server.config import ConfigError
    from server.ssh.settings import GatewayError
    from server.transport import TransportError, is_loopback
    from warroom.store import StoreError

    if (tls_cert is None) != (tls_key is None):
        raise Failure("--tls-cert and --tls-key go together", EXIT_USAGE)
    if tls_cert is None and not insecure and not is_loopback(host):
        raise Failure(
            f"--host {host} is reachable from other machines: serve it with --tls-cert and "
            "--tls-key, or say --insecure",
            EXIT_USAGE,
        )
    if ssh_port is not None and not 0 <= ssh_port <= 65535:
        raise Failure(f"--ssh-port {ssh_port}: not a port (0 to 65535)", EXIT_USAGE)
    host_key = Path(ssh_host_key).expanduser() if ssh_host_key else None
    try:
        # Each SSH session runs `warroom join URL [INCIDENT]` with this very interpreter, as a
        # remote terminal: nothing it offers writes the server's files.
        session = [sys.executable, "-m", "warroom", "join", "--remote-terminal"]
        serve_main(
            db,
            host,
            port,
            ssh_port,
            host_key,
            session_command=session,
            ssh_sessions_per_key=ssh_sessions_per_key,
            tls_cert=Path(tls_cert).expanduser().resolve() if tls_cert else None,
            tls_key=Path(tls_key).expanduser() if tls_key else None,
            allow_origins=allow_origins,
            config_file=Path(config).expanduser() if config else None,
        )
    except (TransportError, ConfigError) as error:
        raise Failure(str(error), EXIT_USAGE) from None
    except (StoreError, GatewayError) as error:
        raise Failure(str(error)) from None
    except OSError as error:
        raise Failure(f"cannot listen on {host}:{port}: {error.strerror or error}") from None


@verb("demo", "try warroom: a local hub, a seeded incident, the war room on screen")
@option("--db", help="keep the demo in this SQLite file (default: a temporary one)")
def demo(db: str | None) -> None:
    import getpass

    from warroom.cli.demo import demo as run_demo
    from warroom.store import StoreError

    try:
        manager = getpass.getuser() or "manager"
    except (KeyError, OSError):
        manager = "manager"
    try:
        run_demo(db, manager if manager not in _DEMO_PEOPLE else "im")
    except (StoreError, ValueError, RuntimeError) as error:
        raise Failure(str(error)) from None


@verb("join", "open the war room in the terminal")
@hub_options
@click.argument(
    "url_arg", metavar="[URL]", required=False, help="the hub, or hubs (default: --url, login)"
)
@click.argument("incident", required=False, help="open this incident's war room directly")
@option("--observer", is_flag=True, help="read only, whatever your role")
@option(
    "--remote-terminal",
    is_flag=True,
    hidden=True,
    help="the terminal is someone else's (the SSH gateway): offer nothing that writes files",
)
@option(
    "--fork-sessions",
    type=int,
    hidden=True,
    metavar="FD",
    help="be the SSH gateway's pre-imported process: fork a `warroom join` per session it asks "
    "for on the socket FD",
)
def join(
    hub: HubArgs,
    url_arg: str | None,
    incident: str | None,
    observer: bool,
    remote_terminal: bool,
    fork_sessions: int | None,
) -> None:
    if fork_sessions is not None:
        raise click.exceptions.Exit(_fork_sessions(fork_sessions))
    from client.launch import join as open_war_room

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        # A full-screen program with its keys or its screen in a pipe or a file would hang or
        # fill the file with escape sequences.
        raise Failure(
            "join opens the war room on a terminal: run it in one (for a script, "
            "`warroom tail` streams the events and `warroom show` prints an incident)",
            EXIT_USAGE,
        )
    urls = (url_arg, *hub.url) if url_arg else hub.url
    target = HubArgs(json=hub.json, url=urls, token=hub.token).target()
    open_war_room(target.urls, target.token, incident, observer, remote=remote_terminal)


def _fork_sessions(fd: int) -> int:
    """Serve the SSH gateway as its pre-imported process (`server.ssh.zygote`): each session
    runs the `warroom` command it asks for, as `python -m warroom` would."""
    import socket

    from client.launch import preload
    from server.ssh.zygote import serve as serve_sessions

    def run(argv: list[str]) -> int:
        from warroom.cli import main

        if argv[1:3] != ["-m", "warroom"]:
            print(f"warroom: not a warroom command: {argv[:3]}", file=sys.stderr)
            return EXIT_USAGE
        return main(argv[3:])

    return serve_sessions(socket.socket(fileno=fd), preload, run)


@verb("login", "check a URL and token and store them for later commands")
@json_option
@ca_option
@click.argument("url")
@click.argument("token")
def login(out: Output, url: str, token: str) -> None:
    from warroom.net.remote import Remote

    async def check() -> str:
        async with await Remote.open(url, token) as remote:
            await remote.sync(None)
            assert remote.welcome is not None
            return f"{remote.welcome.user} ({remote.welcome.role})"

    who = run(check)
    path = write_login(url, token, os.environ.get("WARROOM_CA"))
    out.emit({"url": url, "user": who, "saved": str(path)}, f"logged in to {url} as {who}")

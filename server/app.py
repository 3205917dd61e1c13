"""Wiring of `warroom serve`: open the database, restore the world from the log (and the
incidents' snapshots), serve websockets until a signal."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import getpass
import signal
import ssl
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from websockets.asyncio.server import serve

from server.config import SHELVE_AFTER, Config, load, reach
from server.delivery import Courier
from server.handshake import select_subprotocol
from server.hub import Hub
from server.snapshots import Snapshotter, restore
from server.ssh.settings import SshSettings
from server.transport import Origin, Origins, allowed_origins, server_context
from warroom.core import protocol
from warroom.core.cadence import DEFAULT_CADENCE
from warroom.core.domain import Role
from warroom.store import Store, StoreError, default_url, normalise_url, open_engine
from warroom.store.hub_lock import single_hub
from warroom.store.listen import Listener

MAX_MESSAGE = 1024 * 1024
"""Frames above this are cut off by websockets (close 1009); above `protocol.MAX_FRAME` the hub
answers with a typed `too-large` error and keeps the connection."""


def first_user(store: Store) -> tuple[str, str] | None:
    """Create an incident manager if the database has no user yet; return (name, token)."""
    if store.users.all():
        return None
    try:
        name = getpass.getuser() or "manager"
    except (KeyError, OSError):
        name = "manager"
    try:
        return name, store.users.add(name, Role.INCIDENT_MANAGER)
    except StoreError:
        return None  # another hub of the same database made them a moment ago


async def run(
    store: Store,
    host: str = "127.0.0.1",
    port: int = 8765,
    on_ready: Callable[[str], None] | None = None,
    stop: asyncio.Event | None = None,
    ssh: SshSettings | None = None,
    tls: ssl.SSLContext | None = None,
    allow_origins: frozenset[Origin] = frozenset(),
    config: Config | None = None,
    hub_ready: Callable[[Hub], None] | None = None,
) -> None:
    """Serve the war room until `stop` is set or SIGINT/SIGTERM arrives.

    Args:
        store: the opened store (the caller closes it).
        host: the address to listen on.
        port: the port (0: any free port).
        on_ready: called with the websocket URL once the server (and SSH gateway) listens.
        stop: an event that ends the server when set.
        ssh: also serve the war room over SSH, on the same host (see `server.ssh`).
        tls: serve `wss://` with this context (None: plain `ws://`).
        allow_origins: web origins that may connect besides the hub's own address.
        config: the cadence, where updates are delivered, when resolved incidents are shelved
            (None: the default cadence and shelving, and nothing is delivered).
        hub_ready: called with the hub once it serves (for an embedding that looks inside it).

    Raises:
        server.ssh.settings.GatewayError: if the SSH gateway cannot start.
        warroom.store.StoreError: if the database could lose an acknowledged command.
    """
    # Acknowledged means durable: never serve a database that could lose a commit.
    await asyncio.to_thread(store.check_durable)
    # Each incident from its newest snapshot and the events after it: what a full replay gives.
    # Resolved incidents whose snapshot holds all of them are held by their header alone.
    shelve_after = SHELVE_AFTER if config is None else config.shelve_after
    shelve = shelve_after is not None
    restored = await asyncio.to_thread(restore, store, store.log_identity(), shelve)
    hub = Hub(
        store,
        restored.world,
        restored.head,
        cadence=DEFAULT_CADENCE if config is None else config.cadence,
        shelve_after=shelve_after,
    )
    # What is alive now (modules, the schemas, the replayed world) lives as long as the hub.
    # Measured under a flood, each full collection went through all of it again: 100-140 ms
    # of CPU in one go, in the middle of any callback, while every healthy submit waited.
    gc.collect()
    gc.freeze()
    hub.sequencer.start()
    snapshotter = Snapshotter(store.snapshots, hub.log_id)
    hub.snapshotter = snapshotter
    snapshotter.start(restored)
    del restored
    # Other hubs may write a PostgreSQL log: what they commit is published here too.
    listener = Listener(store.engine, hub.sequencer.catch_up) if store.log.shared else None
    if listener is not None:
        listener.start()
    courier = Courier(
        store,
        config,
        hub.log_id,
        lambda: (hub.fanout.world, hub.fanout.head),
        hub.delivery_changed,
    )
    hub.courier = courier
    courier.start()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Not possible off the main thread (tests run the server in a thread of their own).
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
    try:
        async with serve(
            hub.handle,
            host,
            port,
            process_request=hub.authenticate,
            # A browser names the protocol beside its token; the hub selects only the protocol.
            select_subprotocol=select_subprotocol,
            max_size=MAX_MESSAGE,
            compression=None,
            ping_interval=20,
            ping_timeout=20,
            # A peer that does not read cannot hold up a shutdown for long.
            close_timeout=2,
            server_header=None,
            ssl=tls,
        ) as server:
            bound = server.sockets[0].getsockname()
            hub.handshake.origins = Origins(bound[0], bound[1], tls is not None, allow_origins)
            scheme = "ws" if tls is None else "wss"
            url = f"{scheme}://{_host(bound[0])}:{bound[1]}"
            gateway = None
            if ssh is not None:
                from server.ssh.gateway import Gateway  # asyncssh: only for a hub serving SSH

                gateway = Gateway(hub, f"{scheme}://{_host(_local(bound[0]))}:{bound[1]}", ssh)
                await gateway.start(host)
            try:
                if hub_ready is not None:
                    hub_ready(hub)
                if on_ready is not None:
                    on_ready(url)
                watcher = asyncio.create_task(hub.watch_users())
                shelf = asyncio.create_task(hub.watch_shelf())
                await stop.wait()
                watcher.cancel()
                shelf.cancel()
            finally:
                if gateway is not None:
                    await gateway.close()
            # Commit and acknowledge what is queued before the connections close (1001).
            await asyncio.to_thread(hub.sequencer.stop)
    finally:
        if listener is not None:
            await asyncio.to_thread(listener.stop)
        await courier.close()
        hub.sequencer.stop()
        snapshotter.closing()
        await asyncio.to_thread(snapshotter.stop)
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def _host(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def _local(address: str) -> str:
    """An address this host reaches a server bound to `address` on (not a wildcard)."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(address, address)


YOUNG_THRESHOLD = 20_000
"""Allocations (net of frees) between two collections of Python's youngest generation in a
`warroom serve` process; 700 by default. Each command makes objects that live until its group
commit is answered (its frame, its item, its events and rows): collected every 700 they were
promoted, and the older generations' passes went through them again. At 20,000 the hub spent
12-40% less CPU a command under a flood of notes (`python -m bench.store`'s hub load, six
interleaved pairs of runs on a busy two-core machine)."""


def spare_the_collector() -> None:
    """Collect Python's youngest generation every `YOUNG_THRESHOLD` allocations; the older
    generations keep their ratios."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)


def main(
    db: str | None,
    host: str,
    port: int,
    ssh_port: int | None = None,
    ssh_host_key: Path | None = None,
    *,
    session_command: Sequence[str],
    ssh_sessions_per_key: int = 5,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
    allow_origins: Sequence[str] = (),
    config_file: Path | None = None,
) -> int:
    """Run `warroom serve`; return the process exit code.

    Args:
        db: the database URL or SQLite file (None: the default).
        host: the address to listen on.
        port: the websocket port (0: any free port).
        ssh_port: also serve the war room over SSH on this port (None: no SSH).
        ssh_host_key: the SSH host key file (None: the default, made on first use).
        session_command: what each SSH session runs, before the URL and incident the gateway
            adds (see `server.ssh.settings.SshSettings.session_command`).
        ssh_sessions_per_key: SSH sessions one key may hold open at once.
        tls_cert: serve `wss://` with this certificate chain (PEM), and `tls_key`.
        tls_key: the certificate's private key (PEM).
        allow_origins: web origins that may connect besides the hub's own address.
        config_file: the configuration file (None: none).

    Raises:
        server.transport.TransportError: if the certificate or an origin cannot be used.
        server.config.ConfigError: if the configuration is wrong, or names a mail server or a
            hook nothing listens at.
        warroom.store.StoreError: if another hub serves the SQLite database, or the database
            cannot be used.
    """
    config = None if config_file is None else load(config_file)
    if config is not None:
        reach(config)
    tls = None if tls_cert is None or tls_key is None else server_context(tls_cert, tls_key)
    origins = allowed_origins(allow_origins)
    database = normalise_url(db) if db else default_url()
    # A second hub on a SQLite file would number events from its own head: refused first.
    with single_hub(database):
        store = Store(open_engine(database))
        ssh_lines: list[str] = []

        def ssh_ready(bound: str, listening: int, fingerprint: str) -> None:
            where = _host(bound)
            ssh_lines.append(
                f"warroom: ssh {where}:{listening} (host key {fingerprint}): "
                f"ssh -p {listening} [INC-N@]{where}"
            )

        def announce(line: str) -> None:
            print(f"warroom: {line}", flush=True)

        ssh = (
            None
            if ssh_port is None
            else SshSettings(
                ssh_port,
                session_command,
                ssh_host_key,
                on_ready=ssh_ready,
                sessions_per_key=ssh_sessions_per_key,
                tls_pin=tls_cert if tls is not None else None,
                announce=announce,
            )
        )

        def ready(url: str) -> None:
            # Only once the port is bound: a serve that cannot listen must not use up the token.
            created = first_user(store)
            where = store.describe()
            print(f"warroom: serving {url} (database {where}, protocol v{protocol.VERSION})")
            for line in ssh_lines:
                print(line)
            if created is not None:
                name, token = created
                print(f"warroom: created incident manager {name!r}; this token is shown only once:")
                print(f"  {token}")
                print(f"warroom: connect with:  warroom login {url} {token}")
            sys.stdout.flush()

        spare_the_collector()
        try:
            asyncio.run(
                run(
                    store,
                    host,
                    port,
                    ready,
                    ssh=ssh,
                    tls=tls,
                    allow_origins=origins,
                    config=config,
                )
            )
        finally:
            store.close()
    print("warroom: stopped", flush=True)
    return 0

"""The crash run over several hubs: three real `warroom serve` processes on one PostgreSQL
database, clients spread over them (each given every hub, moving to the next when theirs dies),
while hubs are SIGKILLed and restarted at random. Afterwards no acknowledged command is lost,
none is doubled, the log's seqs run 1..head without a gap, the hash chain holds, and every
client's fold equals a fresh replay of the log, whichever hub it ended on.

The kills land after a seeded random number of acknowledgements, each after at least one since
the last restart, on a seeded random hub; the seed is printed. A larger run by hand:

    WARROOM_HUBS_SEED=7 WARROOM_HUBS_CLIENTS=20 WARROOM_HUBS_COMMANDS=1000 \\
    WARROOM_HUBS_KILLS=30 .venv/bin/python -m pytest -s tests/reliability/test_hubs_convergence.py
"""

from __future__ import annotations

import asyncio
import functools
import os
import random
from pathlib import Path

import pytest

from tests.kit.crash import CrashClient, assert_one_log, outcome
from tests.kit.harness import Hub, free_port, isolated_env
from tests.kit.postgres import POSTGRES_ADMIN_URL, postgres_database
from warroom.core.domain import Role
from warroom.store import Store, open_engine

HUBS = 3
CLIENTS = int(os.environ.get("WARROOM_HUBS_CLIENTS", "10"))
COMMANDS = int(os.environ.get("WARROOM_HUBS_COMMANDS", "200"))
KILLS = int(os.environ.get("WARROOM_HUBS_KILLS", "6"))
SEED = int(os.environ.get("WARROOM_HUBS_SEED", str(random.SystemRandom().randrange(1 << 32))))

pytestmark = pytest.mark.skipif(
    not POSTGRES_ADMIN_URL, reason="WARROOM_TEST_POSTGRES names no server"
)


def _users(url: str) -> tuple[str, list[str]]:
    """Make the incident manager and one responder per client; their tokens."""
    store = Store(open_engine(url))
    try:
        manager = store.users.add("alice", Role.INCIDENT_MANAGER)
        return manager, [store.users.add(f"c{n}", Role.RESPONDER) for n in range(CLIENTS)]
    finally:
        store.close()


def _forget(restarting: dict[int, asyncio.Task[None]], hub: int, _done: object) -> None:
    restarting.pop(hub, None)


async def test_three_hubs_killed_at_random_lose_no_acked_command_double_none_and_converge(
    tmp_path: Path,
) -> None:
    print(
        f"hubs run: seed {SEED}, {HUBS} hubs, {CLIENTS} clients x {COMMANDS} commands, "
        f"{KILLS} kills"
    )
    rng = random.Random(SEED)
    with postgres_database() as url:
        manager_token, tokens = _users(url)
        env = isolated_env(tmp_path)
        hubs: list[Hub] = []
        for n in range(HUBS):
            (tmp_path / f"hub{n}").mkdir()
            hub = Hub(tmp_path / f"hub{n}", env, database=url)
            hub.token = manager_token
            hubs.append(hub)
        total = CLIENTS * COMMANDS
        kill_points = sorted(rng.sample(range(total // 40, total - total // 40), KILLS))
        acks = 0
        due = asyncio.Event()
        next_kill = kill_points[0] if kill_points else total + 1

        def on_ack() -> None:
            nonlocal acks
            acks += 1
            if acks >= next_kill:
                due.set()

        manager = CrashClient("m", manager_token, 0)
        clients = [CrashClient(f"c{n}", tokens[n], COMMANDS, on_ack=on_ack) for n in range(CLIENTS)]
        kills = 0
        try:
            for hub in hubs:
                hub.start(free_port(), expect_token=False)
            urls = [hub.url for hub in hubs]
            assert hubs[0].ok("declare", "Crash run", "--severity", "2").strip() == "INC-1"
            running = [
                # Each client starts on a hub of its own and knows them all, in turn from there.
                asyncio.create_task(client.run(*urls[n % HUBS :], *urls[: n % HUBS]))
                for n, client in enumerate(clients)
            ]
            # A hub restarts in the background (it takes longer than the clients' whole run):
            # the others carry on meanwhile, and at least one always runs.
            restarting: dict[int, asyncio.Task[None]] = {}
            restarts: list[asyncio.Task[None]] = []
            for point in kill_points:
                # At least one acknowledgement since the last kill: every kill lands mid-stream.
                next_kill = min(max(point, acks + 1), total)
                if acks < next_kill:
                    due.clear()
                    await asyncio.wait_for(due.wait(), 60)
                await asyncio.sleep(rng.uniform(0, 0.01))
                if len(restarting) == HUBS - 1:
                    await asyncio.wait(restarting.values(), return_when=asyncio.FIRST_COMPLETED)
                alive = [n for n in range(HUBS) if n not in restarting]
                # Rather a hub that serves clients still at work, if any does.
                busy = [n for n in alive if any(c.hub == urls[n] and not c.done for c in clients)]
                victim = rng.choice(busy or alive)
                await asyncio.to_thread(hubs[victim].kill)
                kills += 1
                restart = asyncio.create_task(
                    asyncio.to_thread(hubs[victim].start, hubs[victim].port, False)
                )
                restarting[victim] = restart
                restarts.append(restart)
                restart.add_done_callback(functools.partial(_forget, restarting, victim))
            await asyncio.wait_for(asyncio.gather(*running), 120)
            await asyncio.wait_for(asyncio.gather(*restarts), 60)  # each one started
            for client in clients:
                await asyncio.wait_for(client.catch_up(client.hub), 30)
            await asyncio.wait_for(manager.catch_up(urls[-1]), 30)
        finally:
            for hub in hubs:
                hub.close()
        problems = "".join(hub.server_stderr() for hub in hubs)

        found = outcome(url, clients)
    print(
        f"hubs run: {len(found.acked)} commands acked, {kills} kills, "
        f"head {len(found.events)}, "
        f"{sum(c.moves for c in clients)} moves to another hub, "
        f"{sum(c.resets for c in clients)} resets"
    )

    assert "Traceback" not in problems, problems
    assert kills == KILLS
    assert sum(c.moves for c in clients) > 0, "some client must have moved to another hub"
    assert_one_log(found, clients, manager, total)

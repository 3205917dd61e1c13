"""The crash run: clients hammer a real `warroom serve` that is SIGKILLed again and again, and
retry with the same command ids after each restart. Afterwards no acknowledged command is lost,
none is doubled, the log's seqs run 1..head without a gap, the hash chain holds, and every
client's fold equals a fresh replay of the log.

The kills land after a seeded random number of acknowledgements, each after at least one since
the last restart (so always mid-stream); the seed is printed. A larger run by hand:

    WARROOM_CRASH_SEED=7 WARROOM_CRASH_CLIENTS=20 WARROOM_CRASH_COMMANDS=1000 \\
    WARROOM_CRASH_KILLS=50 .venv/bin/python -m pytest -s tests/reliability/test_crash_convergence.py
"""

from __future__ import annotations

import asyncio
import os
import random
from pathlib import Path

from tests.kit.crash import CrashClient, assert_one_log, outcome
from tests.kit.harness import Hub, free_port, isolated_env
from warroom.core.domain import Role
from warroom.store import Store, open_engine

CLIENTS = int(os.environ.get("WARROOM_CRASH_CLIENTS", "10"))
COMMANDS = int(os.environ.get("WARROOM_CRASH_COMMANDS", "200"))
KILLS = int(os.environ.get("WARROOM_CRASH_KILLS", "15"))
SEED = int(os.environ.get("WARROOM_CRASH_SEED", str(random.SystemRandom().randrange(1 << 32))))


def _users(db: Path) -> tuple[str, list[str]]:
    """Make the incident manager and one responder per client; their tokens."""
    store = Store(open_engine(str(db)))
    try:
        manager = store.users.add("alice", Role.INCIDENT_MANAGER)
        return manager, [store.users.add(f"c{n}", Role.RESPONDER) for n in range(CLIENTS)]
    finally:
        store.close()


async def test_sigkills_lose_no_acked_command_double_none_and_every_fold_converges(
    tmp_path: Path,
) -> None:
    print(f"crash run: seed {SEED}, {CLIENTS} clients x {COMMANDS} commands, {KILLS} kills")
    rng = random.Random(SEED)
    hub = Hub(tmp_path, isolated_env(tmp_path))
    manager_token, tokens = _users(hub.db)
    hub.token = manager_token
    hub.start(free_port(), expect_token=False)
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
        assert hub.ok("declare", "Crash run", "--severity", "2").strip() == "INC-1"
        running = [asyncio.create_task(client.run(hub.url)) for client in clients]
        for point in kill_points:
            # At least one acknowledgement since the last restart: every kill lands mid-stream.
            next_kill = min(max(point, acks + 1), total)
            if acks < next_kill:
                due.clear()
                await asyncio.wait_for(due.wait(), 60)
            await asyncio.sleep(rng.uniform(0, 0.01))
            await asyncio.to_thread(hub.kill)
            kills += 1
            await asyncio.to_thread(hub.start, hub.port, False)
        await asyncio.wait_for(asyncio.gather(*running), 60)
        for client in (*clients, manager):
            await asyncio.wait_for(client.catch_up(hub.url), 30)
    finally:
        hub.close()

    found = outcome(str(hub.db), clients)
    print(
        f"crash run: {len(found.acked)} commands acked, {kills} kills, "
        f"head {len(found.events)}, "
        f"{sum(c.resets for c in clients)} resets"
    )

    assert kills == KILLS
    assert_one_log(found, clients, manager, total)

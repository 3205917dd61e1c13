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

from tests.kit.crash import CrashClient, note
from tests.kit.harness import Hub, free_port, isolated_env
from warroom.core.domain import Role
from warroom.core.events import NoteAdded
from warroom.core.reducer import replay
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

    store = Store(open_engine(str(hub.db)))
    try:
        events = store.log.read()
        verdict = store.log.verify()
        recorded = {
            (client.name, ident): store.log.find_command(client.name, ident)
            for client in clients
            for ident in client.ids
        }
    finally:
        store.close()
    acked = {(c.name, ident): seq for c in clients for ident, seq in c.acked.items()}
    notes = [item for item in events if isinstance(item.event, NoteAdded)]
    texts = [item.event.text for item in notes if isinstance(item.event, NoteAdded)]
    print(
        f"crash run: {len(acked)} commands acked, {kills} kills, head {len(events)}, "
        f"{sum(c.resets for c in clients)} resets"
    )

    assert kills == KILLS
    assert [c.refused for c in clients] == [[] for _ in clients]
    assert [c.doubled for c in clients] == [[] for _ in clients]
    assert len(acked) == total
    # Lost: none. Every acked command is in the log, at the seq its ack named.
    by_seq = {item.seq: item.event for item in events}
    lost = [
        key
        for key, seq in acked.items()
        if not isinstance(event := by_seq.get(seq), NoteAdded)
        or event.text != note(key[1])["text"]
        or recorded[key] != seq
    ]
    assert lost == []
    # Doubled: none. Each command once, the seqs gapless, the chain intact.
    assert sorted(texts) == sorted({note(ident)["text"] for _, ident in acked})
    assert len(texts) == len(set(texts)) == total
    assert [item.seq for item in events] == list(range(1, total + 2))
    assert (verdict.broken, verdict.head) == (None, total + 1)
    # Converged: every client's fold is a fresh replay of the log.
    truth = replay(item.event for item in events)
    assert [c.cursor for c in (*clients, manager)] == [total + 1] * (CLIENTS + 1)
    assert all(c.world == truth for c in (*clients, manager))

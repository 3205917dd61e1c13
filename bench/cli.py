"""What one CLI command costs the machine, beside the interpreter doing nothing.

A real hub (`warroom serve --port 0`, through `tests.kit.harness.Hub`) holds one incident. Then,
alternated, `--repeat` times each after one untimed run of each, as separate processes:

- python: `python -c pass`, the interpreter's start alone;
- help: `warroom --help`, the interpreter and the command's parsing;
- note: `warroom note INC-1 TEXT`, a command that talks to the hub (the goal: at most 0.25 s of
  CPU);
- list: `warroom list`.

Each round runs them in turn, the order reversed every other round. Each is measured in CPU
seconds (user + system, from the child's resource usage: what the command
costs, whatever else the machine does) and in wall seconds.

Figures: the CPU of `note` and of `list`, each beside `python` and `help`.

Run: `python -m bench.cli [--quick] [--repeat R]`; prints one JSON object.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench._kit import START_TIMEOUT, figure, main
from tests.kit.harness import WARROOM, Hub, isolated_env

QUICK = ("--repeat", "1")
NOTE_CPU_GOAL_S = 0.25


def _measure(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """The CPU and wall seconds of one run of `argv`, which must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert done.returncode == 0, done.stderr
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def _summary(samples: list[tuple[float, float]]) -> dict[str, float]:
    cpu = sorted(sample[0] for sample in samples)
    wall = sorted(sample[1] for sample in samples)
    return {
        "cpu_median_s": round(statistics.median(cpu), 4),
        "cpu_max_s": round(cpu[-1], 4),
        "wall_median_s": round(statistics.median(wall), 4),
    }


def run(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.cli", description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="warroom-bench-cli-") as folder:
        root = Path(folder)
        hub = Hub(root, isolated_env(root))
        hub.start_timeout = START_TIMEOUT
        hub.start()
        try:
            incident = hub.ok("declare", "Checkout down", "-s", "2").strip()
            env = hub.client_env()
            commands = {
                "python": [sys.executable, "-c", "pass"],
                "help": [WARROOM, "--help"],
                "note": [WARROOM, "note", incident, "a line from a script"],
                "list": [WARROOM, "list"],
            }
            samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
            names = list(commands)
            warm = 1 if args.repeat > 1 else 0  # one untimed round, unless a single one is asked
            for round_ in range(args.repeat + warm):
                for name in names if round_ % 2 else names[::-1]:
                    measured = _measure(commands[name], env)
                    if round_ >= warm:
                        samples[name].append(measured)
        finally:
            hub.close()
    results = {name: _summary(taken) for name, taken in samples.items()}
    cpu = {name: [sample[0] for sample in taken] for name, taken in samples.items()}
    figures = [
        figure(
            f"warroom {verb}, CPU of the process",
            "s",
            {verb: cpu[verb], "python": cpu["python"], "help": cpu["help"]},
            verb,
        )
        for verb in ("note", "list")
    ]
    note = results["note"]["cpu_median_s"]
    return {
        "bench": "cli",
        "repeat": args.repeat,
        "figures": figures,
        "commands": results,
        "note_cpu_over_python_s": round(note - results["python"]["cpu_median_s"], 4),
        "note_cpu_goal_s": NOTE_CPU_GOAL_S,
        "note_within_goal": note <= NOTE_CPU_GOAL_S,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }


if __name__ == "__main__":
    main(run, QUICK)

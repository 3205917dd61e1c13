"""Run every benchmark, each side by side with its baselines; print one JSON document.

`python -m bench [--quick] [--only NAME ...] [--repeats N]`: every module of this package
(`bench/NAME.py`, in name order) runs in a fresh interpreter (`python -m bench.NAME`), with
its small sizes under `--quick` and `--repeat N` under `--repeats N`. A full run runs one
module at a time, so that none measures on a machine another one keeps busy; `--quick` is a
smoke run of the harness, whose figures are not what it is for, and runs as many modules at
once as the machine has cores, the slowest started first. The document holds the machine,
every module's own result under `benches` (with the CPU seconds it and its processes used,
`cpu_s`), and under `figures` every figure of every module (`bench._kit.figure`: each side's
median, min, max and spread, and the subject's ratios over its baselines). A module that fails
is named under `failed` with the end of what it printed, the others still run, and the exit
status is 1.
"""

from __future__ import annotations

import argparse
import json
import os
import pkgutil
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import bench
from bench._kit import ROOT


def modules() -> list[str]:
    """The names of the benchmark modules, in name order."""
    return sorted(
        info.name for info in pkgutil.iter_modules(bench.__path__) if not info.name.startswith("_")
    )


SLOWEST_QUICK = ("ssh", "tui", "restart", "delivery", "read", "page")
"""The modules that take longest under `--quick`: started first, so that none of them is the
last one left running while the other cores idle."""


def _run_one(name: str, quick: bool, repeats: int | None) -> dict[str, Any]:
    """Run `python -m bench.NAME` in a fresh interpreter; its JSON document."""
    argv = [sys.executable, "-m", f"bench.{name}"]
    argv += ["--quick"] if quick else []
    argv += ["--repeat", str(repeats)] if repeats else []
    done = subprocess.run(
        argv, cwd=ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"exit {done.returncode}: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def run(argv: Sequence[str]) -> tuple[dict[str, Any], bool]:
    """Run the modules asked for; the document, and whether every one succeeded."""
    names = modules()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="every benchmark at a small size")
    parser.add_argument("--only", nargs="+", choices=names, metavar="NAME", help="these only")
    parser.add_argument("--repeats", type=int, help="timed runs of each side (each module's own)")
    args = parser.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be positive")
    started = time.perf_counter()
    names = args.only or names
    outcomes: dict[str, dict[str, Any] | str] = {}

    def one(name: str) -> None:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        began = time.perf_counter()
        try:
            result = _run_one(name, args.quick, args.repeats)
        except (RuntimeError, ValueError) as error:
            outcomes[name] = str(error)
            print(f"bench: {name} failed: {error}", file=sys.stderr, flush=True)
            return
        result["elapsed_s"] = round(time.perf_counter() - began, 1)
        cpu = f", {result['cpu_s']} s CPU" if "cpu_s" in result else ""
        print(f"bench: {name} took {result['elapsed_s']} s{cpu}", file=sys.stderr, flush=True)
        outcomes[name] = result

    at_once = (os.cpu_count() or 1) if args.quick else 1
    slowest = [name for name in SLOWEST_QUICK if name in names] if args.quick else []
    with ThreadPoolExecutor(max_workers=at_once) as pool:
        # list() waits for each and raises what any of them raised.
        list(pool.map(one, [*slowest, *(name for name in names if name not in slowest)]))
    benches: dict[str, Any] = {}
    failed: dict[str, str] = {}
    figures: list[dict[str, Any]] = []
    for name in names:
        outcome = outcomes[name]
        if isinstance(outcome, str):
            failed[name] = outcome
            continue
        benches[name] = outcome
        figures += [{"bench": name, **each} for each in outcome.get("figures", [])]
    document = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "quick": args.quick,
        "repeats": args.repeats,
        "at_once": at_once,
        "elapsed_s": round(time.perf_counter() - started, 1),
        "cpu_s": round(sum(result.get("cpu_s", 0.0) for result in benches.values()), 1),
        "figures": figures,
        "failed": failed,
        "benches": benches,
    }
    return document, not failed


def main() -> None:
    document, ok = run(sys.argv[1:])
    json.dump(document, sys.stdout, indent=2)
    sys.stdout.write("\n")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()

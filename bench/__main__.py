"""Run every benchmark, each side by side with its baselines; print one JSON document.

`python -m bench [--quick] [--only NAME ...] [--repeats N] [--before PATH]`: every module of
this package (`bench/NAME.py`, in name order) runs with its small sizes under `--quick` and
`--repeat N` under `--repeats N`. With `--before PATH` (a checkout of another revision), the
modules that can (`BEFORE`) measure its hub beside this tree's, in the same run. A full run runs
one module at a time, each in a fresh interpreter (`python -m bench.NAME`), so that none
measures on a machine another one keeps busy, nor with what another one left in memory.
`--quick` is a smoke run of the harness, whose figures are not what it is for: it runs as many
modules at once as the machine has cores, the slowest started first, each in a process of its
own forked from one that imported every module once (a forkserver), instead of an interpreter
that imports them all again. The document holds the machine, every module's own result under
`benches` (with the CPU seconds it and its processes used, `cpu_s`; under `--quick` without the
imports they share), and under `figures` every figure of every module (`bench._kit.figure`:
each side's median, min, max and spread, and the subject's ratios over its baselines). A module
that fails is named under `failed` with the end of what it printed (its traceback under
`--quick`), the others still run, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import pkgutil
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from datetime import UTC, datetime
from typing import Any

import bench
from bench import _kit


def modules() -> list[str]:
    """The names of the benchmark modules, in name order."""
    return sorted(
        info.name for info in pkgutil.iter_modules(bench.__path__) if not info.name.startswith("_")
    )


SLOWEST_QUICK = ("tui", "ssh", "restart", "shelf", "read", "cli", "page")
"""The modules that take longest under `--quick`: started first, so that none of them is the
last one left running while the other cores idle."""

BEFORE = frozenset({"lobby", "catchup", "store"})
"""The modules that take `--before PATH`: another checkout's hub measured beside this one's."""


def _module_argv(name: str, quick: bool, repeats: int | None, before: str | None) -> list[str]:
    """The arguments of module NAME for this run."""
    argv = ["--quick"] if quick else []
    argv += ["--repeat", str(repeats)] if repeats else []
    argv += ["--before", before] if before and name in BEFORE else []
    return argv


def _run_one(name: str, repeats: int | None, before: str | None) -> dict[str, Any]:
    """Run `python -m bench.NAME` in a fresh interpreter; its JSON document."""
    argv = [sys.executable, "-m", f"bench.{name}", *_module_argv(name, False, repeats, before)]
    began = time.perf_counter()
    done = subprocess.run(
        argv, cwd=_kit.ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"exit {done.returncode}: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    result["elapsed_s"] = round(time.perf_counter() - began, 1)
    return result


def _quick(
    names: list[str], repeats: int | None, before: str | None, at_once: int
) -> dict[str, dict[str, Any] | str]:
    """Run the modules `at_once` at a time, each forked from a process that imported them all;
    each one's document or why it failed."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([f"bench.{name}" for name in names])
    slowest = [name for name in SLOWEST_QUICK if name in names]
    outcomes: dict[str, dict[str, Any] | str] = {}
    # One module a process: none runs on what another one left.
    with ProcessPoolExecutor(at_once, mp_context=context, max_tasks_per_child=1) as pool:
        running: dict[Future[dict[str, Any] | str], str] = {
            pool.submit(_kit.forked, name, _module_argv(name, True, repeats, before)): name
            for name in [*slowest, *(name for name in names if name not in slowest)]
        }
        for done in as_completed(running):
            try:
                outcomes[running[done]] = done.result()
            except Exception as error:  # the process died: the pool names it
                outcomes[running[done]] = repr(error)
    return outcomes


def run(argv: Sequence[str]) -> tuple[dict[str, Any], bool]:
    """Run the modules asked for; the document, and whether every one succeeded."""
    names = modules()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="every benchmark at a small size")
    parser.add_argument("--only", nargs="+", choices=names, metavar="NAME", help="these only")
    parser.add_argument("--repeats", type=int, help="timed runs of each side (each module's own)")
    parser.add_argument(
        "--before",
        metavar="PATH",
        help=f"a checkout of another revision, measured beside this one by {', '.join(BEFORE)}",
    )
    args = parser.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be positive")
    started = time.perf_counter()
    names = list(dict.fromkeys(args.only or names))
    at_once = (os.cpu_count() or 1) if args.quick else 1
    outcomes: dict[str, dict[str, Any] | str] = {}
    if args.quick:
        outcomes = _quick(names, args.repeats, args.before, at_once)
    else:
        for name in names:
            print(f"bench: {name} ...", file=sys.stderr, flush=True)
            try:
                outcomes[name] = _run_one(name, args.repeats, args.before)
            except (RuntimeError, ValueError) as error:
                outcomes[name] = str(error)
    benches: dict[str, Any] = {}
    failed: dict[str, str] = {}
    figures: list[dict[str, Any]] = []
    for name in names:
        outcome = outcomes[name]
        if isinstance(outcome, str):
            failed[name] = outcome
            print(f"bench: {name} failed: {outcome}", file=sys.stderr, flush=True)
            continue
        took = f"bench: {name} took {outcome['elapsed_s']} s, {outcome['cpu_s']} s CPU"
        print(took, file=sys.stderr, flush=True)
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

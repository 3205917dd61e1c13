"""Run every benchmark, each side by side with its baselines; print one JSON document.

`python -m bench [--quick] [--only NAME ...] [--repeats N] [--before PATH]`: every module of
this package (`bench/NAME.py`, in name order) runs in a fresh interpreter (`python -m
bench.NAME`), with its small sizes under `--quick` and `--repeat N` under `--repeats N`. With
`--before PATH` (a checkout of another revision), the modules that can (`BEFORE`) measure its
hub beside this tree's, in the same run. The document holds the
machine, every module's own result under `benches`, and under `figures` every figure of every
module (`bench._kit.figure`: each side's median, min, max and spread, and the subject's ratios
over its baselines). A module that fails is named under `failed` with the end of what it
printed, the others still run, and the exit status is 1.
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
from datetime import UTC, datetime
from typing import Any

import bench
from bench._kit import ROOT


def modules() -> list[str]:
    """The names of the benchmark modules, in name order."""
    return sorted(
        info.name for info in pkgutil.iter_modules(bench.__path__) if not info.name.startswith("_")
    )


BEFORE = frozenset({"lobby"})
"""The modules that take `--before PATH`: another checkout's hub measured beside this one's."""


def _run_one(
    name: str, quick: bool, repeats: int | None, before: str | None = None
) -> dict[str, Any]:
    """Run `python -m bench.NAME` in a fresh interpreter; its JSON document."""
    argv = [sys.executable, "-m", f"bench.{name}"]
    argv += ["--quick"] if quick else []
    argv += ["--repeat", str(repeats)] if repeats else []
    argv += ["--before", before] if before and name in BEFORE else []
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
    parser.add_argument(
        "--before",
        metavar="PATH",
        help=f"a checkout of another revision, measured beside this one by {', '.join(BEFORE)}",
    )
    args = parser.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be positive")
    started = time.perf_counter()
    benches: dict[str, Any] = {}
    failed: dict[str, str] = {}
    figures: list[dict[str, Any]] = []
    for name in args.only or names:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        began = time.perf_counter()
        try:
            result = _run_one(name, args.quick, args.repeats, args.before)
        except (RuntimeError, ValueError) as error:
            failed[name] = str(error)
            print(f"bench: {name} failed: {error}", file=sys.stderr, flush=True)
            continue
        result["elapsed_s"] = round(time.perf_counter() - began, 1)
        print(f"bench: {name} took {result['elapsed_s']} s", file=sys.stderr, flush=True)
        benches[name] = result
        figures += [{"bench": name, **one} for one in result.get("figures", [])]
    document = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "quick": args.quick,
        "repeats": args.repeats,
        "elapsed_s": round(time.perf_counter() - started, 1),
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

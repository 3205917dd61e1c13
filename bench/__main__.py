"""Run every benchmark module of this package with its defaults; print one JSON document."""

from __future__ import annotations

import importlib
import json
import pkgutil
import platform
import sys
import time
from datetime import UTC, datetime
from typing import Any

import bench


def modules() -> list[str]:
    """The names of the benchmark modules, in name order."""
    return sorted(
        info.name for info in pkgutil.iter_modules(bench.__path__) if not info.name.startswith("_")
    )


def main() -> None:
    results: list[dict[str, Any]] = []
    started = time.perf_counter()
    for name in modules():
        module = importlib.import_module(f"bench.{name}")
        print(f"bench: running {name} ...", file=sys.stderr, flush=True)
        results.append(module.run([]))
    document = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "elapsed_s": round(time.perf_counter() - started, 3),
        "benches": results,
    }
    json.dump(document, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

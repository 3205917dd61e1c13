"""What the benchmarks share: alternated runs, medians and spreads, ratios, servers, JSON.

A benchmark measures its subject beside one or more baselines in the same run. Each figure it
reports is a `figure(...)`: every side's samples summarised (median, min, max, relative spread)
and the subject's median over each baseline's (`ratios`). `alternate` runs the sides in turn,
the order reversed every other round, so neither side always runs on a warmer or a busier
machine. Each module has `QUICK` (the arguments of its small run, for `python -m bench --quick`)
and takes `--repeat`.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parent.parent
"""The repository: `python -m bench...` runs from here (the benchmarks import `tests.kit`)."""
START_TIMEOUT = 600.0
"""How long a server may take to say where it listens (a hub refolding 100k events is slow)."""


# Summaries ----------------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """The value at `fraction` (0..1) of the sorted values, nearest rank."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _round(value: float) -> float:
    return float(f"{value:.4g}")


def summary(values: Sequence[float]) -> dict[str, float | int]:
    """Median, min, max, `spread` ((max - min) / median) and count of one side's samples."""
    if not values:
        raise ValueError("a side of a figure has no samples")
    middle = statistics.median(values)
    return {
        "median": _round(middle),
        "min": _round(min(values)),
        "max": _round(max(values)),
        "spread": _round((max(values) - min(values)) / middle) if middle else 0.0,
        "n": len(values),
    }


def figure(
    name: str,
    unit: str,
    samples: Mapping[str, Sequence[float]],
    subject: str,
    better: str = "lower",
) -> dict[str, Any]:
    """One reported figure: each side's summary and the subject's median over each other side's.

    Args:
        name: what is measured, for a reader ("fan-out p99, 100 clients").
        unit: the samples' unit ("ms", "s", "MB", "commands/s").
        samples: the samples of each side, the subject's and its baselines'.
        subject: which side is warroom's; every other side is a baseline.
        better: "lower" or "higher": which way a ratio is good.
    """
    runs = {side: summary(values) for side, values in samples.items()}
    middle = statistics.median(samples[subject])
    ratios = {
        side: _round(middle / statistics.median(values))
        for side, values in samples.items()
        if side != subject
    }
    return {
        "figure": name,
        "unit": unit,
        "better": better,
        "subject": subject,
        "runs": runs,
        "ratios": ratios,
    }


# Running sides in turn ----------------------------------------------------------------------------


def alternate(
    sides: Mapping[str, Callable[[], float]], repeat: int, warm_up: bool = False
) -> dict[str, list[float]]:
    """Run every side `repeat` times, in turn, the order reversed every other round.

    Each side returns its own sample (seconds, a p99, a rate...). With `warm_up`, one untimed
    round first (imports, caches, the first connection).
    """
    names = list(sides)
    if warm_up:
        for name in names:
            sides[name]()
    taken: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(repeat):
        for name in names if round_ % 2 == 0 else names[::-1]:
            taken[name].append(sides[name]())
    return taken


def wall(job: Callable[[], object]) -> float:
    """Wall seconds `job` takes."""
    started = time.perf_counter()
    job()
    return time.perf_counter() - started


def cpu_used_s() -> float:
    """The CPU seconds (user and system) this process and the children it waited for have used:
    what a module cost the machine, whatever else ran beside it."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def cpu(job: Callable[[], object]) -> float:
    """CPU seconds of this process `job` takes."""
    started = time.process_time()
    job()
    return time.process_time() - started


# Processes ---------------------------------------------------------------------------------------


def process_cpu_s(pid: int) -> float:
    """The CPU seconds process `pid` has used (user and system)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of a process, in bytes (PSS is 0 where the kernel does not tell)."""
    rss = pss = 0
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1]) * 1024
    return rss, pss


def mb(value: float) -> float:
    """Bytes in MiB, rounded to a tenth."""
    return round(value / 1024 / 1024, 1)


class Listening:
    """A server process that prints where it listens (the first line `ready` matches), until
    closed. `start_s` is the time from its start until that line."""

    def __init__(
        self, argv: Sequence[str], ready: re.Pattern[str], log: Path, cwd: Path = ROOT
    ) -> None:
        self._log = log.open("w")
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        assert self.proc.stdout is not None
        self.url = ""
        deadline = time.monotonic() + START_TIMEOUT
        while not self.url:
            line = self.proc.stdout.readline()
            if not line or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"{argv[0]} did not start: {log.read_text()}")
            if found := ready.match(line):
                self.url = found.group(1)
        self.start_s = time.perf_counter() - started
        stdout = self.proc.stdout
        self._drain = threading.Thread(target=lambda: stdout.read(), daemon=True)
        self._drain.start()

    def close(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self._log.close()


def warroom_command() -> list[str]:
    """The installed `warroom` script beside this interpreter, or `python -m warroom`."""
    script = Path(sys.executable).parent / "warroom"
    return [str(script)] if script.exists() else [sys.executable, "-m", "warroom"]


SERVING = re.compile(r"^warroom: serving (ws://\S+) ")


def serve(db: Path, log: Path, tree: Path | None = None) -> Listening:
    """`warroom serve --port 0` on a database; with `tree`, the code of that checkout (another
    revision's, beside this one's): `python -m warroom` run there, whose own folder comes first
    on the import path."""
    command = warroom_command() if tree is None else [sys.executable, "-m", "warroom"]
    argv = [*command, "serve", "--host", "127.0.0.1", "--port", "0", "--db", str(db)]
    return Listening(argv, SERVING, log, ROOT if tree is None else tree)


async def dial(url: str, token: str) -> ClientConnection:
    """A websocket to a hub (or a bare server, which ignores the token), as the bench's clients
    open it: no proxy, no compression, no frame size limit."""
    return await connect(
        url,
        additional_headers={"Authorization": f"Bearer {token}"},
        proxy=None,
        compression=None,
        max_size=None,
    )


# Output -------------------------------------------------------------------------------------------


def document(
    run: Callable[[Sequence[str]], dict[str, Any]], quick: Sequence[str], argv: Sequence[str]
) -> dict[str, Any]:
    """What `python -m bench.NAME ARGV` prints: `run`'s document, with the CPU seconds used.

    `--quick` stands for the module's `quick` arguments (its small run); arguments after it
    still win (`--quick --repeat 3`)."""
    if "--quick" in argv:
        argv = [*quick, *(arg for arg in argv if arg != "--quick")]
    result = run(argv)
    result["cpu_s"] = round(cpu_used_s(), 1)
    return result


def main(run: Callable[[Sequence[str]], dict[str, Any]], quick: Sequence[str]) -> None:
    """A module's `python -m bench.NAME [--quick] [ARGS]`: run it, print its JSON."""
    json.dump(document(run, quick, sys.argv[1:]), sys.stdout, indent=2)
    sys.stdout.write("\n")


def forked(name: str, argv: list[str]) -> dict[str, Any] | str:
    """Run module NAME's benchmark in this process (`python -m bench --quick` forks one for
    each from a process that imported them all); its document, or its traceback if it failed."""
    print(f"bench: {name} ...", file=sys.stderr, flush=True)
    began = time.perf_counter()
    try:
        module = importlib.import_module(f"bench.{name}")
        result = document(module.run, module.QUICK, argv)
    # A module's failure is reported as it is when it runs alone (pytest.fail included).
    except BaseException:
        return traceback.format_exc()[-4000:]
    result["elapsed_s"] = round(time.perf_counter() - began, 1)
    return result

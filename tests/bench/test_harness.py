"""`python -m bench --quick` runs every benchmark and prints every figure with its ratios.

Only the shape of the document is held: every module ran, every figure the performance work is
judged by is there, every number is finite and positive and every ratio is its subject's median
over its baseline's. How fast anything is, is never asserted.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from typing import Any

import pytest

from bench.__main__ import modules
from bench._kit import ROOT, alternate, figure

pytestmark = pytest.mark.timeout(1200)

EXPECTED: dict[str, dict[str, set[str]]] = {
    "catchup": {"catch-up of ": {"bare", "bare_batched"}, "clients at once": {"bare"}},
    "cli": {
        "warroom note, CPU of the process": {"help", "python"},
        "warroom list, CPU of the process": {"help", "python"},
    },
    "delivery": {"note delay p99 while webhooks never answer": {"quiet"}},
    "disclosure": {"a stakeholder's event frame, per event": {"room"}},
    "fanout": {
        "fan-out submit-to-all p99, ": {"bare", "bare_durable"},
        "server RSS at start": {"bare"},
        "server RSS per idle connection": {"bare"},
    },
    "fold": {
        "restart of one incident of ": {"raw"},
        "fold of one incident of ": {"raw"},
        "resume of one incident of ": {"raw"},
    },
    "hubs": {"committed commands/s": set()},
    "lobby": {
        "lobby ready, ": {"whole_log"},
        "lobby and room open, ": {"whole_log"},
        "hub CPU per note with 6 lobbies open, incident of ": set(),
    },
    "page": {"event p99 delay at ": {"without_pages"}},
    "read": {"warroom show of one incident, ": {"whole_log"}},
    "replay": {
        "replay step p99, backward": {"forward"},
        "replay step p99, jumps": {"forward"},
        "replay step p99, forward_exec": {"forward"},
        "replay screen, CPU of a key, ": {"idle_key"},
    },
    "restart": {"restart to serving, ": {"raw", "refold", "empty_hub"}},
    "shelf": {
        "hub RSS after a restart, ": {"whole", "empty_hub"},
        "time to serving, ": {"whole", "empty_hub"},
    },
    "ssh": {
        "PSS per session": {"local_pty", "ssh_spawn"},
        "first paint, one session at a time": {"local_pty", "ssh_spawn"},
    },
    "store": {
        "durable commands/s, notes to 1 incident": {"raw_sqlite3", "store_append"},
        "durable commands/s, notes to 10 ": {"raw_sqlite3", "store_append"},
        "durable commands/s through the hub, ": {"raw_sqlite3", "bare_acks"},
    },
    "tui": {
        "first paint in tmux": set(),
        "render of ": set(),
        "event to panel p99 at 50 events/s": {"room_20"},
    },
}
"""Per module, a piece of the name of each figure it must report, and the baselines that figure
must be measured beside."""


def _bench(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=1100,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    document: dict[str, Any] = json.loads(done.stdout)
    return document


@pytest.fixture(scope="module")
def quick() -> dict[str, Any]:
    return _bench("--quick")


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def test_every_module_runs_and_reports_figures(quick: dict[str, Any]) -> None:
    assert quick["failed"] == {}
    assert quick["quick"] is True
    assert isinstance(quick["machine"]["cpus"], int)
    assert sorted(quick["benches"]) == modules()
    assert quick["at_once"] == quick["machine"]["cpus"]
    for name, result in quick["benches"].items():
        assert result["bench"] == name
        assert result["figures"], f"{name} reports no figure"
        assert _positive(result["cpu_s"]) and _positive(result["elapsed_s"]), (name, result)
    assert quick["cpu_s"] == pytest.approx(
        sum(result["cpu_s"] for result in quick["benches"].values()), abs=0.1
    )
    flat = [(figure["bench"], figure["figure"]) for figure in quick["figures"]]
    nested = [
        (name, figure["figure"])
        for name, result in quick["benches"].items()
        for figure in result["figures"]
    ]
    assert flat == nested


def test_the_figures_the_performance_work_is_judged_by_are_there(quick: dict[str, Any]) -> None:
    assert sorted(EXPECTED) == modules(), "every module's figures are held here"
    for name, pieces in EXPECTED.items():
        reported = quick["benches"][name]["figures"]
        names = [figure["figure"] for figure in reported]
        for piece, baselines in pieces.items():
            matching = [figure for figure in reported if piece in figure["figure"]]
            assert matching, f"{name}: no figure {piece!r} in {names}"
            for figure_ in matching:
                assert baselines <= set(figure_["ratios"]), (name, figure_)


def test_hubs_measures_several_hubs_on_postgresql_when_there_is_one(quick: dict[str, Any]) -> None:
    hubs = quick["benches"]["hubs"]
    names = {figure["figure"]: figure for figure in hubs["figures"]}
    if not os.environ.get("WARROOM_TEST_POSTGRES"):
        assert hubs["skipped"].startswith("no PostgreSQL"), hubs
        assert list(names) == ["committed commands/s"]
        return
    assert "skipped" not in hubs, hubs
    delay = names["note delay p99 at 50 notes/s, observer on another hub"]
    assert set(delay["ratios"]) == {"same_hub"}
    throughput = [name for name in names if name.endswith("hubs on PostgreSQL")]
    assert throughput, names
    assert all(set(names[name]["ratios"]) == {"sqlite_1_hub"} for name in throughput)


def test_every_number_is_finite_and_positive_and_every_ratio_computed(
    quick: dict[str, Any],
) -> None:
    assert quick["figures"]
    for one in quick["figures"]:
        assert one["unit"] and one["better"] in {"lower", "higher"}, one
        assert one["subject"] in one["runs"], one
        for side, run in one["runs"].items():
            for key in ("median", "min", "max"):
                assert _positive(run[key]), (one["figure"], side, key, run)
            assert run["min"] <= run["median"] <= run["max"], (one["figure"], side, run)
            assert math.isfinite(run["spread"]) and run["spread"] >= 0, (one["figure"], run)
            assert isinstance(run["n"], int) and run["n"] >= 1, (one["figure"], run)
        assert set(one["ratios"]) == set(one["runs"]) - {one["subject"]}, one
        subject = one["runs"][one["subject"]]["median"]
        for side, ratio in one["ratios"].items():
            assert _positive(ratio), (one["figure"], side, ratio)
            assert ratio == pytest.approx(subject / one["runs"][side]["median"], rel=2e-3), one


def test_only_runs_the_modules_named() -> None:
    document = _bench("--quick", "--only", "replay", "disclosure", "--repeats", "2")
    assert sorted(document["benches"]) == ["disclosure", "replay"]
    assert document["repeats"] == 2
    assert all(figure["bench"] in {"disclosure", "replay"} for figure in document["figures"])
    assert document["benches"]["disclosure"]["repeat"] == 2
    assert all(run["n"] == 2 for figure in document["figures"] for run in figure["runs"].values())


def test_sides_alternate_and_a_ratio_is_the_subjects_median_over_the_baselines() -> None:
    calls: list[str] = []

    def side(name: str, value: float) -> Any:
        def measured() -> float:
            calls.append(name)
            return value

        return measured

    samples = alternate({"a": side("a", 2.0), "b": side("b", 4.0)}, 3)
    assert calls == ["a", "b", "b", "a", "a", "b"]
    assert samples == {"a": [2.0, 2.0, 2.0], "b": [4.0, 4.0, 4.0]}
    reported = figure("x", "s", {"a": [1.0, 2.0, 6.0], "b": [4.0, 8.0]}, "a")
    assert reported["ratios"] == {"b": pytest.approx(2.0 / 6.0, rel=1e-3)}
    assert reported["runs"]["a"] == {"median": 2.0, "min": 1.0, "max": 6.0, "spread": 2.5, "n": 3}

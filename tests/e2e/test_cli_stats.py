"""`warroom stats` against a real hub: the numbers of every incident the user may see, as JSON
for scripts and a table and chart for people, in which a name is text, never markup; and the
chart and table of hand-timed incidents, drawn as a person reads them."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console

from tests.core.test_stats import Log
from tests.kit.harness import Hub, concurrently
from warroom.cli.charts import chart, print_stats
from warroom.core.domain import Severity, Status
from warroom.core.stats import stats

MARKUP_APP = "[red]ledger[/]"


def test_stats_counts_every_incident_the_user_may_see(hub: Hub) -> None:
    first = hub.ok("declare", "Checkout failing", "-s", "1", "--app", "checkout").strip()
    second = hub.ok("declare", "Ledger late", "-s", "2", "--app", MARKUP_APP).strip()
    hub.ok("declare", "Card data exposure", "-s", "1", "--app", "checkout", "--private")
    hub.ok("status", first, "identified")
    hub.ok("status", first, "resolved")
    hub.ok("status", second, "resolved")
    carol = hub.user_add("carol", "stakeholder", "exec")

    data, table, mine, only, refused = concurrently(
        lambda: hub.run("stats", "--json"),
        lambda: hub.run("stats"),
        lambda: hub.run("stats", "--json", token=carol),
        lambda: hub.run("stats", "--json", "--app", "CHECKOUT", "--since", "-1h"),
        lambda: hub.run("stats", "--since", "yesterday"),
    )
    assert data.returncode == 0, data.stderr
    numbers = json.loads(data.stdout)
    assert numbers["overall"]["incidents"] == 3
    assert numbers["overall"]["by_severity"] == {"SEV1": 2, "SEV2": 1, "SEV3": 0, "SEV4": 0}
    assert numbers["apps"]["checkout"]["incidents"] == 2
    assert numbers["apps"]["checkout"]["mean_time_to_identify_s"] is not None
    assert numbers["overall"]["mean_time_to_resolve_s"] is not None
    assert set(numbers["resolve_by_month_s"]) == {"checkout", MARKUP_APP}
    # A stakeholder's numbers leave out the private incident they may not know of.
    assert json.loads(mine.stdout)["overall"]["incidents"] == 2
    assert list(json.loads(only.stdout)["apps"]) == ["checkout"]

    assert table.returncode == 0, table.stderr
    assert MARKUP_APP in table.stdout and "checkout" in table.stdout
    assert "Mean time to resolve" in table.stdout and "█" in table.stdout
    assert "\x1b" not in table.stdout  # no colour codes into a pipe
    assert refused.returncode == 2 and "cannot read the time 'yesterday'" in refused.stderr


def test_the_chart_draws_each_applications_months_on_one_scale(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Resolve times per month and application, hand-timed: checkout 1h in October and 2h in
    November, payments 30m in October; the longest fills the width, the others in proportion."""
    log = Log()
    october, november = datetime(2026, 10, 5, tzinfo=UTC), datetime(2026, 11, 5, tzinfo=UTC)
    for start, minutes, app in ((october, 60, "checkout"), (november, 120, "checkout"),
                                (october, 30, "payments")):  # fmt: skip
        incident = log.declare(start, Severity.SEV2, app)
        log.status(start + timedelta(minutes=minutes), incident, Status.RESOLVED)
    numbers = stats(log.events)
    console = Console(file=io.StringIO(), width=80)
    console.print(chart(numbers, width=16))
    drawn = [line.rstrip() for line in console.file.getvalue().strip().splitlines()]  # type: ignore[attr-defined]
    assert drawn == [
        "Mean time to resolve, by month of declaration",
        "checkout  2026-10  " + "█" * 8 + " 1h 00m",
        "          2026-11  " + "█" * 16 + " 2h 00m",
        "payments  2026-10  " + "█" * 4 + " 30m",
    ]
    print_stats(numbers)
    table = capsys.readouterr().out.split("Mean time to resolve, by month")[0]
    rows = {line.split()[0]: line.split()[1:] for line in table.splitlines() if line.strip()}
    # count, SEV1/2/3/4, identify, mitigate, resolve (1h and 2h), MTBF (Oct 5 to Nov 5),
    # on time, answer
    assert rows["checkout"] == ["2", "0/2/0/0", "-", "-", "1h", "30m", "31d", "-", "-"]
    assert rows["payments"] == ["1", "0/1/0/0", "-", "-", "30m", "-", "-", "-"]
    assert rows["all"] == ["3", "0/3/0/0", "-", "-", "1h", "10m", "15d", "12h", "-", "-"]

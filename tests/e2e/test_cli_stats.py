"""`warroom stats` against a real hub: the numbers of every incident the user may see, as JSON
for scripts and a table and chart for people, in which a name is text, never markup."""

from __future__ import annotations

import json

from tests.kit.harness import Hub, concurrently

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

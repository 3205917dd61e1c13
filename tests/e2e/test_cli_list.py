"""`warroom list` is made from summaries, not from the log: what it prints, with `--json` and
its filters, is what folding the whole log gave, to a manager, a stakeholder and an uninvited
responder."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest

from tests.e2e.test_cli_read import _steady, _two_incidents_and_a_secret
from tests.kit.harness import Hub, concurrently
from warroom.core import protocol
from warroom.core.domain import IncidentState
from warroom.core.reducer import replay
from warroom.core.text import visible
from warroom.core.timeparse import relative
from warroom.net.remote import Remote

FILTERS: list[tuple[str, ...]] = [(), ("--status", "identified"), ("--app", "CHECKOUT")]


def _folded(hub: Hub, token: str) -> list[IncidentState]:
    """Every incident the user may see, folded from the whole log, newest first."""

    async def fetch() -> list[protocol.EventFrame]:
        async with await Remote.open(hub.url, token) as remote:
            return await remote.sync(0)

    return replay(item.event for item in asyncio.run(fetch())).newest_first()


def _row(incident: IncidentState, now: datetime) -> str:
    """A line of `list` as it was printed from the folded log."""
    apps = ", ".join(incident.apps) or "-"
    questions = len(incident.open_questions)
    asked = f"  {questions} open question{'s' if questions != 1 else ''}" if questions else ""
    return visible(
        f"{incident.id:<8} {incident.severity.value}  {incident.status.value:<13} "
        f"{relative(incident.declared_at, now):>10}  {incident.title}  [{apps}]{asked}"
        f"{'  private' if incident.private else ''}",
        multiline=False,
    )


def _data(incident: IncidentState) -> dict[str, Any]:
    """An element of `list --json` as it was printed from the folded log."""
    return {
        "id": incident.id,
        "title": incident.title,
        "severity": incident.severity.value,
        "status": incident.status.value,
        "apps": list(incident.apps),
        "private": incident.private,
        "declared_at": incident.declared_at.isoformat(),
        "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
        "manager": incident.manager,
        "open_questions": len(incident.open_questions),
    }


def _kept(incident: IncidentState, options: tuple[str, ...]) -> bool:
    if options[:1] == ("--status",):
        return incident.status.value == options[1]
    if options[:1] == ("--app",):
        return options[1].lower() in (app.lower() for app in incident.apps)
    return True


@pytest.mark.usefixtures("local_zone")
def test_list_prints_what_the_whole_log_gave_for_every_role(hub: Hub) -> None:
    hub.user_add("ana", "responder")
    carol = hub.user_add("carol", "stakeholder", "exec")
    uma = hub.user_add("uma", "responder")
    _two_incidents_and_a_secret(hub, carol)
    for name, token in {"manager": hub.token, "carol": carol, "uma": uma}.items():
        folded = _folded(hub, token)
        assert any(incident.private for incident in folded) == (name == "manager")
        runs = concurrently(
            *(
                partial(hub.run, "list", *options, *flags, token=token)
                for options in FILTERS
                for flags in ((), ("--json",))
            )
        )
        now = datetime.now(UTC)
        for index, options in enumerate(FILTERS):
            text, as_json = runs[2 * index], runs[2 * index + 1]
            assert (text.returncode, as_json.returncode, text.stderr) == (0, 0, ""), name
            kept = [incident for incident in folded if _kept(incident, options)]
            assert kept or options, name
            assert json.loads(as_json.stdout) == [_data(i) for i in kept], (name, options)
            lines = [_row(i, now) for i in kept] or ["no incidents"]
            assert _steady(text.stdout) == _steady("\n".join(lines) + "\n"), (name, options)
    carols = json.loads(hub.ok("list", "--json", token=carol))
    assert [i["open_questions"] for i in carols if i["id"] == "INC-1"] == [0]  # answered


def test_list_with_nothing_to_show_and_a_refused_token_are_as_before(hub: Hub) -> None:
    assert hub.ok("list") == "no incidents\n"
    assert json.loads(hub.ok("list", "--json")) == []
    refused = hub.run("list", token="not-a-valid-token")
    assert refused.returncode == 4 and "refused the token" in refused.stderr

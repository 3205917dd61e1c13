"""`warroom report` and `export --format md` against a real hub: the post-mortem the core writes
from the log the user may see, an audience's version without what is kept from it, a file, and
refusals in one line."""

from __future__ import annotations

import asyncio
from pathlib import Path

from markdown_it import MarkdownIt

from tests.kit.harness import Hub, concurrently
from warroom.core.events import Event
from warroom.core.report import report
from warroom.net.remote import Remote

CANARY = "CANARY-internal-e2e"
OUTPUT = "line 1\n```\n<script>alert(1)</script>\n"


def _log(hub: Hub, token: str, incident: str) -> list[Event]:
    async def read() -> list[Event]:
        async with await Remote.open(hub.url, token) as remote:
            frames = await remote.read(incident)
        assert frames is not None
        return [frame.event for frame in frames]

    return asyncio.run(read())


def test_report_and_export_md_write_the_post_mortem_of_the_log(hub: Hub, tmp_path: Path) -> None:
    carol = hub.user_add("carol", "stakeholder", "exec")
    ana = hub.user_add("ana", "responder")
    incident = hub.ok("declare", "Checkout failing", "-s", "1", "--app", "checkout").strip()
    hub.ok("status", incident, "identified", token=ana)
    hub.ok("note", incident, f"db primary down {CANARY}", "--pin", token=ana)
    hub.ok("note", incident, "Deploy 4812 rolled out", "--pin", "--audience", "all")
    hub.ok("note", incident, "-", "--pin", input=OUTPUT, token=ana)
    hub.ok("publish", incident, "--audience", "all")
    hub.ok("ask", incident, "When is it back?", token=carol)
    hub.ok("answer", incident, "Q1", "Within the hour", "--audience", "all")
    hub.ok("status", incident, "resolved")

    path = tmp_path / "pm.md"
    room, exported, execs, own, _ = concurrently(
        lambda: hub.ok("report", incident),
        lambda: hub.ok("export", incident, "--format", "md"),
        lambda: hub.ok("report", incident, "--audience", "exec"),
        lambda: hub.ok("report", incident, token=carol),
        lambda: hub.ok("report", incident, "-o", str(path)),
    )
    written = hub.run("report", incident, "--output", str(path))
    # The report is the core's, from the log the hub lets the user read; export is the same.
    assert room == report(_log(hub, hub.token, incident), incident)
    assert exported == room
    assert written.returncode == 0 and written.stdout == ""
    assert f"wrote the post-mortem of {incident} to {path}" in written.stderr
    assert path.read_text() == room
    assert CANARY in room and "````" in room  # the pasted output, fenced past its backticks
    html = MarkdownIt("commonmark").render(room)
    assert "<script>" not in html and "&lt;script&gt;" in html
    # An audience's version, and a stakeholder's own, hold nothing kept from them.
    for shown in (execs, own):
        assert CANARY not in shown
        assert "Deploy 4812 rolled out" in shown and "Within the hour" in shown
    assert "When is it back?" in own and "by carol" in own


def test_report_refusals_are_one_line(hub: Hub) -> None:
    ana = hub.user_add("ana", "responder")
    hub.user_add("carol", "stakeholder", "exec")
    incident = hub.ok("declare", "Checkout failing", "-s", "2").strip()
    cases = [
        (("report", "INC-99"), None, 1, "there is no incident INC-99 that you may see"),
        (("report", incident, "--audience", "exec"), ana, 1, "only an incident manager"),
        (("report", incident, "--audience", "nosuch"), None, 1, "nosuch"),
        (("report", incident, "--audience", "internal"), None, 2, "not internal"),
        (("export", incident, "--format", "pdf"), None, 2, "'pdf' is not one of"),
    ]
    results = concurrently(
        *(lambda args=args, token=token: hub.run(*args, token=token) for args, token, _, _ in cases)
    )
    for (args, _, code, reason), result in zip(cases, results, strict=True):
        assert result.returncode == code, (args, result.stderr)
        assert reason in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert result.stdout == ""

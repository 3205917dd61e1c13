"""Moving an entry to another audience, and previewing what an audience sees (CLI, real hub)."""

from __future__ import annotations

import json

from tests.kit.harness import Hub


def test_audience_moves_an_entry_and_show_as_previews_it(hub: Hub) -> None:
    carol = hub.user_add("carol", "stakeholder", "exec")
    hub.user_add("dave", "stakeholder", "support")  # a group that exists, to preview
    ana = hub.user_add("ana", "responder")
    incident = hub.ok("declare", "Checkout failing", "-s", "1").strip()
    hub.ok("note", incident, "CANARY internal only")
    hub.ok("note", incident, "for the execs")
    hub.ok("audience", incident, "N2", "exec")

    preview = hub.ok("show", incident, "--as", "exec")
    assert "for the execs" in preview
    assert "CANARY" not in preview
    assert "for the execs" not in hub.ok("show", incident, "--as", "support")
    # What carol herself sees matches the preview of her group.
    seen = json.loads(hub.ok("show", incident, "--json", token=carol))["incident"]
    assert [note["text"] for note in seen["notes"]] == ["for the execs"]
    assert "CANARY" not in hub.ok("export", incident, token=carol)

    hub.ok("audience", incident, "N2", "internal")
    assert "for the execs" not in hub.ok("show", incident, "--as", "exec")
    refused = hub.run("show", incident, "--as", "exec", token=ana)
    assert refused.returncode == 1
    assert "only an incident manager" in refused.stderr
    forbidden = hub.run("audience", incident, "N1", "all", token=ana)
    assert forbidden.returncode == 1 and "may not" in forbidden.stderr

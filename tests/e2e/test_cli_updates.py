"""Keeping stakeholders informed from the command line, against a real hub: `declare --alert`,
`publish` (composed from the room, `--dry-run`, `--summary -`, `--question`), `merge` and the
`questions` queue; each audience's room shows exactly the updates addressed to it."""

from __future__ import annotations

import json

from tests.kit.harness import Hub

CANARY = "CANARY-internal-5521"


def test_declare_with_an_alert_publishes_it_to_the_audience(hub: Hub) -> None:
    carol = hub.user_add("carol", "stakeholder", "exec")
    declared = hub.run("declare", "Payments down", "-s", "1", "--app", "payments", "--alert", "all")
    assert declared.returncode == 0, declared.stderr
    incident = declared.stdout.strip()
    assert incident == "INC-1"
    assert "alert U1 to all" in declared.stderr
    seen = json.loads(hub.ok("show", incident, "--json", token=carol))["incident"]
    (alert,) = seen["updates"]
    assert alert["kind"] == "alert"
    assert (
        "We are responding to a SEV1 incident affecting payments: Payments down."
        in (alert["summary"])
    )
    assert "Next update by" in alert["summary"]


def test_publish_composes_from_what_the_audience_may_see(hub: Hub) -> None:
    carol = hub.user_add("carol", "stakeholder", "exec")
    dave = hub.user_add("dave", "stakeholder", "support")
    incident = hub.ok("declare", "Checkout failing", "-s", "2", "--app", "checkout").strip()
    hub.ok("note", incident, f"db primary {CANARY}")
    hub.ok("action", incident, "fail over to the replica", "--audience", "all")
    hub.ok("impact", incident, "EU cards fail", "--audience", "exec")

    dry = hub.ok("publish", incident, "--audience", "exec", "--dry-run")
    assert dry.startswith("[SEV2] INC-1 update U1: Checkout failing\nto: exec\n")
    assert "Impact\nEU cards fail" in dry and "fail over to the replica" in dry
    assert CANARY not in dry
    # A dry run sends nothing.
    assert json.loads(hub.ok("show", incident, "--json", token=carol))["incident"]["updates"] == []

    published = hub.run(
        "publish", incident, "--audience", "exec", "--summary", "-", "--json",
        input="Failover under way; cards work again within the hour.\n",
    )  # fmt: skip
    assert published.returncode == 0, published.stderr
    (event,) = json.loads(published.stdout)["events"]
    assert event["type"] == "update.published" and event["update"] == 1
    assert event["summary"] == "Failover under way; cards work again within the hour."

    exec_room = json.loads(hub.ok("show", incident, "--json", token=carol))["incident"]
    assert [u["summary"] for u in exec_room["updates"]] == [event["summary"]]
    assert "EU cards fail" in exec_room["updates"][0]["impact"]
    page = hub.ok("show", incident, token=carol)
    updates = page[page.index("\nUpdates\n") :]
    assert "  U" in updates and " update to exec, " in updates
    assert "    Summary:\n      Failover under way; cards work again within the hour." in updates
    support_room = json.loads(hub.ok("show", incident, "--json", token=dave))["incident"]
    assert support_room["updates"] == []
    # For support the exec-only impact is not offered.
    assert "EU cards fail" not in hub.ok("publish", incident, "-a", "support", "--dry-run")


def test_publish_refuses_internal_an_unknown_group_and_a_responder(hub: Hub) -> None:
    hub.user_add("carol", "stakeholder", "exec")
    ana = hub.user_add("ana", "responder")
    incident = hub.ok("declare", "Search slow", "-s", "3").strip()
    internal = hub.run("publish", incident, "--audience", "internal")
    assert internal.returncode == 2 and "stakeholders" in internal.stderr
    unknown = hub.run("publish", incident, "--audience", "board")
    assert unknown.returncode == 1 and "no stakeholder is in group board" in unknown.stderr
    forbidden = hub.run("publish", incident, "--audience", "all", token=ana)
    assert forbidden.returncode == 1 and "may not publish updates" in forbidden.stderr
    for refused in (internal, unknown, forbidden):
        assert "Traceback" not in refused.stderr


def test_merge_answers_every_duplicate_and_a_promoted_answer_reaches_the_audience(
    hub: Hub,
) -> None:
    carol = hub.user_add("carol", "stakeholder", "exec")
    dave = hub.user_add("dave", "stakeholder", "support")
    incident = hub.ok("declare", "Checkout failing", "-s", "2").strip()
    hub.ok("ask", incident, "when is it fixed?", token=carol)
    hub.ok("ask", incident, "ETA for checkout?", token=dave)

    queue = hub.ok("questions", incident)
    first, second = queue.splitlines()
    assert first.startswith("Q1 [open, asked") and "carol: when is it fixed?" in first
    assert second.startswith("Q2 [open, asked")

    hub.ok("merge", incident, "Q2", "--into", "Q1")
    (only,) = hub.ok("questions", incident).splitlines()
    assert only.startswith("Q1 [open")
    hub.ok("answer", incident, "Q1", "within the hour")
    for token, mine in ((carol, "when is it fixed?"), (dave, "ETA for checkout?")):
        (question,) = json.loads(hub.ok("show", incident, "--json", token=token))["incident"][
            "questions"
        ]
        assert (question["text"], question["answer"]) == (mine, "within the hour")

    hub.ok("publish", incident, "--audience", "all", "--question", "Q1")
    (update,) = json.loads(hub.ok("show", incident, "--json", token=dave))["incident"]["updates"]
    assert update["summary"] == "Asked: when is it fixed?\n\nAnswer: within the hour"
    rows = json.loads(hub.ok("questions", incident, "--all", "--json"))["questions"]
    assert [(r["question"], r["state"], r["merged_into"]) for r in rows] == [
        ("Q2", "answered", 1),
        ("Q1", "answered", None),
    ]


def test_subscribe_lists_and_takes_back_a_groups_and_an_addresss_subscriptions(hub: Hub) -> None:
    def listed() -> list[tuple[str, str]]:
        rows = json.loads(hub.admin("subscriptions", "--json").stdout)
        return [(row["subscriber"], row["app"]) for row in rows]

    for who, apps in (("exec", ("checkout", "payments")), ("cfo@example.com", ("payments",))):
        options = [option for app in apps for option in ("--app", app)]
        added = hub.admin("subscribe", who, *options)
        assert added.returncode == 0, added.stderr
        assert added.stdout.strip() == f"{who} now hears of incidents affecting {', '.join(apps)}"
    again = hub.admin("subscribe", "exec", "--app", "checkout")
    assert again.stdout.strip() == "exec already hears of checkout"
    assert listed() == [
        ("cfo@example.com", "payments"), ("exec", "checkout"), ("exec", "payments"),
    ]  # fmt: skip
    removed = hub.admin("subscribe", "exec", "--app", "checkout", "--remove")
    assert removed.stdout.strip() == "exec no longer hears of checkout"
    assert listed() == [("cfo@example.com", "payments"), ("exec", "payments")]
    refused = hub.admin("subscribe", "exec", "--app", "checkout", "--remove")
    assert refused.returncode == 1 and "exec is not subscribed to checkout" in refused.stderr
    bad = hub.admin("subscribe", "cfo@@example", "--app", "payments")
    assert bad.returncode == 2 and "bad email address" in bad.stderr
    assert listed() == [("cfo@example.com", "payments"), ("exec", "payments")]

"""`warroom invite-link USER`: an incident manager's sign-in link to the status page, its token in
the fragment; a new user is made, an existing one gets a fresh token (the old one stops)."""

from __future__ import annotations

import json
import re

import pytest

from tests.kit.harness import Hub
from warroom.cli.users import page_url
from warroom.store import Store, open_engine

_LINK = re.compile(r"^http://127\.0\.0\.1:(\d+)/#token=(wr_[A-Za-z0-9_-]+)$")


def _token(hub: Hub, link: str) -> str:
    found = _LINK.match(link.strip())
    assert found is not None, link
    assert int(found.group(1)) == hub.port
    return found.group(2)


def test_a_link_makes_a_stakeholder_and_a_second_one_rotates_their_token(hub: Hub) -> None:
    first = _token(hub, hub.ok("invite-link", "carol", "--group", "exec", "--db", str(hub.db)))
    store = Store(open_engine(f"sqlite:///{hub.db}"))
    try:
        carol = store.users.authenticate(first)
        assert carol is not None and carol.role.value == "stakeholder"
        assert carol.groups == frozenset({"exec"})
        again = hub.run("invite-link", "carol", "--db", str(hub.db), "--json")
        assert again.returncode == 0, again.stderr
        data = json.loads(again.stdout)
        assert data["created"] is False and data["groups"] == ["exec"]
        assert "previous token no longer logs in" in again.stderr
        second = _token(hub, data["link"])
        assert store.users.authenticate(first) is None
        assert store.users.authenticate(second) == carol
    finally:
        store.close()


def test_only_an_incident_manager_makes_links_and_existing_users_keep_their_role(
    hub: Hub,
) -> None:
    responder = hub.user_add("rita", "responder")
    refused = hub.run("invite-link", "mallory", "--db", str(hub.db), token=responder)
    assert refused.returncode == 1 and "only an incident manager" in refused.stderr
    assert "#token=" not in refused.stdout
    clash = hub.run("invite-link", "rita", "--group", "exec", "--db", str(hub.db))
    assert clash.returncode == 2 and "warroom user change rita" in clash.stderr
    observer = hub.ok("invite-link", "oscar", "--role", "observer", "--db", str(hub.db))
    _token(hub, observer)


@pytest.mark.parametrize(
    ("url", "page"),
    [
        ("ws://127.0.0.1:8765", "http://127.0.0.1:8765/"),
        ("wss://warroom.example:8443/", "https://warroom.example:8443/"),
        ("wss://[::1]:9000", "https://[::1]:9000/"),
    ],
)
def test_the_page_is_at_the_hubs_address_over_http(url: str, page: str) -> None:
    assert page_url(url) == page

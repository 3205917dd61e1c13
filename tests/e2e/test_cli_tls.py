"""`warroom serve` over TLS, and the addresses it refuses to serve in the clear: a real hub with a
certificate made in the test, real CLI processes, and the SSH gateway's TUI on `wss://`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kit import ssh as openssh
from tests.kit.harness import Hub, free_port, warroom
from tests.kit.tls import Certificate, self_signed
from tests.kit.tmux import Tmux


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    return self_signed(tmp_path / "tls")


@pytest.fixture
def tls_hub(tmp_path: Path, env: dict[str, str], certificate: Certificate) -> Iterator[Hub]:
    """A hub serving `wss://` with a self-signed certificate (and SSH, on any free port)."""
    running = Hub(tmp_path, env)
    running.options = ["--tls-cert", str(certificate.cert), "--tls-key", str(certificate.key)]
    running.start(ssh=openssh.missing() is None)
    try:
        yield running
    finally:
        running.close()
    assert "Traceback" not in running.server_stderr()


def test_the_cli_declares_and_reads_over_wss_trusting_the_given_certificate(
    tls_hub: Hub, certificate: Certificate
) -> None:
    assert tls_hub.url.startswith("wss://127.0.0.1:")
    ca = str(certificate.cert)
    incident = tls_hub.ok("declare", "Checkout down", "-s", "1", "--ca", ca).strip()
    assert incident == "INC-1"
    env = tls_hub.client_env() | {"WARROOM_CA": ca}
    shown = warroom("show", incident, env=env)
    assert shown.returncode == 0, shown.stderr
    assert "Checkout down" in shown.stdout

    logged = warroom("login", tls_hub.url, tls_hub.token, "--ca", ca, env=tls_hub.env)
    assert logged.returncode == 0, logged.stderr
    # The login remembers which certificates verify that hub: no --ca, no WARROOM_CA needed.
    remembered = warroom("show", incident, env=tls_hub.env)
    assert remembered.returncode == 0, remembered.stderr
    assert "Checkout down" in remembered.stdout


def test_an_unverified_certificate_and_a_plain_connection_are_refused(tls_hub: Hub) -> None:
    untrusted = tls_hub.run("list")
    assert untrusted.returncode == 4
    assert "cannot verify the certificate" in untrusted.stderr
    assert "--ca FILE" in untrusted.stderr

    plain = warroom("list", "--url", tls_hub.url.replace("wss://", "ws://"), env=tls_hub.env)
    assert plain.returncode == 4, plain.stderr
    assert plain.stderr.startswith("warroom: ") and len(plain.stderr.splitlines()) == 1


@pytest.mark.skipif(openssh.missing() is not None, reason=str(openssh.missing()))
def test_the_ssh_gateways_war_room_reaches_the_hub_over_wss(tls_hub: Hub, tmp_path: Path) -> None:
    key = openssh.user_with_key(tls_hub, tmp_path / "keys", "ana").key
    tmux = Tmux()
    try:
        pane = openssh.Ssh(tls_hub, tmp_path / "ssh").open(tmux, "ana", key)
        pane.wait_for(openssh.online_as("ana"), "ana's lobby over wss://", openssh.PAINT)
    finally:
        tmux.close()


def test_a_public_address_without_tls_is_refused(env: dict[str, str]) -> None:
    refused = warroom("serve", "--host", "0.0.0.0", "--port", str(free_port()), env=env)
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        "warroom: --host 0.0.0.0 is reachable from other machines: serve it with --tls-cert "
        "and --tls-key, or say --insecure"
    ]
    half = warroom("serve", "--tls-cert", "x.pem", env=env)
    assert half.returncode == 2 and "go together" in half.stderr


def test_insecure_serves_a_public_address_in_the_clear(tmp_path: Path, env: dict[str, str]) -> None:
    running = Hub(tmp_path, env)
    running.options = ["--host", "0.0.0.0", "--insecure"]
    running.start()
    try:
        assert running.url.startswith("ws://0.0.0.0:")
        # Reached on this machine's loopback address.
        url = running.url.replace("0.0.0.0", "127.0.0.1")
        listed = warroom("list", "--url", url, env=running.client_env())
        assert listed.returncode == 0, listed.stderr
    finally:
        running.close()


def test_a_certificate_that_cannot_be_used_is_bad_usage(
    env: dict[str, str], certificate: Certificate
) -> None:
    key = str(certificate.key)  # a key where the certificate should be
    result = warroom("serve", "--port", "0", "--tls-cert", key, "--tls-key", key, env=env)
    assert result.returncode == 2
    assert "cannot use the TLS certificate" in result.stderr


def test_an_allowed_origin_that_is_not_one_is_bad_usage(env: dict[str, str]) -> None:
    result = warroom("serve", "--port", "0", "--allow-origin", "warroom.example", env=env)
    assert result.returncode == 2
    assert "--allow-origin warroom.example: not an origin" in result.stderr

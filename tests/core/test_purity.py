"""The core imports no I/O framework, and the server and the client never import each other.

Each check runs in a fresh interpreter, so modules other tests imported do not hide a leak.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CORE = "warroom.core"
"""The pure core: every module under it is checked, found by walking the package."""

FORBIDDEN_IN_CORE = [
    "textual",
    "websockets",
    "sqlalchemy",
    "sqlmodel",
    "asyncssh",
    "platformdirs",
    "server",
    "client",
    "warroom.store",
    "warroom.net",
    "warroom.cli",
]


def loaded_after(imports: list[str], walk: str | None = None) -> set[str]:
    """Top-level and dotted names in sys.modules after importing `imports` in a fresh Python.

    `walk` names a package whose every submodule is imported as well.
    """
    script = textwrap.dedent(
        f"""
        import importlib, json, pkgutil, sys
        for name in {imports!r}:
            importlib.import_module(name)
        walk = {walk!r}
        if walk is not None:
            package = importlib.import_module(walk)
            for info in pkgutil.walk_packages(package.__path__, walk + "."):
                importlib.import_module(info.name)
        print(json.dumps(sorted(sys.modules)))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def leaked(modules: set[str], forbidden: list[str]) -> list[str]:
    return sorted(
        name for name in modules for f in forbidden if name == f or name.startswith(f + ".")
    )


def core_modules() -> list[str]:
    package = importlib.import_module(CORE)
    return sorted(info.name for info in pkgutil.walk_packages(package.__path__, CORE + "."))


def test_core_modules_import_no_framework() -> None:
    modules = loaded_after([CORE], walk=CORE)
    assert {"warroom.core.decide", "warroom.core.reducer", "warroom.core.protocol"} <= modules
    assert set(core_modules()) <= modules
    assert leaked(modules, FORBIDDEN_IN_CORE) == []


@pytest.mark.parametrize("module", core_modules())
def test_each_core_module_alone_imports_no_framework(module: str) -> None:
    assert leaked(loaded_after([module]), FORBIDDEN_IN_CORE) == []


def test_the_check_can_fail() -> None:
    # The store is allowed its database libraries: the same check must see them.
    modules = loaded_after(["warroom.store"])
    assert "sqlmodel" in leaked(modules, FORBIDDEN_IN_CORE)


@pytest.mark.parametrize("module", ["server.hub", "server.app", "server.sequencer"])
def test_server_never_imports_the_client(module: str) -> None:
    modules = loaded_after([module])
    assert module in modules
    assert leaked(modules, ["client"]) == []


def test_whole_server_package_never_imports_the_client() -> None:
    modules = loaded_after(["server"], walk="server")
    assert {"server.hub", "server.app", "server.sequencer"} <= modules
    assert leaked(modules, ["client"]) == []


def test_client_never_imports_the_server() -> None:
    modules = loaded_after(["client"], walk="client")
    assert "client" in modules
    assert leaked(modules, ["server"]) == []


def test_a_hub_without_ssh_or_deliveries_loads_neither_library() -> None:
    # What `warroom serve` imports before it knows whether it serves SSH or sends anything:
    # asyncssh (and its cryptography), httpx and aiosmtplib cost about 23 MB a hub that needs
    # none of them would carry for good.
    modules = loaded_after(["warroom.cli", "warroom.cli.hub", "server.app"])
    assert {"server.app", "server.delivery", "server.ssh.settings"} <= modules
    assert leaked(modules, ["asyncssh", "httpx", "aiosmtplib"]) == []
    # The same check sees them once the gateway is imported, as a hub serving SSH does.
    assert "asyncssh" in leaked(loaded_after(["server.ssh.gateway"]), ["asyncssh"])

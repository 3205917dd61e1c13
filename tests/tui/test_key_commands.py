"""The war room's key-to-command table: each key names an action the screen has, so no key
escapes the role check by a misspelt name (`check_action` lets unknown actions through)."""

from __future__ import annotations

import pytest

from client.screens.war_room import ACTION_COMMANDS, WarRoomScreen
from warroom.core import commands as c


@pytest.mark.parametrize("action", sorted(ACTION_COMMANDS))
def test_each_key_action_is_one_the_war_room_has(action: str) -> None:
    assert callable(getattr(WarRoomScreen, f"action_{action}", None))
    assert ACTION_COMMANDS[action] in c.COMMAND_TYPES

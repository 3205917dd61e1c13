"""The CLI's side of the wire: a websocket session with a hub."""

"""The hub: a real server on 127.0.0.1 port 0, real websocket clients."""

"""The pure core: plain pytest and hypothesis, no asyncio, no sockets."""

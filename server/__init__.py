"""The warroom hub: a websocket server that holds the shared incident state."""

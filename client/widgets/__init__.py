"""Widgets of the terminal client: one per file, each rendering part of the client state."""

"""warroom: a terminal-native war room for live incidents."""

__version__ = "0.1.0"

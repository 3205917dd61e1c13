"""The warroom terminal client."""

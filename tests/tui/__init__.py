"""The terminal client: Pilot tests on a fake link, and SVG snapshots."""

"""The benchmarks' harness: `python -m bench --quick` runs and prints every figure (no timing is
asserted, only the document's shape)."""

"""Benchmarks of the war room: `python -m bench` runs them all, `python -m bench.<name>` one.

Each module `bench/<name>.py` has `run(argv) -> dict` (its results) and `main()` (prints them as
JSON). Benchmarks measure; they assert nothing about speed.
"""

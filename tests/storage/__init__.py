"""The storage contract, run against every store (SQLite file; PostgreSQL when configured)."""

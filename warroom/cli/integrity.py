"""`warroom verify` and `warroom backup`: the log's hash chain checked, and an online copy of a
SQLite war room, on the database directly (`--db` / WARROOM_DB), whether or not the hub runs.
"""

from __future__ import annotations

from pathlib import Path

import click

from warroom.cli.common import DatabaseArgs, Failure, opened_store
from warroom.cli.parsing import database_options


@click.command("verify", help="check the log's hash chain; name the first broken link")
@database_options
def verify(db: DatabaseArgs) -> None:
    with opened_store(db.db) as store:
        verdict = store.log.verify()
    if verdict.broken is not None:
        raise Failure(f"the log is broken at {verdict.broken}")
    db.emit(
        {"count": verdict.count, "head": verdict.head, "head_hash": verdict.head_hash},
        [f"intact: {verdict.count} events, head seq {verdict.head} ({verdict.head_hash})"],
    )


@click.command("backup", help="copy a SQLite war room to FILE while the hub runs")
@database_options
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup(db: DatabaseArgs, file: Path) -> None:
    from warroom.store import StoreError, default_url, normalise_url
    from warroom.store.backup import POSTGRES
    from warroom.store.backup import backup as copy

    if not normalise_url(db.db or default_url()).startswith("sqlite:"):
        raise Failure(POSTGRES)
    with opened_store(db.db) as store:
        try:
            verdict = copy(store.engine, file)
        except StoreError as error:
            raise Failure(str(error)) from None
    db.emit(
        {"file": str(file), "count": verdict.count, "head": verdict.head},
        [f"backed up {verdict.count} events (head seq {verdict.head}) to {file}"],
    )

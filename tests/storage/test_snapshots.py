"""The snapshots table, on every backend: the newest seq wins, and a snapshot that is not true of
the log beside it (of another log, another format, past the head, another chain, damaged) is
left out; the log reads each incident's events after its snapshot."""

from __future__ import annotations

import hashlib
import threading

from sqlalchemy import text

from tests.storage.log_builder import LogBuilder
from warroom.core.commands import AddNote, Command, DeclareIncident
from warroom.core.domain import Actor, Role, Severity
from warroom.store import Snapshot, Store, open_engine

MANAGER = Actor("alice", Role.INCIDENT_MANAGER)
LOG = "0123456789abcdef"
FORMAT = 1


def _fill(store: Store, builder: LogBuilder) -> None:
    """INC-1 and INC-2 declared, then three notes each, alternating: seqs 1 to 8."""
    commands: list[Command] = [
        DeclareIncident(title="one", severity=Severity.SEV2),
        DeclareIncident(title="two", severity=Severity.SEV3),
    ]
    for number in range(3):
        commands += [
            AddNote(incident="INC-1", text=f"one {number}"),
            AddNote(incident="INC-2", text=f"two {number}"),
        ]
    for index, command in enumerate(commands):
        store.log.append([builder.pending(MANAGER, f"c{index}", command)])


def _save(store: Store, incident: str, seq: int, log: str = LOG, format: int = FORMAT) -> bool:
    state = f'{{"at": {seq}}}'
    return store.snapshots.save(Snapshot(incident, seq, state), log=log, format=format)


def _loaded(store: Store, upto: int = 8) -> dict[str, int]:
    found = store.snapshots.load(log=LOG, format=FORMAT, upto=upto)
    for snapshot in found.values():
        assert snapshot.state == f'{{"at": {snapshot.seq}}}'
    return {incident: snapshot.seq for incident, snapshot in found.items()}


def test_the_newest_seq_wins_whatever_the_order_of_writes(
    store: Store, log_builder: LogBuilder
) -> None:
    _fill(store, log_builder)

    assert _save(store, "INC-1", 5)
    assert not _save(store, "INC-1", 3)  # older: kept as it was
    assert _save(store, "INC-1", 5)  # the same seq: written again, as any hub has it
    assert _save(store, "INC-2", 4)
    assert _loaded(store) == {"INC-1": 5, "INC-2": 4}

    assert _save(store, "INC-1", 7)
    assert _loaded(store) == {"INC-1": 7, "INC-2": 4}


def test_a_seq_the_log_does_not_hold_is_not_written(store: Store, log_builder: LogBuilder) -> None:
    _fill(store, log_builder)

    assert not _save(store, "INC-1", 9)

    assert _loaded(store, upto=100) == {}


def test_snapshots_of_another_log_or_format_are_left_out_and_replaced(
    store: Store, log_builder: LogBuilder
) -> None:
    _fill(store, log_builder)
    assert _save(store, "INC-1", 7, log="fedcba9876543210")
    assert _save(store, "INC-2", 8, format=FORMAT + 1)

    assert _loaded(store) == {}

    # One of this log and format replaces them, though of an older seq.
    assert _save(store, "INC-1", 3)
    assert _save(store, "INC-2", 4)
    assert _loaded(store) == {"INC-1": 3, "INC-2": 4}


def test_a_snapshot_past_the_head_read_is_left_out(store: Store, log_builder: LogBuilder) -> None:
    _fill(store, log_builder)
    assert _save(store, "INC-1", 7)
    assert _save(store, "INC-2", 4)

    assert _loaded(store, upto=6) == {"INC-2": 4}
    assert _loaded(store, upto=7) == {"INC-1": 7, "INC-2": 4}


def test_a_snapshot_of_another_chain_or_damaged_is_left_out(
    store: Store, log_builder: LogBuilder
) -> None:
    _fill(store, log_builder)
    assert _save(store, "INC-1", 7)
    assert _save(store, "INC-2", 8)
    with store.engine.begin() as connection:
        # Taken of a log whose event 7 was another (a restore, a rewrite of history) ...
        connection.execute(text("UPDATE snapshots SET hash = 'ab' WHERE incident = 'INC-1'"))
        # ... and a state changed after it was written.
        connection.execute(
            text("UPDATE snapshots SET state = '{\"at\": 9}' WHERE incident = 'INC-2'")
        )

    assert _loaded(store) == {}


def test_hubs_writing_the_same_incident_at_once_keep_the_newest(
    store_url: str, log_builder: LogBuilder
) -> None:
    stores = [Store(open_engine(store_url)) for _ in range(3)]
    try:
        _fill(stores[0], log_builder)
        failures: list[BaseException] = []
        start = threading.Barrier(len(stores))

        def write(store: Store, seqs: range) -> None:
            start.wait()
            try:
                for seq in seqs:
                    _save(store, "INC-1", seq)
            except BaseException as error:  # reported below
                failures.append(error)

        threads = [
            threading.Thread(target=write, args=(store, range(first, 9, 3)))
            for first, store in enumerate(stores, start=1)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert failures == []
        assert _loaded(stores[0]) == {"INC-1": 8}
    finally:
        for store in stores:
            store.close()


def test_the_log_reads_each_incident_after_its_own_seq(
    store: Store, log_builder: LogBuilder
) -> None:
    _fill(store, log_builder)

    assert store.log.incidents(8) == ["INC-1", "INC-2"]
    assert store.log.incidents(1) == ["INC-1"]
    assert store.log.incidents(0) == []
    every = dict(store.log.read_raw())

    def seqs(after: dict[str, int], upto: int = 8) -> list[int]:
        rows = store.log.read_since(after, upto)
        assert all(every[seq] == data for seq, data in rows)
        return [seq for seq, _ in rows]

    assert seqs({"INC-1": 0, "INC-2": 0}) == list(range(1, 9))
    assert seqs({"INC-1": 5, "INC-2": 0}) == [2, 4, 6, 7, 8]
    assert seqs({"INC-1": 5, "INC-2": 6}) == [7, 8]
    assert seqs({"INC-1": 5, "INC-2": 6}, upto=7) == [7]
    assert seqs({"INC-2": 0}) == [2, 4, 6, 8]
    assert seqs({}) == []
    # More incidents than one query reads: each still read from its own seq.
    many = {f"INC-{n}": 0 for n in range(3, 500)}
    assert seqs({**many, "INC-2": 4}) == [6, 8]


def test_a_snapshot_not_true_of_the_log_is_replaced_by_any_true_one(
    store: Store, log_builder: LogBuilder
) -> None:
    _fill(store, log_builder)
    assert _save(store, "INC-1", 7)
    assert _save(store, "INC-2", 8)
    with store.engine.begin() as connection:
        # Past the head, and of another chain: no older seq would ever win over them.
        connection.execute(text("UPDATE snapshots SET seq = 50 WHERE incident = 'INC-1'"))
        connection.execute(text("UPDATE snapshots SET hash = 'ab' WHERE incident = 'INC-2'"))
    assert _loaded(store, upto=100) == {}

    assert _save(store, "INC-1", 3)
    assert _save(store, "INC-2", 4)
    assert _loaded(store) == {"INC-1": 3, "INC-2": 4}


def test_a_damaged_snapshot_is_mended_by_one_of_the_same_seq(
    store: Store, log_builder: LogBuilder
) -> None:
    _fill(store, log_builder)
    assert _save(store, "INC-1", 7)
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE snapshots SET state = '{' WHERE incident = 'INC-1'"))
    assert _loaded(store) == {}

    assert not _save(store, "INC-1", 6)  # older than it says it is: it stays
    assert _save(store, "INC-1", 7)
    assert _loaded(store) == {"INC-1": 7}


def _page(text: str) -> tuple[str, str]:
    return hashlib.sha256(text.encode()).hexdigest(), text


def _paged(store: Store, seq: int, *pages: tuple[str, str], names: list[str]) -> bool:
    snapshot = Snapshot("INC-1", seq, f'{{"at": {seq}}}', dict(pages))
    return store.snapshots.save(snapshot, log=LOG, format=FORMAT, names=names)


def _pages(store: Store) -> dict[str, str]:
    found = store.snapshots.load(log=LOG, format=FORMAT, upto=8)
    return dict(found["INC-1"].pages) if "INC-1" in found else {}


def test_a_snapshot_names_its_pages_and_writes_only_the_new_ones(
    store: Store, log_builder: LogBuilder
) -> None:
    _fill(store, log_builder)
    one, two, three = _page("[1]"), _page("[2]"), _page("[3]")

    assert _paged(store, 3, one, two, names=[one[0], two[0]])
    assert _pages(store) == dict([one, two])
    # The next names a page written before without its text, and a new one.
    assert _paged(store, 5, three, names=[one[0], three[0]])
    # The page it no longer names is gone.
    assert _pages(store) == dict([one, three])
    # One naming a page held by neither the database nor itself is not written.
    assert not _paged(store, 7, names=[one[0], two[0]])
    assert _loaded(store) == {"INC-1": 5} and _pages(store) == dict([one, three])
    # An older one is not written, and leaves the pages as they were.
    assert not _paged(store, 4, two, names=[two[0]])
    assert _pages(store) == dict([one, three])


def test_a_damaged_page_is_left_out_and_mended_by_the_next_snapshot_naming_it(
    store: Store, log_builder: LogBuilder
) -> None:
    _fill(store, log_builder)
    one, two = _page("[1]"), _page("[2]")
    assert _paged(store, 3, one, two, names=[one[0], two[0]])
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE snapshot_pages SET state = '[9]' WHERE state = '[2]'"))

    assert _pages(store) == dict([one])  # the reader finds it missing: its incident is refolded

    assert _paged(store, 5, two, names=[one[0], two[0]])
    assert _pages(store) == dict([one, two])

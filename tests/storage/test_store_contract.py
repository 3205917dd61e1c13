"""The event store's contract, run against every backend (see `store_url` in conftest.py)."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest

from tests.storage.log_builder import LogBuilder
from warroom.core import protocol
from warroom.core.commands import (
    AddAction,
    AddApp,
    AddMitigation,
    AddNote,
    ChangeSeverity,
    ChangeStatus,
    DeclareIncident,
    SetImpact,
)
from warroom.core.domain import Actor, Role, Severity, Status
from warroom.core.events import Envelope, NoteAdded
from warroom.store import Pending, Store, StoreError, User, open_engine

MANAGER = Actor("alice", Role.INCIDENT_MANAGER)
RESPONDER = Actor("bob", Role.RESPONDER)


def _fill(store: Store, log: LogBuilder) -> list[list[Pending]]:
    """Append three batches of real commands (11 events over two incidents); return them."""
    batches = [
        [
            log.pending(
                MANAGER, "c1", DeclareIncident(title="Checkout down", severity=Severity.SEV1)
            ),
            log.pending(
                RESPONDER, "c1", DeclareIncident(title="Slow search", severity=Severity.SEV3)
            ),
        ],
        [
            log.pending(RESPONDER, "c2", AddNote(incident="INC-1", text="500s from payments")),
            log.pending(MANAGER, "c2", AddAction(incident="INC-1", text="roll back", owner="bob")),
            log.pending(MANAGER, "c3", AddApp(incident="INC-1", app="checkout")),
            log.pending(RESPONDER, "c3", AddNote(incident="INC-2", text='ünïcode ✓ "quoted"')),
        ],
        [
            log.pending(MANAGER, "c4", ChangeStatus(incident="INC-1", status=Status.IDENTIFIED)),
            log.pending(MANAGER, "c5", ChangeSeverity(incident="INC-2", severity=Severity.SEV2)),
            log.pending(
                MANAGER,
                "c6",
                SetImpact(incident="INC-1", statement="No one can pay", base_version=0),
            ),
            log.pending(RESPONDER, "c4", AddMitigation(incident="INC-1", text="use the app")),
            log.pending(
                MANAGER, "c7", AddNote(incident="INC-1", text="rollback done", pinned=True)
            ),
        ],
    ]
    for batch in batches:
        store.log.append(batch)
    return batches


# The log --------------------------------------------------------------------------------------


def test_an_empty_store_has_head_0_and_no_events(store: Store) -> None:
    assert store.log.head() == 0
    assert store.log.read() == []
    assert store.log.read_raw() == []
    assert store.log.find_command(MANAGER.name, "c1") is None


def test_append_numbers_the_log_without_gaps_and_reads_back_the_same_events(
    store: Store, log_builder: LogBuilder
) -> None:
    _fill(store, log_builder)

    envelopes = store.log.read()

    assert [item.seq for item in envelopes] == list(range(1, 12))
    assert envelopes == [Envelope(seq, event) for seq, event, _ in log_builder.events]
    assert store.log.read_raw() == [(seq, encoded) for seq, _, encoded in log_builder.events]
    assert [protocol.load_event(data) for _, data in store.log.read_raw()] == [
        event for _, event, _ in log_builder.events
    ]


def test_head_is_the_seq_of_the_newest_event(store: Store, log_builder: LogBuilder) -> None:
    store.log.append(
        [log_builder.pending(MANAGER, "a", DeclareIncident(title="x", severity=Severity.SEV4))]
    )
    assert store.log.head() == 1
    _fill(store, log_builder)
    assert store.log.head() == 12 == log_builder.head


def test_read_after_and_limit(store: Store, log_builder: LogBuilder) -> None:
    _fill(store, log_builder)

    assert [item.seq for item in store.log.read(after=4)] == list(range(5, 12))
    assert [item.seq for item in store.log.read(after=4, limit=2)] == [5, 6]
    assert store.log.read(after=11) == []


def test_read_raw_pages_through_the_whole_log(store: Store, log_builder: LogBuilder) -> None:
    _fill(store, log_builder)
    expected = [(seq, encoded) for seq, _, encoded in log_builder.events]

    pages: list[list[tuple[int, str]]] = []
    after = 0
    while page := store.log.read_raw(after=after, limit=3):
        pages.append(page)
        after = page[-1][0]

    assert [len(page) for page in pages] == [3, 3, 3, 2]
    assert [row for page in pages for row in page] == expected


def test_read_raw_upto_bounds_the_page(store: Store, log_builder: LogBuilder) -> None:
    _fill(store, log_builder)
    expected = [(seq, encoded) for seq, _, encoded in log_builder.events]

    assert store.log.read_raw(upto=4) == expected[:4]
    assert store.log.read_raw(after=2, upto=7) == expected[2:7]
    assert store.log.read_raw(after=2, limit=10, upto=5) == expected[2:5]
    assert store.log.read_raw(after=2, limit=2, upto=9) == expected[2:4]
    assert store.log.read_raw(after=5, upto=5) == []
    assert store.log.read_raw(after=7, upto=3) == []
    assert store.log.read_raw(after=11) == []
    assert store.log.read_raw(after=0, upto=100) == expected
    assert store.log.read_raw(limit=0) == []


def test_read_incident_pages_through_one_incidents_events_only(
    store: Store, log_builder: LogBuilder
) -> None:
    _fill(store, log_builder)
    ours = [
        (seq, encoded) for seq, event, encoded in log_builder.events if event.incident == "INC-1"
    ]
    theirs = [(seq, enc) for seq, event, enc in log_builder.events if event.incident == "INC-2"]
    assert [seq for seq, _ in ours] == [1, 3, 4, 5, 7, 9, 10, 11]

    assert store.log.read_incident("INC-1") == ours
    assert store.log.read_incident("INC-2") == theirs
    pages: list[list[tuple[int, str]]] = []
    after = 0
    while page := store.log.read_incident("INC-1", after=after, limit=3):
        pages.append(page)
        after = page[-1][0]
    assert [len(page) for page in pages] == [3, 3, 2]
    assert [row for page in pages for row in page] == ours
    assert store.log.read_incident("INC-1", after=4, upto=9) == ours[3:6]
    assert store.log.read_incident("INC-1", after=5, limit=1, upto=100) == ours[4:5]
    assert store.log.read_incident("INC-1", after=11) == []
    assert store.log.read_incident("INC-1", limit=0) == []
    # Ids are matched exactly, as the log spells them.
    assert store.log.read_incident("INC-3") == store.log.read_incident("inc-1") == []


def test_find_command_returns_the_last_seq_of_a_committed_command(
    store: Store, log_builder: LogBuilder
) -> None:
    _fill(store, log_builder)
    # A command that caused two events: the store remembers the seq of the last one.
    first = log_builder.pending(MANAGER, "x", AddNote(incident="INC-2", text="one"))
    second = log_builder.pending(MANAGER, "x", AddNote(incident="INC-2", text="two"))
    store.log.append([Pending(MANAGER.name, "multi", [*first.events, *second.events])])

    assert store.log.find_command(MANAGER.name, "c1") == 1
    assert store.log.find_command(RESPONDER.name, "c1") == 2
    assert store.log.find_command(RESPONDER.name, "c3") == 6
    assert store.log.find_command(MANAGER.name, "c7") == 11
    assert store.log.find_command(MANAGER.name, "multi") == 13


def test_find_command_is_none_for_an_unknown_command(store: Store, log_builder: LogBuilder) -> None:
    _fill(store, log_builder)

    assert store.log.find_command(MANAGER.name, "nope") is None
    assert store.log.find_command("carol", "c1") is None  # ids belong to their actor
    assert store.log.find_command(RESPONDER.name, "c7") is None


def test_a_batch_reusing_a_committed_command_id_commits_nothing(
    store: Store, log_builder: LogBuilder
) -> None:
    _fill(store, log_builder)
    before = store.log.read_raw()
    point = log_builder.mark()
    fresh = log_builder.pending(MANAGER, "fresh", AddNote(incident="INC-1", text="new"))
    retried = log_builder.pending(RESPONDER, "c2", AddNote(incident="INC-1", text="again"))
    also_fresh = log_builder.pending(MANAGER, "fresh-2", AddNote(incident="INC-2", text="new"))

    with pytest.raises(StoreError):
        store.log.append([fresh, retried, also_fresh])

    assert store.log.head() == 11
    assert store.log.read_raw() == before
    assert store.log.find_command(MANAGER.name, "fresh") is None
    assert store.log.find_command(MANAGER.name, "fresh-2") is None
    assert store.log.find_command(RESPONDER.name, "c2") == 3

    # The store is still usable, and the log goes on from where it was: no gap.
    log_builder.rewind(point)
    store.log.append([log_builder.pending(MANAGER, "fresh", AddNote(incident="INC-1", text="new"))])
    assert [seq for seq, _ in store.log.read_raw()] == list(range(1, 13))
    assert store.log.find_command(MANAGER.name, "fresh") == 12


def test_a_batch_repeating_a_command_id_within_itself_commits_nothing(
    store: Store, log_builder: LogBuilder
) -> None:
    _fill(store, log_builder)
    one = log_builder.pending(MANAGER, "same", AddNote(incident="INC-1", text="one"))
    two = log_builder.pending(MANAGER, "same", AddNote(incident="INC-1", text="two"))

    with pytest.raises(StoreError):
        store.log.append([one, two])

    assert store.log.head() == 11
    assert store.log.find_command(MANAGER.name, "same") is None


def test_a_batch_reusing_a_committed_seq_commits_nothing(
    store: Store, log_builder: LogBuilder
) -> None:
    _fill(store, log_builder)
    before = store.log.read_raw()
    log_builder.rewind((log_builder.world, 10, len(log_builder.events)))  # seq 11 again
    clash = log_builder.pending(MANAGER, "clash", AddNote(incident="INC-1", text="clash"))

    with pytest.raises(StoreError):
        store.log.append([clash])

    assert store.log.read_raw() == before
    assert store.log.find_command(MANAGER.name, "clash") is None


def test_the_same_command_id_is_free_for_another_actor(
    store: Store, log_builder: LogBuilder
) -> None:
    _fill(store, log_builder)
    store.log.append(
        [
            log_builder.pending(
                Actor("carol", Role.RESPONDER), "c1", AddApp(incident="INC-2", app="search")
            )
        ]
    )

    assert store.log.find_command("carol", "c1") == 12


def test_everything_survives_closing_and_reopening(store_url: str, log_builder: LogBuilder) -> None:
    first = Store(open_engine(store_url))
    _fill(first, log_builder)
    token = first.users.add("alice", Role.INCIDENT_MANAGER)
    first.users.add("sam", Role.STAKEHOLDER, groups=["exec"])
    first.users.add("gone", Role.OBSERVER)
    first.users.revoke("gone")
    expected_raw = first.log.read_raw()
    expected_users = first.users.all()
    first.close()

    reopened = Store(open_engine(store_url))
    try:
        assert reopened.log.head() == 11
        assert reopened.log.read_raw() == expected_raw
        assert reopened.log.read() == [Envelope(seq, event) for seq, event, _ in log_builder.events]
        assert reopened.log.find_command(MANAGER.name, "c7") == 11
        assert reopened.users.all() == expected_users
        assert [user.name for user in reopened.users.all()] == ["alice", "gone", "sam"]
        assert reopened.users.authenticate(token) == Actor("alice", Role.INCIDENT_MANAGER)
        # The reopened log goes on without a gap.
        reopened.log.append(
            [log_builder.pending(MANAGER, "after", AddNote(incident="INC-1", text="later"))]
        )
        assert [seq for seq, _ in reopened.log.read_raw()] == list(range(1, 13))
    finally:
        reopened.close()


# Users ----------------------------------------------------------------------------------------


def test_add_user_returns_a_token_that_authenticates_the_user(store: Store) -> None:
    token = store.users.add("alice", Role.INCIDENT_MANAGER)
    other = store.users.add("bob", Role.RESPONDER)

    assert isinstance(token, str)
    assert len(token) >= 32
    assert token != other
    assert store.users.authenticate(token) == Actor("alice", Role.INCIDENT_MANAGER, frozenset())
    assert store.users.authenticate(other) == Actor("bob", Role.RESPONDER)


def test_a_stakeholder_authenticates_with_their_groups(store: Store) -> None:
    token = store.users.add("sam", Role.STAKEHOLDER, groups=["Exec", "eu-ops", "exec"])

    actor = store.users.authenticate(token)

    assert actor == Actor("sam", Role.STAKEHOLDER, frozenset({"exec", "eu-ops"}))


def test_a_wrong_token_authenticates_nobody(store: Store) -> None:
    token = store.users.add("alice", Role.INCIDENT_MANAGER)

    assert store.users.authenticate("not-a-token") is None
    assert store.users.authenticate("") is None
    assert store.users.authenticate(token[:-1]) is None
    assert store.users.authenticate(token + "x") is None


def test_the_token_itself_is_not_stored(store: Store) -> None:
    token = store.users.add("alice", Role.INCIDENT_MANAGER)

    with store.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT * FROM users").all()

    assert rows
    assert all(token not in str(value) for row in rows for value in row)


def test_a_revoked_user_no_longer_authenticates(store: Store) -> None:
    token = store.users.add("alice", Role.INCIDENT_MANAGER)
    kept = store.users.add("bob", Role.RESPONDER)

    store.users.revoke("alice")

    assert store.users.authenticate(token) is None
    assert store.users.authenticate(kept) == Actor("bob", Role.RESPONDER)
    with pytest.raises(StoreError):
        store.users.revoke("alice")  # no longer active
    with pytest.raises(StoreError):
        store.users.revoke("nobody")


def test_a_duplicate_user_name_is_refused(store: Store) -> None:
    token = store.users.add("alice", Role.INCIDENT_MANAGER)

    with pytest.raises(StoreError, match="already exists"):
        store.users.add("alice", Role.OBSERVER)
    with pytest.raises(StoreError, match="already exists"):
        store.users.add("  alice ", Role.OBSERVER)  # names are stripped

    assert store.users.authenticate(token) == Actor("alice", Role.INCIDENT_MANAGER)
    assert len(store.users.all()) == 1


def test_a_revoked_name_stays_taken(store: Store) -> None:
    store.users.add("alice", Role.INCIDENT_MANAGER)
    store.users.revoke("alice")

    with pytest.raises(StoreError):
        store.users.add("alice", Role.INCIDENT_MANAGER)


@pytest.mark.parametrize("role", [Role.INCIDENT_MANAGER, Role.RESPONDER, Role.OBSERVER])
def test_only_stakeholders_have_groups(store: Store, role: Role) -> None:
    with pytest.raises(StoreError, match="stakeholder"):
        store.users.add("alice", role, groups=["exec"])

    assert store.users.all() == []


@pytest.mark.parametrize("name", ["", "   ", "two words", "x" * 81, "tab\there"])
def test_a_malformed_user_name_is_refused(store: Store, name: str) -> None:
    with pytest.raises(StoreError, match="bad user name"):
        store.users.add(name, Role.RESPONDER)

    assert store.users.all() == []


@pytest.mark.parametrize("group", ["all", "internal", "-dash", "no spaces", "x" * 41])
def test_a_malformed_group_is_refused(store: Store, group: str) -> None:
    with pytest.raises(StoreError):
        store.users.add("sam", Role.STAKEHOLDER, groups=[group])

    assert store.users.all() == []


def test_users_lists_every_user_in_name_order(store: Store) -> None:
    store.users.add("carol", Role.OBSERVER)
    store.users.add("alice", Role.INCIDENT_MANAGER)
    store.users.add("sam", Role.STAKEHOLDER, groups=["exec", "eu"])
    store.users.add("bob", Role.RESPONDER)
    store.users.revoke("carol")

    users = store.users.all()

    assert [(user.name, user.role, user.groups, user.revoked) for user in users] == [
        ("alice", Role.INCIDENT_MANAGER, (), False),
        ("bob", Role.RESPONDER, (), False),
        ("carol", Role.OBSERVER, (), True),
        ("sam", Role.STAKEHOLDER, ("eu", "exec"), False),
    ]
    assert all(isinstance(user, User) and user.created_at for user in users)


def test_states_of_reads_the_users_named_as_they_are_now(store: Store) -> None:
    store.users.add("alice", Role.INCIDENT_MANAGER)
    store.users.add("sam", Role.STAKEHOLDER, groups=["exec", "eu"])
    store.users.add("carol", Role.OBSERVER)
    store.users.revoke("carol")
    store.users.add("dave", Role.RESPONDER)
    names = ["sam", "carol", "nobody", "alice", "sam"]
    expected = {
        "alice": Actor("alice", Role.INCIDENT_MANAGER),
        "carol": None,
        "nobody": None,
        "sam": Actor("sam", Role.STAKEHOLDER, frozenset({"exec", "eu"})),
    }

    assert store.users.states_of(names) == expected
    with store.engine.begin() as connection:  # as the writer checks them inside its commit
        assert store.users.states_of(names, connection) == expected
    assert store.users.states_of([]) == {}


# SQLite specifics -----------------------------------------------------------------------------


def test_sqlite_file_is_in_wal_mode_with_synchronous_full(
    sqlite_url: str, log_builder: LogBuilder
) -> None:
    store = Store(open_engine(sqlite_url))
    try:
        store.log.append(
            [log_builder.pending(MANAGER, "a", DeclareIncident(title="x", severity=Severity.SEV4))]
        )
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        path = Path(sqlite_url.removeprefix("sqlite:///"))
        assert path.is_file()
        raw = sqlite3.connect(path)
        try:
            # WAL is a property of the file: a fresh connection without pragmas sees it.
            assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert raw.execute("SELECT count(*) FROM events").fetchone()[0] == 1
        finally:
            raw.close()
    finally:
        store.close()


def test_sqlite_store_accepts_a_plain_path_and_creates_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "deeper" / "war.db"
    store = Store(open_engine(str(path)))
    try:
        assert store.engine.url.database == str(path)
        assert store.log.head() == 0
        assert path.is_file()
    finally:
        store.close()


# Odd text -------------------------------------------------------------------------------------


def test_control_characters_in_event_text_round_trip(store: Store, log_builder: LogBuilder) -> None:
    store.log.append(
        [log_builder.pending(MANAGER, "d", DeclareIncident(title="x", severity=Severity.SEV4))]
    )
    text = 'nul\x00 tab\t bell\x07 newline\n emoji \U0001f525 backslash\\ quote"'
    # decide refuses such text now; a log written by an older warroom may still hold it.
    ((seq, clean, _),) = log_builder.pending(
        MANAGER, "n", AddNote(incident="INC-1", text="x")
    ).events
    assert isinstance(clean, NoteAdded)
    odd = dataclasses.replace(clean, text=text)
    store.log.append([Pending(MANAGER.name, "n", [(seq, odd, protocol.event_json(odd))])])

    (_, note) = store.log.read()
    assert note.event == odd
    assert getattr(note.event, "text", None) == text


def test_append_of_a_command_id_with_nul_fails_only_with_store_error(
    store: Store, log_builder: LogBuilder
) -> None:
    """`append` documents StoreError for any failed transaction (the sequencer relies on it)."""
    _fill(store, log_builder)
    odd = log_builder.pending(MANAGER, "nul\x00id", AddNote(incident="INC-1", text="x"))

    try:
        store.log.append([odd])
    except StoreError:
        assert store.log.head() == 11  # nothing of the batch was committed
    else:
        assert store.log.find_command(MANAGER.name, "nul\x00id") == 12


def test_add_user_with_nul_in_the_name_fails_only_with_store_error(
    store: Store,
) -> None:
    """`add_user` documents StoreError for a malformed name (the CLI catches only that)."""
    for name in ("nul\x00name", "two words", "", "-dash-first", "x" * 81):
        with pytest.raises(StoreError):
            store.users.add(name, Role.RESPONDER)
    assert store.users.all() == []


def test_a_secret_is_made_once_and_kept_across_reopening(store_url: str) -> None:
    first = Store(open_engine(store_url))
    try:
        made = first.secrets.get("disclosure")
        assert len(made) == 32
        assert first.secrets.get("disclosure") == made
        assert first.secrets.get("another") != made
    finally:
        first.close()
    reopened = Store(open_engine(store_url))
    try:
        # Stakeholders' cursors are sealed with it: they must open after a restart.
        assert reopened.secrets.get("disclosure") == made
    finally:
        reopened.close()

"""The wire format: every way a frame is refused, and round trips of good frames."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import TypeAdapter

from warroom.core import commands as c
from warroom.core import events as e
from warroom.core import json_forms, protocol
from warroom.core.domain import Confidence, Severity, Status
from warroom.core.rejections import EtaConflict, ImpactConflict
from warroom.core.summary import IncidentSummary

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def submit_data(command: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "submit",
        "v": 1,
        "id": "cmd-1",
        "command": command
        if command is not None
        else {"type": "status.change", "incident": "INC-1", "status": "identified"},
    }
    data.update(extra)
    return data


def code_of(text: str | bytes, server: bool = False) -> str:
    decode = protocol.decode_server if server else protocol.decode_client
    with pytest.raises(protocol.ProtocolError) as info:
        decode(text)
    assert info.value.message
    assert str(info.value) == info.value.message
    return info.value.code


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "bad-frame"),
        ("", "bad-frame"),
        ("[1, 2]", "bad-frame"),
        ('"hello"', "bad-frame"),
        ("42", "bad-frame"),
        ("null", "bad-frame"),
        (json.dumps({"type": "hello", "v": 2}), "bad-version"),
        (json.dumps({"type": "hello", "v": "1"}), "bad-version"),
        (json.dumps({"type": "hello"}), "bad-version"),
        (json.dumps({"type": "goodbye", "v": 1}), "unknown-type"),
        (json.dumps({"v": 1}), "unknown-type"),
        (json.dumps({"type": "welcome", "v": 1, "user": "u", "role": "r", "head": 0}),
         "unknown-type"),
        (json.dumps(submit_data({"type": "status.change", "incident": "INC-1",
                                 "status": "exploded"})), "invalid"),
        (json.dumps(submit_data({"type": "incident.declare", "title": "t",
                                 "severity": "SEV9"})), "invalid"),
        (json.dumps(submit_data({"type": "no.such", "incident": "INC-1"})), "invalid"),
        (json.dumps(submit_data({"type": "note.add", "incident": "INC-1", "text": "x",
                                 "occurred_at": "2026-11-27T12:00:00"})), "invalid"),
        (json.dumps(submit_data(id="")), "invalid"),
        (json.dumps(submit_data(id="x" * (protocol.MAX_COMMAND_ID + 1))), "invalid"),
        (json.dumps(submit_data(id="two words")), "invalid"),
        (json.dumps(submit_data(id="nul\x00id")), "invalid"),
        (json.dumps({"type": "submit", "v": 1, "id": "c"}), "invalid"),
        (json.dumps({"type": "hello", "v": 1, "cursor": "soon"}), "invalid"),
        ("x" * (protocol.MAX_FRAME + 1), "too-large"),
        (b'{"type": "hello", "v": 1}', "bad-frame"),
        (b"\x00\xff\xfe", "bad-frame"),
    ],
    ids=[
        "garbage", "empty", "array", "string", "number", "null",
        "version-2", "version-string", "no-version",
        "unknown-type", "no-type", "server-frame",
        "bad-status", "bad-severity", "unknown-command", "naive-time",
        "empty-id", "long-id", "id-with-space", "id-with-nul", "no-command", "bad-cursor",
        "too-large", "binary-json", "binary-garbage",
    ],
)  # fmt: skip
def test_decode_client_refuses(frame: str | bytes, code: str) -> None:
    assert code_of(frame) == code


def test_invalid_frame_message_names_the_field() -> None:
    frame = json.dumps(
        submit_data({"type": "status.change", "incident": "INC-1", "status": "exploded"})
    )
    with pytest.raises(protocol.ProtocolError) as info:
        protocol.decode_client(frame)
    assert info.value.message.startswith("invalid submit frame: command.status:")


def test_frame_size_is_counted_in_bytes() -> None:
    # 40 000 two-byte characters: fewer characters than MAX_FRAME, more bytes.
    text = "é" * 40_000
    frame = json.dumps(
        submit_data({"type": "note.add", "incident": "INC-1", "text": text}), ensure_ascii=False
    )
    assert len(frame) < protocol.MAX_FRAME < len(frame.encode())
    assert code_of(frame) == "too-large"


def test_frame_of_exactly_max_frame_bytes_is_read() -> None:
    empty = json.dumps(submit_data({"type": "note.add", "incident": "INC-1", "text": ""}))
    pad = protocol.MAX_FRAME - len(empty.encode())
    frame = json.dumps(submit_data({"type": "note.add", "incident": "INC-1", "text": "x" * pad}))
    assert len(frame.encode()) == protocol.MAX_FRAME
    decoded = protocol.decode_client(frame)
    assert isinstance(decoded, protocol.Submit)
    assert isinstance(decoded.command, c.AddNote)
    assert len(decoded.command.text) == pad
    assert code_of(frame[:-1] + " }") == "too-large"


def test_decode_server_refuses_client_frames() -> None:
    assert code_of(json.dumps({"type": "hello", "v": 1}), server=True) == "unknown-type"
    assert code_of(json.dumps({"type": "ack", "v": 1, "id": "x"}), server=True) == "invalid"
    assert code_of(b"{}", server=True) == "bad-frame"


COMMANDS: list[c.Command] = [
    c.DeclareIncident(title="Checkout failing", severity=Severity.SEV1, apps=("a", "b")),
    c.ChangeStatus(incident="INC-1", status=Status.RESOLVED),
    c.SetImpact(incident="INC-1", statement="s", customer_facing=True, base_version=3,
                audience="exec", force=True),
    c.SetEta(incident="INC-1", eta=NOW.astimezone(ZoneInfo("Europe/Paris")),
             confidence=Confidence.LOW, base_version=1),
    c.SetEta(incident="INC-1", eta=None, base_version=2),
    c.AddNote(incident="INC-1", text="ünïcode ✓ \"quoted\"\n", occurred_at=NOW, pinned=True,
              audience="all"),
    c.AssignAction(incident="INC-1", action=2, owner=None),
    c.AnswerQuestion(incident="INC-1", question=1, text="t", audience=None),
]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS, ids=lambda cmd: cmd.type)
def test_submit_round_trips(command: c.Command) -> None:
    frame = protocol.Submit(id="cmd-42", command=command)
    text = protocol.encode(frame)
    assert json.loads(text)["type"] == "submit"
    decoded = protocol.decode_client(text)
    assert decoded == frame
    assert isinstance(decoded, protocol.Submit)
    assert type(decoded.command) is type(command)


@pytest.mark.parametrize("cursor", [None, 0, 17])
@pytest.mark.parametrize("summary", [False, True])
def test_hello_round_trips(cursor: int | None, summary: bool) -> None:
    hello = protocol.Hello(cursor=cursor, summary=summary)
    assert protocol.decode_client(protocol.encode(hello)) == hello


def test_a_hello_without_summary_is_a_full_replay_as_before() -> None:
    hello = protocol.decode_client('{"type":"hello","v":1,"cursor":0}')
    assert isinstance(hello, protocol.Hello) and hello.summary is False


PlainServerFrame = (
    protocol.Welcome
    | protocol.Synced
    | protocol.Ack
    | protocol.RejectedFrame
    | protocol.ErrorFrame
    | protocol.SummaryFrame
    | protocol.IncidentGone
)
"""The server frames `protocol.encode` takes (event frames go through `encode_event`)."""

SERVER_FRAMES: list[PlainServerFrame] = [
    protocol.Welcome(user="ines", role="incident-manager", groups=("exec",), head=12),
    protocol.Synced(head=12),
    protocol.Ack(id="cmd-1", seq=13),
    protocol.RejectedFrame(id="cmd-2", code="forbidden", message="m"),
    protocol.RejectedFrame(
        id="cmd-3",
        code="conflict",
        message="m",
        current=ImpactConflict(version=2, statement="s", customer_facing=True, updated_by="bob"),
    ),
    protocol.RejectedFrame(
        id="cmd-4",
        code="conflict",
        message="m",
        current=EtaConflict(version=1, eta=NOW, confidence=Confidence.LOW, set_by="bob"),
    ),
    protocol.RejectedFrame(
        id="cmd-5",
        code="conflict",
        message="m",
        current=EtaConflict(version=0, eta=None, confidence=None, set_by=None),
    ),
    protocol.ErrorFrame(code="bad-frame", message="m"),
    protocol.SummaryFrame(
        summary=IncidentSummary(
            id="INC-P3",
            title='say "hi" \x1b[2J',
            severity=Severity.SEV1,
            status=Status.MONITORING,
            declared_at=NOW,
            private=True,
            apps=("web", "api"),
            eta=NOW + timedelta(hours=1),
            open_questions=3,
            updated_at=NOW,
            groups=("exec",),
        )
    ),
    protocol.IncidentGone(incident="INC-P3"),
]


@pytest.mark.parametrize("frame", SERVER_FRAMES, ids=lambda f: f.type)
def test_server_frames_round_trip(frame: PlainServerFrame) -> None:
    assert protocol.decode_server(protocol.encode(frame)) == frame


def _rejected(current: Any) -> str:
    frame = {"type": "rejected", "v": 1, "id": "c", "code": "conflict", "message": "m"}
    return json.dumps({**frame, "current": current})


def test_a_conflict_is_tagged_on_the_wire_and_read_back_typed() -> None:
    wire = _rejected(
        {"type": "eta.conflict", "version": 1, "eta": "2026-11-27T12:00:00+00:00",
         "confidence": "low", "set_by": "bob"}
    )  # fmt: skip
    frame = protocol.decode_server(wire)
    assert isinstance(frame, protocol.RejectedFrame)
    assert frame.current == EtaConflict(version=1, eta=NOW, confidence=Confidence.LOW, set_by="bob")
    assert json.loads(protocol.encode(frame)) == json.loads(wire)


@pytest.mark.parametrize(
    ("current", "where"),
    [
        ({"version": 2, "statement": "s", "customer_facing": False, "updated_by": None}, "current"),
        ({"type": "severity.conflict", "version": 2}, "current"),
        ({"type": "impact.conflict", "version": 2, "statement": "s"}, "current.customer_facing"),
        ({"type": "eta.conflict", "version": 1, "eta": "2026-11-27T12:00:00", "confidence": None,
          "set_by": None}, "current.eta"),
    ],
)  # fmt: skip
def test_a_malformed_conflict_is_refused(current: dict[str, Any], where: str) -> None:
    with pytest.raises(protocol.ProtocolError) as info:
        protocol.decode_server(_rejected(current))
    assert info.value.code == "invalid"
    assert info.value.message.startswith(f"invalid rejected frame: {where}: ")


def test_conflict_data_is_the_current_value_alone_as_json_output_shows_it() -> None:
    impact = ImpactConflict(version=2, statement="s", customer_facing=True, updated_by="bob")
    eta = EtaConflict(version=1, eta=NOW, confidence=Confidence.LOW, set_by="bob")
    assert json.dumps(json_forms.conflict_data(impact)) == (
        '{"version": 2, "statement": "s", "customer_facing": true, "updated_by": "bob", '
        '"audience": "internal"}'
    )
    assert json.dumps(json_forms.conflict_data(eta)) == (
        '{"version": 1, "eta": "2026-11-27T12:00:00+00:00", "confidence": "low", "set_by": "bob"}'
    )


EVENTS: list[e.Event] = [
    e.IncidentDeclared(incident="INC-1", actor="ines", at=NOW, title="t",
                       severity=Severity.SEV2, apps=("web",), manager="ines"),
    e.EtaSet(incident="INC-1", actor="ines", at=NOW, eta=NOW + timedelta(hours=1),
             confidence=Confidence.HIGH, version=1, forced=True),
    e.NoteAdded(incident="INC-1", actor="rob", at=NOW, note=3, text="x\ny",
                occurred_at=NOW - timedelta(minutes=5), audience="exec,support"),
    e.QuestionAnswered(incident="INC-1", actor="ines", at=NOW, question=1, text="a",
                       question_text="q", audience=None),
]  # fmt: skip


@pytest.mark.parametrize("event", EVENTS, ids=lambda ev: ev.type)
def test_encode_event_is_read_back_as_an_event_frame(event: e.Event) -> None:
    text = protocol.encode_event(41, protocol.event_json(event))
    frame = protocol.decode_server(text)
    assert isinstance(frame, protocol.EventFrame)
    assert frame.seq == 41
    assert frame.event == event
    assert type(frame.event) is type(event)
    sealed = protocol.decode_server(
        protocol.encode_event("c0123456789abcdef", protocol.event_json(event))
    )
    assert isinstance(sealed, protocol.EventFrame)
    assert (sealed.seq, sealed.event) == ("c0123456789abcdef", event)


@pytest.mark.parametrize("event", EVENTS, ids=lambda ev: ev.type)
def test_event_json_round_trips_and_event_data_matches(event: e.Event) -> None:
    text = protocol.event_json(event)
    assert protocol.load_event(text) == event
    assert protocol.load_event(text.encode()) == event
    assert json.loads(text) == json_forms.event_data(event)
    assert json_forms.event_data(event)["type"] == event.type


# Reading one incident -------------------------------------------------------------------------


def read_data(**extra: Any) -> str:
    return json.dumps({"type": "read", "v": 1, "id": "r-1", "incident": "INC-7", **extra})


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (json.dumps({"type": "read", "v": 1, "incident": "INC-7"}), "invalid"),
        (read_data(id=""), "invalid"),
        (read_data(id="two words"), "invalid"),
        (read_data(id="é"), "invalid"),
        (read_data(id="x" * (protocol.MAX_COMMAND_ID + 1)), "invalid"),
        (read_data(id=7), "invalid"),
        (json.dumps({"type": "read", "v": 1, "id": "r-1"}), "invalid"),
        (read_data(incident=""), "invalid"),
        (read_data(incident="I" * (protocol.MAX_INCIDENT_ID + 1)), "invalid"),
        (read_data(incident=["INC-7"]), "invalid"),
        (read_data(v=2), "bad-version"),
        (json.dumps({"type": "read.done", "v": 1, "id": "r-1", "incident": "INC-7", "head": 3}),
         "unknown-type"),
    ],
    ids=[
        "no-id", "empty-id", "id-with-space", "non-ascii-id", "long-id", "number-id",
        "no-incident", "empty-incident", "long-incident", "incident-list", "version-2",
        "server-frame",
    ],
)  # fmt: skip
def test_decode_client_refuses_a_bad_read(frame: str, code: str) -> None:
    assert code_of(frame) == code


def test_a_bad_read_names_the_field() -> None:
    with pytest.raises(protocol.ProtocolError) as info:
        protocol.decode_client(read_data(id="two words"))
    assert info.value.message.startswith("invalid read frame: id:")


@pytest.mark.parametrize("ident", ["r-1", 'quote"d', "back\\slash", "x" * protocol.MAX_COMMAND_ID])
def test_read_round_trips(ident: str) -> None:
    read = protocol.Read(id=ident, incident="INC-P3")
    assert protocol.decode_client(protocol.encode(read)) == read


@pytest.mark.parametrize("head", [12, "c0123456789abcdef"])
def test_read_done_round_trips(head: int | str) -> None:
    done = protocol.ReadDone(id="r-1", incident="INC-7", head=head)
    assert protocol.decode_server(protocol.encode(done)) == done


def test_decode_server_refuses_a_read_and_a_bad_read_answer() -> None:
    assert code_of(read_data(), server=True) == "unknown-type"
    no_event = json.dumps({"type": "read.event", "v": 1, "id": "r-1", "seq": 3})
    assert code_of(no_event, server=True) == "invalid"
    bad_position = json.dumps(
        {"type": "read.done", "v": 1, "id": "r-1", "incident": "INC-7", "head": "soon"}
    )
    assert code_of(bad_position, server=True) == "invalid"


@pytest.mark.parametrize("event", EVENTS, ids=lambda ev: ev.type)
@pytest.mark.parametrize("ident", ["r-1", 'quote"d', "back\\slash"])
def test_a_read_event_is_still_read_one_event_to_a_frame(event: e.Event, ident: str) -> None:
    for position in (41, "c0123456789abcdef"):
        sent = protocol.ReadEvent(id=ident, seq=position, event=event)
        frame = protocol.decode_server(protocol.encode(sent))
        assert frame == sent
        assert type(frame.event) is type(event)
        assert protocol.events_of(sent) == (protocol.EventFrame(seq=position, event=event),)


@pytest.mark.parametrize("ident", ["n-1", 'quote"d', "back\\slash", "line\u2028sep", "x" * 128])
@pytest.mark.parametrize("position", [41, "c0123456789abcdef"])
def test_encode_ack_reads_back_as_the_ack_encode_writes(ident: str, position: int | str) -> None:
    text = protocol.encode_ack(ident, position)
    ack = protocol.Ack(id=ident, seq=position)
    assert protocol.decode_server(text) == ack
    assert json.loads(text) == json.loads(protocol.encode(ack))


@pytest.mark.parametrize("command", COMMANDS, ids=lambda s: type(s).__name__)
def test_a_command_is_encoded_to_the_bytes_its_union_writes(command: c.Command) -> None:
    assert protocol.command_json(command) == TypeAdapter(c.Command).dump_json(command)


@pytest.mark.parametrize("event", EVENTS, ids=lambda s: type(s).__name__)
def test_an_event_is_encoded_to_the_bytes_its_union_writes(event: e.Event) -> None:
    assert protocol.event_json(event).encode() == TypeAdapter(e.Event).dump_json(event)


@pytest.mark.parametrize("frame", SERVER_FRAMES, ids=lambda f: f.type)
def test_a_server_frame_is_read_and_written_by_its_class_as_the_union_would(
    frame: PlainServerFrame,
) -> None:
    # The wire's union, built here only: the module reads and writes a frame by its own class.
    union: TypeAdapter[Any] = TypeAdapter(protocol.ServerFrame)
    wire = protocol.encode(frame)
    assert wire == union.dump_json(frame).decode()
    assert protocol.decode_server(wire) == union.validate_json(wire)


def test_a_client_frame_is_read_and_written_by_its_class_as_the_union_would() -> None:
    union: TypeAdapter[Any] = TypeAdapter(protocol.ClientFrame)
    frames: list[protocol.ClientFrameType] = [
        protocol.Hello(cursor=3),
        protocol.Submit(id="c-1", command=c.AddNote(incident="INC-1", text="hi \x1b[2J")),
        protocol.View(incident="INC-1"),
    ]
    for frame in frames:
        wire = protocol.encode(frame)
        assert wire == union.dump_json(frame).decode()
        assert protocol.decode_client(wire) == union.validate_json(wire)
    broken = json.dumps(submit_data({"type": "note.add", "incident": "INC-1"}))
    with pytest.raises(protocol.ProtocolError) as info:
        protocol.decode_client(broken)
    assert str(info.value) == "invalid submit frame: command.text: Field required"


# Many events to a frame -----------------------------------------------------------------------


def _notes(count: int, text: str) -> list[tuple[int | str, str]]:
    """`count` notes with `text`, encoded, at positions 1.. (sealed cursors for even ones)."""
    return [
        (
            f"c{seq:016x}" if seq % 2 == 0 else seq,
            protocol.event_json(
                e.NoteAdded(
                    incident="INC-1", actor="rob", at=NOW, note=seq, text=text, occurred_at=NOW
                )
            ),
        )
        for seq in range(1, count + 1)
    ]


def _parts(frames: list[str]) -> list[tuple[int | str, e.Event]]:
    """The events of `events` frames, decoded, in order."""
    parts: list[tuple[int | str, e.Event]] = []
    for text in frames:
        frame = protocol.decode_server(text)
        assert isinstance(frame, protocol.EventsFrame)
        parts += [(part.seq, part.event) for part in frame.events]
    return parts


@pytest.mark.parametrize("text", ["plain ascii " * 40, "é ✓ 𝄞 " * 40], ids=["ascii", "multibyte"])
def test_events_are_packed_in_order_and_each_frame_is_full_before_the_next(text: str) -> None:
    events = _notes(600, text)
    frames = protocol.encode_events(events)
    assert 1 < len(frames) < len(events)
    assert _parts(frames) == [(seq, protocol.load_event(encoded)) for seq, encoded in events]
    sizes = [len(frame.encode()) for frame in frames]
    assert max(sizes) <= protocol.MAX_FRAME
    # A frame was closed only because its next event would not fit: one more and it would pass.
    taken = 0
    for frame, size in zip(frames[:-1], sizes, strict=False):
        taken += len(protocol.decode_server(frame).events)  # type: ignore[union-attr]
        seq, encoded = events[taken]
        place = json.dumps(seq)
        assert size + len(f',{{"seq":{place},"event":{encoded}}}'.encode()) > protocol.MAX_FRAME


def test_an_event_too_large_for_a_frame_goes_in_one_of_its_own() -> None:
    small = _notes(3, "small")
    (large,) = _notes(1, "x" * protocol.MAX_FRAME)
    frames = protocol.encode_events([*small[:2], (7, large[1]), small[2]])
    assert [len(protocol.decode_server(f).events) for f in frames[::2]] == [2, 1]  # type: ignore[union-attr]
    assert len(frames) == 3 and len(frames[1].encode()) > protocol.MAX_FRAME
    assert json.loads(frames[1])["events"] == [{"seq": 7, "event": json.loads(large[1])}]
    assert protocol.encode_events([]) == []


@pytest.mark.parametrize("ident", ["r-1", 'quote"d', "back\\slash"])
def test_read_events_are_packed_and_read_back_with_their_read(ident: str) -> None:
    events = _notes(300, "a note of some length " * 20)
    frames = protocol.encode_read_events(ident, events)
    assert 1 < len(frames) < len(events)
    parts: list[tuple[int | str, e.Event]] = []
    for text in frames:
        assert len(text.encode()) <= protocol.MAX_FRAME
        frame = protocol.decode_server(text)
        assert isinstance(frame, protocol.ReadEvents) and frame.id == ident
        parts += [(part.seq, part.event) for part in frame.events]
    assert parts == [(seq, protocol.load_event(encoded)) for seq, encoded in events]


def test_batch_frames_round_trip_through_encode() -> None:
    parts = tuple(protocol.EventPart(seq=n, event=event) for n, event in enumerate(EVENTS, 1))
    for frame in (
        protocol.EventsFrame(events=parts),
        protocol.ReadEvents(id="r-1", events=parts),
    ):
        assert protocol.decode_server(protocol.encode(frame)) == frame
        assert protocol.events_of(frame) == tuple(
            protocol.EventFrame(seq=part.seq, event=part.event) for part in parts
        )


def _batch(**extra: Any) -> str:
    event = json.loads(protocol.event_json(EVENTS[0]))
    return json.dumps({"type": "events", "v": 1, "events": [{"seq": 1, "event": event}], **extra})


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (_batch(events=[]), "invalid"),
        (_batch(events=None), "invalid"),
        (json.dumps({"type": "events", "v": 1}), "invalid"),
        (_batch(events=[{"seq": 1}]), "invalid"),
        (_batch(events=[{"event": json.loads(protocol.event_json(EVENTS[0]))}]), "invalid"),
        (_batch(events=[{"seq": "soon", "event": json.loads(protocol.event_json(EVENTS[0]))}]),
         "invalid"),
        (_batch(events=[{"seq": 1, "event": {"type": "note.added"}}]), "invalid"),
        (_batch(events=[{"seq": 1, "event": {"type": "no.such"}}]), "invalid"),
        (_batch(type="read.events"), "invalid"),
        (_batch(v=2), "bad-version"),
        (_batch(events=[{"seq": 1, "event": {"type": "x", "text": "y" * protocol.MAX_FRAME}}]),
         "too-large"),
    ],
    ids=[
        "empty", "null", "no-events", "no-event", "no-seq", "bad-position", "bad-event",
        "unknown-event", "read-without-id", "version-2", "too-large",
    ],
)  # fmt: skip
def test_a_bad_batch_frame_is_refused_with_a_typed_error(frame: str, code: str) -> None:
    assert code_of(frame, server=True) == code


def test_a_client_never_sends_a_batch_frame() -> None:
    assert isinstance(protocol.decode_server(_batch()), protocol.EventsFrame)
    assert code_of(_batch()) == "unknown-type"
    assert code_of(_batch(type="read.events", id="r-1")) == "unknown-type"


def test_a_bad_batch_frame_names_the_event_at_fault() -> None:
    event = json.loads(protocol.event_json(EVENTS[0]))
    frame = _batch(events=[{"seq": 1, "event": event}, {"seq": 2}])
    with pytest.raises(protocol.ProtocolError) as info:
        protocol.decode_server(frame)
    assert info.value.message.startswith("invalid events frame: events.1.event:")

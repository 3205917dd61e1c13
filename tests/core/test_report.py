"""The post-mortem: the scripted incident renders to the committed documents byte for byte, an
audience's version holds nothing kept from it, the document is CommonMark whose structure no
user text can change, and its facts (durations, punctuality, response times) are the log's.

Regenerate the committed documents, after a change meant to alter them, with
`WARROOM_REGENERATE_GOLDEN=1 python -m pytest tests/core/test_report.py`, and read the diff.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from tests.kit.hostile import AUTHOR, HOSTILE, hostile_incident
from tests.kit.postmortem import CANARY, INC, SUPPORT_ONLY, T0, scripted
from warroom.core import events as e
from warroom.core.domain import Severity, Status, UpdateKind
from warroom.core.report import fenced, inline, record, report, span
from warroom.core.text import visible

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("WARROOM_REGENERATE_GOLDEN") == "1"

HEADINGS = [
    (1, f"Post-mortem: {INC} Checkout failing in EU *again*"),
    (2, "Summary"),
    (2, "Durations"),
    (2, "Impact"),
    (3, "Revisions"),
    (2, "Timeline of key moments"),
    (2, "Actions and owners"),
    (2, "Workarounds"),
    (2, "Communications"),
]
"""The headings up to the communications ledger, whose updates each have one."""

TAIL = [(2, "Questions"), (2, "Follow-ups"), (2, "Root cause"), (2, "Lessons learned")]


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if REGENERATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.read_text() == text, f"{name} changed: regenerate it if that was meant"


def _tokens(text: str) -> list[Token]:
    """Every token of `text` read as CommonMark, the inline ones flattened in."""
    flat: list[Token] = []
    for token in MarkdownIt("commonmark").parse(text):
        flat.append(token)
        flat.extend(token.children or [])
    return flat


def _headings(text: str) -> list[tuple[int, str]]:
    tokens = MarkdownIt("commonmark").parse(text)
    return [
        (int(token.tag[1:]), tokens[index + 1].content.replace("\\", ""))
        for index, token in enumerate(tokens)
        if token.type == "heading_open"
    ]


def _shape(text: str) -> list[tuple[str, str, int]]:
    """The structure of `text` as CommonMark: each token's type, tag and nesting, no content."""
    return [(token.type, token.tag, token.nesting) for token in _tokens(text)]


def _read_text(text: str) -> str:
    """What a reader of the rendered document reads: the text of every token, code included."""
    return "\n".join(
        token.content
        for token in _tokens(text)
        if token.type in ("text", "text_special", "code_inline", "fence", "code_block")
    )


def test_the_scripted_incident_renders_to_the_committed_documents() -> None:
    log = scripted()
    _golden("report.md", report(log, INC))
    _golden("report-exec.md", report(log, INC, audience="exec"))


def test_the_same_log_gives_the_same_bytes_in_any_time_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = scripted()
    first = report(log, INC), report(log, INC, audience="exec")
    for zone in ("Pacific/Kiritimati", "America/St_Johns"):
        monkeypatch.setenv("TZ", zone)
        time.tzset()
        assert (report(log, INC), report(log, INC, audience="exec")) == first
    monkeypatch.undo()
    time.tzset()
    # A log in which another incident's events are interleaved reports the same.
    other = [evolved for evolved in _renamed(log, "INC-2")]
    mixed = [event for pair in zip(log, other, strict=True) for event in pair]
    assert report(mixed, INC) == first[0]


def _renamed(log: list[e.Event], incident: str) -> list[e.Event]:
    from warroom.core.domain import evolve

    return [evolve(event, incident=incident) for event in log]


@pytest.mark.parametrize("audience", ["exec", "support", "all"])
def test_an_audiences_report_holds_nothing_kept_from_it(audience: str) -> None:
    log = scripted()
    room = report(log, INC)
    assert CANARY in room and SUPPORT_ONLY in room  # the war room's holds both
    shown = report(log, INC, audience=audience)
    assert CANARY not in shown
    assert (SUPPORT_ONLY in shown) is (audience == "support")
    # The war room's numbers count entries kept from the audience: none is named.
    for number in ("A1", "A2", "M1", "N1", "Q1", "U1", "U2", "version 1"):
        assert number not in shown
    assert "Roll back deploy 4812" in shown  # and what they may see is there


def test_the_report_is_commonmark_with_the_sections_people_expect() -> None:
    for text in (report(scripted(), INC), report(scripted(), INC, audience="exec")):
        tokens = _tokens(text)
        assert not [token for token in tokens if token.type.startswith("html")]
        headings = _headings(text)
        updates = [h for h in headings[len(HEADINGS) : -len(TAIL)]]
        assert headings[: len(HEADINGS)] == HEADINGS
        assert headings[-len(TAIL) :] == TAIL
        assert len(updates) == 4 and all(level == 3 for level, _ in updates)
        assert updates[0][1].startswith("Alert")
        # The pasted command output is one code block, exactly as written.
        fences = [token for token in tokens if token.type == "fence"]
        assert len(fences) == (5 if "as the war room" in text else 4)


def test_the_facts_are_the_logs() -> None:
    found = record(scripted(), INC)
    assert found is not None
    assert found.time_to(found.identified_at) == timedelta(minutes=10)
    assert found.time_to(found.mitigated_at) == timedelta(minutes=30)
    # Resolved at 12:50, reopened at 12:55: resolve time counts to the last resolution.
    assert found.time_to(found.resolved_at) == timedelta(minutes=75)
    # U2 was due 15 minutes after the alert (SEV1 since 12:08) and went out at 12:22.
    late = [(p.update.id, p.late_by) for p in found.updates if not p.on_time]
    assert late == [(2, timedelta(minutes=6))]
    assert [p.due == p.update.published_at + timedelta(minutes=m) for p, m in
            zip(found.updates, (29, -6, 5, 7), strict=True)] == [True] * 4  # fmt: skip
    assert found.follow_ups() == [(3, "next"), (4, "next")]


MARKDOWN: dict[str, str] = {
    "emphasis": "*em* _em_ **strong** __strong__ ~~struck~~",
    "code": "`code` ``two`` ```three```",
    "links": "[link](https://evil.example/) ![image](https://evil.example/x.png) [ref][1]",
    "autolink": "<https://evil.example/> <mailto:a@b.c> https://evil.example/",
    "html": "<script>alert(1)</script> <img src=x onerror=alert(1)> <!-- c -->",
    "entities": "&amp; &lt;b&gt; &#x3C;script&#x3E; &copy;",
    "table": "| a | b |\n|---|---|\n| 1 | 2 |",
    "heading": "# heading ## closing ##",
    "blocks": "# heading\n> quote\n- item\n1. item\n    indented code\n<div>block</div>",
    "fence-breaker": "```\nout of the fence?\n````\n~~~\n",
    "escapes": "\\* \\[x\\] \\\\ trailing backslash\\",
    "definition": "[1]: https://evil.example/ 'title'",
    "line-break": "two spaces  \nthen a new line",
    "list-item": "- item",
    "plus-item": "+ item",
    "ordered": "1. item",
    "ordered-paren": "12) item",
    "rule": "---",
    "setext": "===",
}
"""Markdown a reader's renderer would obey: inline and block markup, raw HTML, entities."""


def _hostile_report(text: str) -> str:
    log = hostile_incident(1, text)
    at = log[-1].at
    log += [
        e.NotePinned(incident="INC-1", actor=AUTHOR, at=at, note=1, pinned=True),
        e.StatusChanged(
            incident="INC-1", actor=AUTHOR, at=at, status=Status.IDENTIFIED,
            previous=Status.INVESTIGATING,
        ),
        e.UpdatePublished(
            incident="INC-1", actor=AUTHOR, at=at + timedelta(minutes=1), update=1,
            kind=UpdateKind.UPDATE, audience="all", summary=text, status=Status.IDENTIFIED,
            severity=Severity.SEV1,
        ),
    ]  # fmt: skip
    return report(log, "INC-1")


@pytest.mark.parametrize("name", sorted({*HOSTILE, *MARKDOWN}))
def test_hostile_text_renders_inert(name: str) -> None:
    text = HOSTILE.get(name) or MARKDOWN[name]
    hostile = _hostile_report(text)
    # The same incident with plain words of the same lines: the structure must not change.
    plain = _hostile_report("\n".join("plain" for _ in text.split("\n")))
    assert _shape(hostile) == _shape(plain)
    assert not [token for token in _tokens(hostile) if token.type.startswith("html")]
    # What people read is what was written: shown as text, on one line or in a block.
    read = _read_text(hostile)
    if "\n" in text:
        assert visible(text) in read
    else:
        assert visible(text, multiline=False) in read
        # The impact statement stands alone on its line: it is still one paragraph of text.
        html = MarkdownIt("commonmark").render(hostile)
        shown = visible(text, multiline=False).strip()
        for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;")):
            shown = shown.replace(char, entity)
        assert f"<p>{shown}</p>" in html
    for char in hostile:
        assert char in "\n" or not (ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F), repr(char)


def test_inline_and_fenced_text_keep_what_was_written() -> None:
    rendered: Any = MarkdownIt("commonmark").renderInline(inline("a *b* <i>c</i> `d` & [e](f)"))
    assert rendered == "a *b* &lt;i&gt;c&lt;/i&gt; `d` &amp; [e](f)"
    block = fenced("x ````` y\nz")
    assert block[0] == block[-1] == "``````"
    assert span(timedelta(seconds=59)) == "59s"
    assert span(timedelta(minutes=12, seconds=30)) == "12m 30s"
    assert span(timedelta(hours=1, minutes=5)) == "1h 05m"
    assert span(timedelta(days=2, hours=3, minutes=5)) == "2d 3h 05m"


def test_a_log_without_the_incident_is_a_lookup_error() -> None:
    with pytest.raises(LookupError, match="INC-9"):
        report(scripted(), "INC-9")
    assert T0.tzinfo is not None

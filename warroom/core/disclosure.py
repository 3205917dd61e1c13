"""What a stakeholder's frames may reveal: opaque cursors and entry numbers that count nothing.

The log's sequence numbers and each incident's entry numbers (N1, N2, ...) are shared by every
audience, so a stakeholder who saw N1 and N4 would know of two notes kept from them, and one who
saw seq 10 then 17 of six events in between. Stakeholders therefore get:

- cursors that are a keyed permutation of the seq, written as `c` and 16 hex digits: unordered,
  gapless-looking, and refused when forged (only seqs below 2**40 are ever sealed);
- entry numbers and impact versions passed through a keyed permutation per incident and kind, so
  a note's number is stable across live delivery, catch-up and restarts and counts nothing.

The permutations are Feistel networks whose round function is keyed BLAKE2b, with round keys
derived by HMAC-SHA256 from a server secret kept in the store. Pure: no I/O, the secret comes in.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any, assert_never

from warroom.core import events as e
from warroom.core.domain import Action, Impact, Mitigation, Note, evolve

SEQ_BITS = 40
"""Seqs that can be sealed into a cursor (a trillion events)."""

ENTRY_BITS = 20
"""Entry numbers that can be disguised per incident and kind (a million notes)."""

PRIVATE_BITS = 30
"""Private incidents that can be named (six characters of base 32 each)."""

_BASE32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's: no I, L, O or U to misread."""

_ROUNDS = 4
_CURSOR = re.compile(r"^c[0-9a-f]{16}$")


class Sealer:
    """Seals cursors and disguises entry numbers under one secret."""

    def __init__(self, secret: bytes, log: str = "") -> None:
        if len(secret) < 16:
            raise ValueError("the disclosure secret must be at least 16 bytes")
        self._secret = secret
        self._cursors = f"cursor|{log}" if log else "cursor"
        """Cursors are sealed for one log: another's (a restored backup's) do not open."""
        self._rounds: dict[str, tuple[bytes, ...]] = {}

    # Cursors ------------------------------------------------------------------------------------

    def cursor(self, seq: int) -> str:
        """The opaque cursor a stakeholder holds for `seq`."""
        if not 0 <= seq < 1 << SEQ_BITS:
            raise ValueError(f"seq {seq} cannot be sealed")
        return f"c{self._permute(self._cursors, seq, 64):016x}"

    def open_cursor(self, token: str) -> int | None:
        """The seq sealed in `token`, or None if the token was not made by `cursor`."""
        if not _CURSOR.match(token):
            return None
        seq = self._permute(self._cursors, int(token[1:], 16), 64, inverse=True)
        return seq if seq < 1 << SEQ_BITS else None

    # Entry numbers ------------------------------------------------------------------------------

    def entry(self, incident: str, kind: str, number: int) -> int:
        """The number a stakeholder sees for entry `number` of `kind` (note, action, ...)."""
        if not 0 <= number < 1 << ENTRY_BITS:
            return number  # beyond any real incident; never reached
        return self._permute(f"{incident}|{kind}", number, ENTRY_BITS) + 1

    def event(self, event: e.Event) -> e.Event:
        """`event` with every entry number and impact version disguised."""
        incident = event.incident

        def n(kind: str, number: int) -> int:
            return self.entry(incident, kind, number)

        match event:
            case e.NoteAdded() | e.NotePinned():
                return evolve(event, note=n("note", event.note))
            case e.ActionAdded() | e.ActionStateChanged() | e.ActionAssigned():
                return evolve(event, action=n("action", event.action))
            case e.MitigationAdded() | e.MitigationStateChanged():
                return evolve(event, mitigation=n("mitigation", event.mitigation))
            case e.QuestionAsked() | e.QuestionAnswered() | e.QuestionDismissed():
                return evolve(event, question=n("question", event.question))
            case e.QuestionMerged():
                return evolve(
                    event, question=n("question", event.question), into=n("question", event.into)
                )
            case e.UpdatePublished():
                # Updates to other groups are counted too: the number would tell of them.
                question = None if event.question is None else n("question", event.question)
                return evolve(event, update=n("update", event.update), question=question)
            case e.ImpactUpdated():
                return evolve(event, version=n("impact", event.version))
            case e.AudienceChanged():
                return self._audience_changed(event)
            case (
                e.IncidentDeclared()
                | e.StatusChanged()
                | e.SeverityChanged()
                | e.EtaSet()
                | e.AppAdded()
                | e.AppRemoved()
                | e.PrivacyChanged()
                | e.AccessChanged()
            ):
                # Nothing here counts what a stakeholder may not see (every ETA is shown to all,
                # so its version hides nothing).
                return event
            case _:
                # Never pass through an event nobody has looked at: it may carry a number.
                assert_never(event)

    def _audience_changed(self, event: e.AudienceChanged) -> e.AudienceChanged:
        incident = event.incident
        changes: dict[str, Any] = {}
        entry = event.entry
        if event.note is not None:
            number = self.entry(incident, "note", event.note.id)
            changes["note"] = evolve(event.note, id=number)
            entry = f"N{number}"
        elif event.action is not None:
            number = self.entry(incident, "action", event.action.id)
            changes["action"] = evolve(event.action, id=number)
            entry = f"A{number}"
        elif event.mitigation is not None:
            number = self.entry(incident, "mitigation", event.mitigation.id)
            changes["mitigation"] = evolve(event.mitigation, id=number)
            entry = f"M{number}"
        if event.impact is not None:
            changes["impact"] = self.impact(incident, event.impact)
        return evolve(event, entry=entry, **changes)

    def impact(self, incident: str, impact: Impact) -> Impact:
        """An impact statement with its version disguised."""
        return evolve(impact, version=self.entry(incident, "impact", impact.version))

    def note(self, incident: str, note: Note) -> Note:
        """A note with its number disguised."""
        return evolve(note, id=self.entry(incident, "note", note.id))

    def action(self, incident: str, action: Action) -> Action:
        """An action with its number disguised."""
        return evolve(action, id=self.entry(incident, "action", action.id))

    def mitigation(self, incident: str, mitigation: Mitigation) -> Mitigation:
        """A workaround with its number disguised."""
        return evolve(mitigation, id=self.entry(incident, "mitigation", mitigation.id))

    # Private incidents ----------------------------------------------------------------------

    def private_suffix(self, number: int) -> str:
        """The id suffix of the `number`th private incident (after `INC-P`): six characters of
        Crockford's base 32, a permutation of the number, so two never share one and none
        tells how many came before it."""
        if not 0 < number < 1 << PRIVATE_BITS:
            raise ValueError(f"private incident {number} cannot be named")
        value = self._permute("incident|private", number, PRIVATE_BITS)
        return "".join(_BASE32[(value >> shift) & 31] for shift in range(25, -1, -5))

    # The permutation ----------------------------------------------------------------------------

    def _keys(self, domain: str) -> tuple[bytes, ...]:
        keys = self._rounds.get(domain)
        if keys is None:
            keys = tuple(
                hmac.new(self._secret, f"{domain}|{r}".encode(), hashlib.sha256).digest()
                for r in range(_ROUNDS)
            )
            if len(self._rounds) > 4096:
                self._rounds.clear()
            self._rounds[domain] = keys
        return keys

    def _permute(self, domain: str, value: int, bits: int, inverse: bool = False) -> int:
        """A keyed permutation of the integers below 2**bits (a balanced Feistel network)."""
        half = bits // 2
        mask = (1 << half) - 1
        left, right = value >> half, value & mask
        keys = self._keys(domain)
        if not inverse:
            for key in keys:
                left, right = right, left ^ _round(key, right, mask)
        else:
            for key in reversed(keys):
                left, right = right ^ _round(key, left, mask), left
        return (left << half) | right


def _round(key: bytes, value: int, mask: int) -> int:
    # Keyed BLAKE2b is a PRF in its own right, and several times cheaper than HMAC-SHA256.
    digest = hashlib.blake2b(value.to_bytes(8, "big"), key=key, digest_size=8).digest()
    return int.from_bytes(digest, "big") & mask

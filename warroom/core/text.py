"""Text as data: which characters a terminal would obey rather than show, and how to show them.

A terminal acts on control characters (ESC starts a sequence that may clear the screen, retitle
the window, write the clipboard or plant a link; C1 `\\x9b` does the same in one byte; BEL rings,
backspace overwrites) and a bidi override reorders what follows it, so a line reads other than
it is. `visible` turns every such character into a printable stand-in, so whatever a log holds
(older versions accepted anything) reaches a terminal as text; `first_hidden` finds one for the
input checks, which refuse it where it enters.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

BIDI_CONTROLS = frozenset({*range(0x202A, 0x202F), *range(0x2066, 0x206A)})
"""Embeddings, overrides (U+202A-U+202E) and isolates (U+2066-U+2069): they reorder text."""

LINE_BREAKS = frozenset({0x2028, 0x2029, 0x85})
"""Line and paragraph separators and NEL: some terminals and editors break lines on them."""

INVISIBLE = frozenset({0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0xFEFF, 0x061C, 0x180E})
"""Zero-width characters and direction marks: harmless in prose, but two names that differ only
by one look the same."""

_SGR = re.compile(r"\x1b\[[0-9;:]*[mK]")
"""Select Graphic Rendition (colours, bold) and erase-in-line, as `grep --color` emits them."""


def _stand_in(code: int) -> str:
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ␛ for ESC, ␇ for BEL
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def _table(keep: str) -> dict[int, str]:
    hidden = [*range(0x20), *range(0x7F, 0xA0), *BIDI_CONTROLS, *LINE_BREAKS]
    return {code: _stand_in(code) for code in hidden if chr(code) not in keep}


_MULTILINE = _table("\n\t")
_ONE_LINE = _table("")


def visible(text: str, multiline: bool = True) -> str:
    """`text` with every control character, DEL and bidi control replaced by a printable
    stand-in (`␛` for ESC, `\\x9b` for C1 CSI, `\\u202e` for a right-to-left override).

    Args:
        text: any text, however it was stored.
        multiline: keep newlines and tabs as they are; off, they too show as `␊` and `␉`.
    """
    return text.translate(_MULTILINE if multiline else _ONE_LINE)


def is_hidden(char: str, allowed: str = "", names: bool = False) -> bool:
    """Whether a terminal would act on `char` rather than show it (or, for `names`, whether it
    shows as nothing at all)."""
    if char in allowed:
        return False
    code = ord(char)
    if code < 0x20 or 0x7F <= code <= 0x9F or code in BIDI_CONTROLS or code in LINE_BREAKS:
        return True
    return names and (code in INVISIBLE or unicodedata.category(char) in ("Cf", "Cs", "Co"))


def first_hidden(text: str, allowed: str = "", names: bool = False) -> tuple[int, str] | None:
    """The position and character of the first character `is_hidden` refuses, if any."""
    found = _hidden_pattern(allowed).search(text)
    first = None if found is None else (found.start(), found.group())
    if names and not text.isascii():
        # What shows as nothing is searched for before the first control character only.
        end = len(text) if first is None else first[0]
        for index, char in enumerate(text[:end]):
            if char >= "\x80" and is_hidden(char, allowed, names):
                return index, char
    return first


@cache
def _hidden_pattern(allowed: str) -> re.Pattern[str]:
    """One character a terminal would act on, but for those `allowed`: a regular expression
    finds it in C where a loop in Python took a tenth of a command's time on the hub."""
    hidden = [*range(0x20), *range(0x7F, 0xA0), *BIDI_CONTROLS, *LINE_BREAKS]
    codes = sorted(code for code in set(hidden) if chr(code) not in allowed)
    return re.compile("[" + "".join(re.escape(chr(code)) for code in codes) + "]")


def strip_colours(text: str) -> str:
    """`text` without the colour codes (SGR, erase-in-line) of a command's coloured output;
    any other escape is left for the input checks to refuse."""
    return _SGR.sub("", text)

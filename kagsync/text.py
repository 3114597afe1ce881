"""One home for making outside text safe to show: team names, members, titles and
remote error bodies reach terminals, pipes and logs only through :func:`printable`.

A terminal obeys escape sequences (``ESC [ 2 J`` clears it, ``ESC ] 0 ; … BEL``
retitles it and, left open, swallows what follows), so every control character is
shown escaped (``\\x1b``) rather than passed on or silently dropped: the reader sees
that something odd was there. Bidirectional overrides are escaped too, since they
reorder what a reader sees ("Trojan Source").
"""

from __future__ import annotations

import unicodedata

__all__ = ["is_printable", "printable"]

# Explicit bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069).
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _escaped(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def _unsafe(char: str) -> bool:
    return char in _BIDI or unicodedata.category(char) == "Cc"


def is_printable(text: str) -> bool:
    """True when ``text`` holds no control character and no bidi override."""
    if text.isprintable():  # one C call for the common case
        return not any(char in _BIDI for char in text) if not text.isascii() else True
    return not any(_unsafe(char) for char in text)


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every control character and bidi override shown escaped.

    ``keep_newlines`` keeps ``\\n`` (for multi-line bodies shown as such); tabs and
    every other control character, C1 included, become ``\\xNN``.
    """
    if text.isascii() and text.isprintable():
        return text
    return "".join(_escaped(char) if _unsafe(char) and not (keep_newlines and char == "\n") else char for char in text)

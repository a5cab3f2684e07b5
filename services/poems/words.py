"""Validation of submitted poem lines: word counting and line cleaning (pure functions).

A *word* is a maximal run of non-whitespace characters that contains at least one Unicode letter
or digit (``str.isalnum``). So "well-being" and "don't" are one word each, "3" is a word, and a
lone dash or an emoji is none. Scripts written without spaces (Chinese, Japanese, Thai) count a
whole run as one word.
"""

from __future__ import annotations

import unicodedata

MAX_LINE_LENGTH = 200

# Control (Cc), format (Cf), lone surrogates (Cs) and the line/paragraph separators (Zl, Zp):
# never part of a line or a display name.
INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


class LineRejected(ValueError):
    """A submitted line is not acceptable; ``message`` is meant for the end user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def count_words(text: str) -> int:
    """Count whitespace-separated tokens that contain at least one letter or digit."""
    return sum(1 for token in text.split() if any(ch.isalnum() for ch in token))


def clean_line(text: str) -> str:
    """Return ``text`` without surrounding whitespace, or raise ``LineRejected`` saying why.

    Rejects empty lines, lines over ``MAX_LINE_LENGTH`` characters, and lines containing control
    or invisible format characters (Unicode Cc/Cf, plus lone surrogates and line separators),
    including tabs and line breaks inside the line.
    """
    line = text.strip()
    if not line:
        raise LineRejected("text must not be empty")
    if len(line) > MAX_LINE_LENGTH:
        raise LineRejected(f"text must be at most {MAX_LINE_LENGTH} characters (got {len(line)})")
    for position, ch in enumerate(line, start=1):
        if unicodedata.category(ch) in INVISIBLE:
            raise LineRejected(
                "text must be a single line without tabs, line breaks or other control or "
                f"invisible characters (found {_describe(ch)} at character {position})"
            )
    return line


def _describe(ch: str) -> str:
    """Name a character for an error message, e.g. ``U+0009 (tab)``."""
    friendly = {"\t": "tab", "\n": "line break", "\r": "carriage return"}
    name = friendly.get(ch) or unicodedata.name(ch, "").lower()
    return f"U+{ord(ch):04X} ({name})" if name else f"U+{ord(ch):04X}"

"""What text PostgreSQL can store: every area checks a client's strings with these before they
reach a query (a NUL is not text to PostgreSQL, and a lone surrogate is not UTF-8)."""

from __future__ import annotations

import unicodedata
from typing import Final

# Control characters (NUL among them) and lone surrogates: never in a name, key or id.
UNSTORABLE: Final = frozenset({"Cc", "Cs"})


def plain(value: str) -> bool:
    """True if `value` is one line PostgreSQL can store: no control character, no surrogate."""
    return not any(unicodedata.category(ch) in UNSTORABLE for ch in value)


def storable(value: str) -> bool:
    """True if PostgreSQL can store `value` as text (line breaks and tabs allowed)."""
    return "\x00" not in value and not any(unicodedata.category(ch) == "Cs" for ch in value)

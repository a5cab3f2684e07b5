"""Raw input of the loyalty area to checked values: tiers, missions, creators, and the rows
of a metrics CSV.

Setup fields are recorded in `Problems` and raised together as `InvalidInput`. A CSV is
checked line by line as it streams (`MetricsReader`): each problem names its line and
column (`line 7: value`), and an import with any problem imports nothing.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from services.core.text import plain
from services.errors import Problems
from services.loyalty.model import ALL_TIERS, LineError, LoyaltyMissionKind

KEY: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
COLUMNS: Final = ("external_id", "user_id", "kind", "value", "occurred_at")
MAX_ERRORS: Final = 100  # an import reports at most this many problems
_KINDS: Final = {k.value for k in LoyaltyMissionKind}


def _text(problems: Problems, field: str, raw: str, limit: int) -> str:
    value = raw.strip()
    if not value or len(value) > limit or not plain(value):
        problems.add(field, f"must be 1 to {limit} characters, no control characters")
    return value


def tier(key: str, name: str, order: int) -> tuple[str, str, int]:
    """A tier's key, name and order, or InvalidInput naming each bad field."""
    problems = Problems()
    clean = key.strip()
    if not KEY.fullmatch(clean) or clean == ALL_TIERS:
        problems.add("key", "a letter or digit then up to 39 letters, digits, - or _; not 'all'")
    clean_name = _text(problems, "name", name, 100)
    if not -1_000_000 <= order <= 1_000_000:
        problems.add("order", "must be between -1000000 and 1000000")
    problems.raise_if_any()
    return clean, clean_name, order


def mission_fields(
    problems: Problems, title: str | None, target: float | None
) -> tuple[str | None, float | None]:
    """A mission's title and target, where given."""
    clean = _text(problems, "title", title, 200) if title is not None else None
    if target is not None and not (math.isfinite(target) and 0 < target <= 1e15):
        problems.add("targetValue", "must be a number more than 0")
    return clean, target


def tier_eligibility(problems: Problems, raw: str) -> str:
    """A tier key (which need not exist yet) or 'all'."""
    clean = raw.strip()
    if clean != ALL_TIERS and not KEY.fullmatch(clean):
        problems.add("tierEligibility", "a tier key or 'all'")
    return clean


def creator(user_id: str, handle: str, tier_key: str) -> tuple[str, str, str]:
    """A creator's user id, handle and tier key, or InvalidInput naming each bad field."""
    problems = Problems()
    user = _text(problems, "userId", user_id, 200)
    clean_handle = _text(problems, "handle", handle, 100)
    key = tier_key.strip()
    if not KEY.fullmatch(key):
        problems.add("tierKey", f"no tier has the key {key!r}")
    problems.raise_if_any()
    return user, clean_handle, key


def source(raw: str) -> str:
    """An import's source name, or InvalidInput naming `source`."""
    problems = Problems()
    clean = _text(problems, "source", raw, 100)
    problems.raise_if_any()
    return clean


# ---------------------------------------------------------------- CSV

Record = tuple[int, str, str, str, float, datetime]
"""One good line of a metrics CSV: (line number, external id, user id, kind, value, when)."""


@dataclass
class MetricsReader:
    """Checks a metrics CSV as it streams: `records(lines)` yields each good line as a Record
    and collects every problem in `errors` (at most MAX_ERRORS), with its line number."""

    errors: list[LineError]
    rows_read: int = 0

    def problem(self, where: str, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(LineError(where, message))

    async def records(self, lines: AsyncIterable[str]) -> AsyncIterator[Record]:
        order: list[int] | None = None
        number = 0
        async for line in lines:
            number += 1
            if not line.strip():
                continue
            try:
                cells = next(csv.reader([line]))
            except csv.Error as exc:
                self.problem(f"line {number}", f"not CSV: {exc}")
                continue
            if order is None:
                order = self._header(number, cells)
                if order is None:
                    return
                continue
            self.rows_read += 1
            record = self._record(number, cells, order)
            if record is not None:
                yield record
        if order is None and not self.errors:
            self.problem("file", f"the file is empty: it needs a header ({','.join(COLUMNS)})")

    def _header(self, number: int, cells: list[str]) -> list[int] | None:
        names = [c.strip().lower() for c in cells]
        missing = [c for c in COLUMNS if c not in names]
        extra = [c for c in names if c not in COLUMNS]
        if missing or extra or len(names) != len(COLUMNS):
            parts = []
            if missing:
                parts.append(f"missing column(s) {', '.join(missing)}")
            if extra:
                parts.append(f"unknown column(s) {', '.join(extra)}")
            if not parts:
                parts.append("a column is listed twice")
            self.problem(
                f"line {number}",
                f"the header must have exactly the columns {','.join(COLUMNS)} "
                f"(in any order): {'; '.join(parts)}",
            )
            return None
        return [names.index(c) for c in COLUMNS]

    def _record(self, number: int, cells: list[str], order: list[int]) -> Record | None:
        if len(cells) != len(COLUMNS):
            self.problem(f"line {number}", f"has {len(cells)} columns, the header {len(COLUMNS)}")
            return None
        external_id, user_id, kind, value, occurred_at = (cells[i].strip() for i in order)
        ok = True
        for name, text in (("external_id", external_id), ("user_id", user_id)):
            if not text or len(text) > 200 or not plain(text):
                self.problem(f"line {number}: {name}", "must be 1 to 200 characters")
                ok = False
        clean_kind = kind.upper()
        if clean_kind not in _KINDS:
            self.problem(
                f"line {number}: kind",
                f'"{kind}" is not one of {", ".join(sorted(_KINDS))}',
            )
            ok = False
        amount = 0.0
        try:
            amount = float(value)
            if not math.isfinite(amount):
                raise ValueError
        except ValueError:
            self.problem(f"line {number}: value", f'"{value}" is not a number')
            ok = False
        else:
            if amount < 0:
                self.problem(f"line {number}: value", f'"{value}" is negative')
                ok = False
        when = None
        try:
            when = datetime.fromisoformat(occurred_at)
        except ValueError:
            self.problem(
                f"line {number}: occurred_at",
                f'"{occurred_at}" is not an ISO 8601 time such as 2026-12-01T18:30:00+00:00',
            )
            ok = False
        if when is not None and when.tzinfo is None:
            self.problem(f"line {number}: occurred_at", f'"{occurred_at}" has no UTC offset')
            ok = False
        if not ok or when is None:
            return None
        return (number, external_id, user_id, clean_kind, amount, when)


async def lines_of_text(text: str) -> AsyncIterator[str]:
    """The lines of a CSV given whole (the GraphQL mutation's `csv`)."""
    for line in text.splitlines():
        yield line


async def lines_of_stream(chunks: AsyncIterable[bytes]) -> AsyncIterator[str]:
    """The lines of a CSV as its bytes arrive (an HTTP upload), decoded as UTF-8; never more
    than a line and a chunk in memory."""
    pending = b""
    async for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for raw in complete:
            yield raw.rstrip(b"\r").decode("utf-8", errors="replace")
    if pending:
        yield pending.rstrip(b"\r").decode("utf-8", errors="replace")

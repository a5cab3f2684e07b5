"""Named SQL blocks loaded once from db/queries/<area>.sql.

A file holds blocks that start with a line `-- name: some_name`; the text up to
the next such line is the query. Python code refers to queries by name only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

QUERIES_DIR = Path(__file__).parent / "queries"
_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)


def parse(text: str) -> dict[str, str]:
    """Split a .sql file into its named blocks; duplicate names are an error."""
    parts = _NAME.split(text)
    blocks: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in blocks:
            raise ValueError(f"duplicate query name {name!r}")
        blocks[name] = body.strip()
    return blocks


def load(area: str) -> Mapping[str, str]:
    """The named queries of one area, read once at import of the caller."""
    return MappingProxyType(parse((QUERIES_DIR / f"{area}.sql").read_text(encoding="utf-8")))

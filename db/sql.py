"""Named SQL blocks loaded once from db/queries/<area>.sql.

A file holds blocks that start with a line `-- name: some_name`; the text up to
the next such line is the query. Python code refers to queries by name only.

A block takes its parameters either by position (`$1`, `$2`: for a handful) or by
name (`:booking_id`), never both. Named ones are converted here to asyncpg's
positional parameters, in the order they first appear, and `Queries.bind` turns keyword
arguments into that positional list, so a call cannot pass a value in the wrong place.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

QUERIES_DIR = Path(__file__).parent / "queries"
_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)
# What may hold a colon that is not a parameter: string literals, quoted identifiers,
# comments and casts (`::uuid[]`); then a parameter, `:name`.
_TOKENS = re.compile(
    r"(?P<skip>'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|::)"
    r"|(?<![\w:]):(?P<param>[A-Za-z_]\w*)"
)
_POSITIONAL = re.compile(r"\$\d+")


@dataclass(frozen=True, slots=True)
class Block:
    """One named block: its text for asyncpg, and its parameter names if it takes names."""

    text: str
    params: tuple[str, ...] = ()


class Queries(Mapping[str, str]):
    """An area's named blocks: `Q[name]` is a block's text; `Q.bind(name, **values)` is the
    text and the positional arguments of a block that names its parameters."""

    def __init__(self, blocks: Mapping[str, Block]) -> None:
        self._blocks = dict(blocks)

    def __getitem__(self, name: str) -> str:
        return self._blocks[name].text

    def __iter__(self) -> Iterator[str]:
        return iter(self._blocks)

    def __len__(self) -> int:
        return len(self._blocks)

    def params(self, name: str) -> tuple[str, ...]:
        """The parameter names of a block, in their positional order (empty if positional)."""
        return self._blocks[name].params

    def bind(self, name: str, **values: object) -> tuple[str, *tuple[object, ...]]:
        """A named-parameter block's text and its arguments, one value per name:
        `await conn.fetch(*Q.bind("commit_plan", booking_id=...))`."""
        block = self._blocks[name]
        missing = [p for p in block.params if p not in values]
        unknown = sorted(set(values) - set(block.params))
        if not block.params or missing or unknown:
            raise TypeError(f"query {name!r} parameters: missing {missing}, unknown {unknown}")
        return (block.text, *(values[p] for p in block.params))


def compile_block(text: str) -> Block:
    """A block's text with `:name` parameters turned into `$n`, and the names in order."""
    names: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group("param")
        if name is None:
            return match.group(0)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    converted = _TOKENS.sub(replace, text)
    if names and _POSITIONAL.search(_TOKENS.sub(lambda m: m.group("skip") or "", text)):
        raise ValueError("a query takes its parameters by name or by position, not both")
    return Block(converted, tuple(names))


def parse(text: str) -> dict[str, Block]:
    """Split a .sql file into its named blocks; duplicate names are an error."""
    parts = _NAME.split(text)
    blocks: dict[str, Block] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in blocks:
            raise ValueError(f"duplicate query name {name!r}")
        try:
            blocks[name] = compile_block(body.strip())
        except ValueError as exc:
            raise ValueError(f"query {name!r}: {exc}") from None
    return blocks


def load(area: str) -> Queries:
    """The named queries of one area, read once at import of the caller."""
    return Queries(parse((QUERIES_DIR / f"{area}.sql").read_text(encoding="utf-8")))

"""Named SQL blocks."""

from __future__ import annotations

import pytest

from db.sql import QUERIES_DIR, load, parse


def test_parse__splits_named_blocks() -> None:
    text = "-- name: a\nselect 1;\n\n-- name: b\nselect 2\nfrom x\n"
    assert parse(text) == {"a": "select 1;", "b": "select 2\nfrom x"}


def test_parse__rejects_duplicate_names() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        parse("-- name: a\nselect 1\n-- name: a\nselect 2\n")


def test_every_queries_file__loads_with_non_empty_blocks() -> None:
    files = sorted(QUERIES_DIR.glob("*.sql"))
    assert files
    for f in files:
        blocks = load(f.stem)
        assert blocks and all(sql.strip() for sql in blocks.values()), f.name

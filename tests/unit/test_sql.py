"""Named SQL blocks."""

from __future__ import annotations

import pytest

from db.sql import QUERIES_DIR, Block, Queries, load, parse


def test_parse__splits_named_blocks() -> None:
    text = "-- name: a\nselect 1;\n\n-- name: b\nselect 2\nfrom x\n"
    assert parse(text) == {"a": Block("select 1;"), "b": Block("select 2\nfrom x")}


def test_parse__turns_named_parameters_into_positional_ones_in_first_use_order() -> None:
    text = (
        "-- name: q\n"
        "select :b::uuid[], ':not_a_param', \"col:x\" -- :nor_this\n"
        "from t where a = :a and b = any(:b) and c::text = 'x'"
    )
    block = parse(text)["q"]
    assert block.params == ("b", "a")
    assert block.text == (
        "select $1::uuid[], ':not_a_param', \"col:x\" -- :nor_this\n"
        "from t where a = $2 and b = any($1) and c::text = 'x'"
    )


def test_bind__gives_each_value_its_position_and_refuses_missing_or_unknown_names() -> None:
    queries = Queries(parse("-- name: q\nselect :b, :a\n"))
    assert queries.bind("q", a=1, b=2) == ("select $1, $2", 2, 1)
    with pytest.raises(TypeError, match="missing \\['a'\\]"):
        queries.bind("q", b=2)
    with pytest.raises(TypeError, match="unknown \\['c'\\]"):
        queries.bind("q", a=1, b=2, c=3)


def test_parse__refuses_a_block_mixing_named_and_positional_parameters() -> None:
    with pytest.raises(ValueError, match=r"'q'.*by name or by position"):
        parse("-- name: q\nselect :a, $1\n")


def test_parse__rejects_duplicate_names() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        parse("-- name: a\nselect 1\n-- name: a\nselect 2\n")


def test_every_queries_file__loads_with_non_empty_blocks() -> None:
    files = sorted(QUERIES_DIR.glob("*.sql"))
    assert files
    for f in files:
        blocks = load(f.stem)
        assert blocks and all(sql.strip() for sql in blocks.values()), f.name

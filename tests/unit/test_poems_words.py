"""Tests for services.poems.words: word counting and line cleaning."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.poems.words import MAX_LINE_LENGTH, LineRejected, clean_line, count_words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("   ", 0),
        ("moon", 1),
        ("the silver moon", 3),
        ("well-being", 1),
        ("don't", 1),
        ("-", 0),
        ("—", 0),
        ("a - b", 2),
        ("a — b", 2),
        ("3", 1),
        ("3 blind mice", 3),
        ("🌙", 0),
        ("🌙 moon 🌙", 1),
        ("moon🌙", 1),
        ("...", 0),
        ("!? ... ;", 0),
        ("hello, world!", 2),
        ("  spaced   out\twords\n", 3),
        ("café crème", 2),
        ("naïve Ærø", 2),
        ("Привет мир", 2),
        ("月が綺麗ですね", 1),  # no spaces: the whole run is one token
        ("月 が 綺麗", 3),
        ("١٢٣", 1),  # Arabic-Indic digits
        ("e\u0301te\u0301", 1),  # decomposed accents
        ("a\u3000b", 2),  # ideographic space separates
    ],
)
def test_count_words__examples(text: str, expected: int) -> None:
    assert count_words(text) == expected


@settings(max_examples=200)
@given(words=st.lists(st.text(alphabet="abcxyz'-", min_size=1).filter(lambda w: w.strip("'-"))))
def test_count_words__counts_space_joined_words(words: list[str]) -> None:
    assert count_words("  ".join(words)) == len(words)


def test_clean_line__strips_surrounding_whitespace() -> None:
    assert clean_line("  the moon  ") == "the moon"
    assert clean_line("\n\tthe moon\r\n") == "the moon"
    assert clean_line("a  b") == "a  b"


def test_clean_line__accepts_exactly_max_length() -> None:
    line = "a" * MAX_LINE_LENGTH
    assert clean_line(f"  {line}  ") == line


def test_clean_line__accepts_unicode_and_emoji() -> None:
    assert clean_line("café 月 🌙") == "café 月 🌙"


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_clean_line__rejects_empty(text: str) -> None:
    with pytest.raises(LineRejected, match="must not be empty"):
        clean_line(text)


def test_clean_line__rejects_too_long_with_length_in_message() -> None:
    with pytest.raises(LineRejected) as excinfo:
        clean_line("a" * 231)
    assert excinfo.value.message == "text must be at most 200 characters (got 231)"
    assert str(excinfo.value) == excinfo.value.message


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("a\tb", "U+0009 (tab) at character 2"),
        ("a\nb", "U+000A (line break) at character 2"),
        ("ab\rc", "U+000D (carriage return) at character 3"),
        ("a\x00b", "U+0000 at character 2"),
        ("a\x7fb", "U+007F at character 2"),
        ("a\u200bb", "U+200B (zero width space)"),
        ("a\u202eb", "U+202E (right-to-left override)"),
        ("a\u2028b", "U+2028 (line separator)"),
        ("\ud800x", "U+D800 at character 1"),
    ],
)
def test_clean_line__rejects_control_and_invisible_characters(text: str, found: str) -> None:
    with pytest.raises(LineRejected) as excinfo:
        clean_line(text)
    assert "single line without tabs, line breaks" in excinfo.value.message
    assert found in excinfo.value.message


def test_clean_line__rejection_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        clean_line("")

"""What text PostgreSQL can store, as every area checks it."""

from __future__ import annotations

import pytest

from services.core.text import plain, storable


@pytest.mark.parametrize("bad", ["nul\x00", "\ud800", "bell\x07", "line\nbreak", "tab\t"])
def test_plain__refuses_controls_and_lone_surrogates(bad: str) -> None:
    assert not plain(bad)


def test_plain__keeps_any_visible_text() -> None:
    assert plain("Zoë 🎉 ناصر 東京")


def test_storable__allows_line_breaks_but_never_nul_or_a_surrogate() -> None:
    assert storable("two\nlines\ttab")
    assert not storable("nul\x00") and not storable("x\udfff")

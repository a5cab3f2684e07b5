"""The README documents every setting the server reads."""

from __future__ import annotations

from pathlib import Path

from server.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_readme__lists_every_setting() -> None:
    for name in Settings.model_fields:
        env = "DATABASE_URL" if name == "database_url" else f"ALLOT_{name.upper()}"
        assert f"`{env}`" in README, f"{env} is not in the README's settings table"

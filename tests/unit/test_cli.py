"""The `allot` command."""

from __future__ import annotations

import uuid

import pytest

from server.auth import verify_token
from server.cli import main
from services.core.principal import Role


def test_token__prints_a_verifiable_token_with_every_role(monkeypatch, capsys) -> None:
    monkeypatch.setenv("ALLOT_JWT_SECRET", "k" * 40)
    from server.settings import get_settings

    get_settings.cache_clear()
    tenant = uuid.uuid4()
    assert (
        main(
            [
                "token",
                "--tenant",
                str(tenant),
                "--user",
                "ana",
                "--role",
                "admin",
                "--role",
                "staff",
            ]
        )
        == 0
    )
    token = capsys.readouterr().out.strip()
    who = verify_token("k" * 40, token)
    assert (
        who.tenant_id == tenant and who.user_id == "ana" and who.roles == {Role.ADMIN, Role.STAFF}
    )
    get_settings.cache_clear()


def test_token__rejects_a_tenant_that_is_not_a_uuid(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["token", "--tenant", "acme", "--user", "u"])
    assert "tenant" in capsys.readouterr().err


def test_schema__prints_sdl_with_the_viewer(capsys) -> None:
    assert main(["schema"]) == 0
    assert "type Viewer" in capsys.readouterr().out

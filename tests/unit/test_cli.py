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


@pytest.fixture
def elsewhere(monkeypatch, tmp_path):
    """`allot token` run in an empty folder, with no key configured."""
    from server.settings import get_settings

    for name in ("ALLOT_JWT_SECRET", "DATABASE_URL", "ALLOT_DATABASE_URL", "ALLOT_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_token__without_the_servers_key_refuses_and_says_where_it_looked(elsewhere, capsys) -> None:
    """A key made up here would sign tokens the running server refuses."""
    code = main(["token", "--tenant", str(uuid.uuid4()), "--user", "u"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert str(elsewhere / ".allot" / "jwt_secret") in err
    assert "ALLOT_DATA_DIR" in err and "ALLOT_JWT_SECRET" in err
    assert not (elsewhere / ".allot").exists()  # nothing created


def test_token__signs_with_the_key_in_allot_data_dir(elsewhere, monkeypatch, capsys) -> None:
    server_dir = elsewhere / "server-data"
    server_dir.mkdir()
    (server_dir / "jwt_secret").write_text("the-servers-key-" + "z" * 40)
    monkeypatch.chdir(elsewhere / "server-data")  # any folder: the setting says where
    monkeypatch.setenv("ALLOT_DATA_DIR", str(server_dir))
    assert main(["token", "--tenant", str(uuid.uuid4()), "--user", "u"]) == 0
    verify_token("the-servers-key-" + "z" * 40, capsys.readouterr().out.strip())


def test_token__create_key_makes_the_key_allot_run_then_uses(elsewhere, capsys) -> None:
    from server.auth import resolve_jwt_secret
    from server.settings import Settings

    assert main(["token", "--tenant", str(uuid.uuid4()), "--user", "u", "--create-key"]) == 0
    token = capsys.readouterr().out.strip()
    assert (elsewhere / ".allot" / "jwt_secret").exists()
    verify_token(resolve_jwt_secret(Settings()), token)


def test_token__with_an_external_database_and_no_secret_is_a_clear_error(
    elsewhere, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/x")
    assert main(["token", "--tenant", str(uuid.uuid4()), "--user", "u"]) == 2
    assert "ALLOT_JWT_SECRET" in capsys.readouterr().err


def test_possible_types__prints_every_union_and_interface_with_its_members(capsys) -> None:
    import json

    assert main(["possible-types"]) == 0
    types = json.loads(capsys.readouterr().out)
    assert "InvalidInput" in types["Error"] and "SessionPayload" not in types["Error"]
    assert "SessionPayload" in types["ProposeTablesResult"]
    assert not any(name.startswith("__") for name in types)

"""Tokens: what verification accepts and rejects, and where the signing key comes from."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from server.auth import (
    ConfigurationError,
    InvalidToken,
    bearer,
    issue_token,
    resolve_jwt_secret,
    verify_token,
)
from server.settings import Settings
from services.core.principal import Role
from services.errors import Forbidden

SECRET = "s" * 48


def test_issue_then_verify__round_trips_the_claims() -> None:
    tenant = uuid.uuid4()
    token = issue_token(SECRET, tenant=tenant, user="ana", roles=[Role.STAFF, Role.ADMIN])
    who = verify_token(SECRET, token)
    assert who.user_id == "ana" and who.tenant_id == tenant
    assert who.roles == {Role.STAFF, Role.ADMIN}
    assert who.expires_at is not None and who.expires_at > datetime.now(UTC)


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"sub": "u", "roles": []}, "^the token has no tenant claim$"),
        ({"tenant": "t", "roles": []}, r"^the token has no user \(sub\) claim$"),
        ({"sub": "u", "tenant": "not-a-uuid", "roles": []}, "tenant claim is not a UUID"),
        ({"sub": "u", "tenant": str(uuid.uuid4()), "roles": ["ADMIN"]}, "roles must be among"),
        ({"sub": "u", "tenant": str(uuid.uuid4()), "roles": "admin"}, "roles claim is not a list"),
    ],
)
def test_verify__rejects_bad_claims(claims: dict[str, object], reason: str) -> None:
    body = {**claims, "exp": int((datetime.now(UTC) + timedelta(hours=1)).timestamp())}
    with pytest.raises(InvalidToken, match=reason):
        verify_token(SECRET, jwt.encode(body, SECRET, algorithm="HS256"))


def test_verify__rejects_missing_exp_and_expired_and_foreign_signature() -> None:
    tenant = str(uuid.uuid4())
    with pytest.raises(InvalidToken, match=r"^the token has no expiry \(exp\) claim$"):
        verify_token(SECRET, jwt.encode({"sub": "u", "tenant": tenant}, SECRET, algorithm="HS256"))
    expired = issue_token(
        SECRET, tenant=uuid.UUID(tenant), user="u", roles=[], ttl=timedelta(seconds=-1)
    )
    with pytest.raises(InvalidToken, match=r"^the token has expired$"):
        verify_token(SECRET, expired)
    forged = issue_token("other" * 10, tenant=uuid.UUID(tenant), user="u", roles=[Role.ADMIN])
    with pytest.raises(
        InvalidToken, match=r"^the token's signature does not match this server's key$"
    ):
        verify_token(SECRET, forged)


def test_verify__rejects_the_none_algorithm() -> None:
    body = {"sub": "u", "tenant": str(uuid.uuid4()), "roles": ["admin"], "exp": 2**40}
    unsigned = jwt.encode(body, None, algorithm="none")
    with pytest.raises(InvalidToken, match="not signed with HS256"):
        verify_token(SECRET, unsigned)


@pytest.mark.parametrize("garbage", ["garbage", "a.b.c", "eyJhbGciOi..."])
def test_verify__says_in_words_that_a_token_is_not_a_jwt(garbage: str) -> None:
    with pytest.raises(InvalidToken, match=r"^the token is not a valid JWT$"):
        verify_token(SECRET, garbage)


def test_verify__never_names_pyjwt_exception_classes() -> None:
    """A client cannot act on `DecodeError`; every refusal says what is wrong in words."""
    tenant = uuid.uuid4()
    bad = [
        "garbage",
        issue_token("other" * 10, tenant=tenant, user="u", roles=[]),
        issue_token(SECRET, tenant=tenant, user="u", roles=[], ttl=timedelta(seconds=-1)),
        jwt.encode({"sub": "u", "exp": 2**40}, SECRET, algorithm="HS256"),
        jwt.encode({"sub": "u", "tenant": str(tenant), "exp": 2**40, "nbf": 2**40}, SECRET),
        jwt.encode(
            {"sub": "u", "tenant": str(tenant), "exp": 2**40}, SECRET * 2, algorithm="HS512"
        ),
    ]
    for token in bad:
        with pytest.raises(InvalidToken) as info:
            verify_token(SECRET, token)
        message = str(info.value)
        assert message.startswith("the token") and "Error" not in message, message
        assert len(message.encode()) <= 123  # fits a websocket close reason


def test_bearer__extracts_only_bearer_tokens() -> None:
    assert bearer("Bearer abc") == "abc"
    assert bearer("bearer  abc ") == "abc"
    assert bearer("Basic abc") is None
    assert bearer("Bearer ") is None
    assert bearer(None) is None


def test_principal_require__forbids_missing_role() -> None:
    who = verify_token(
        SECRET, issue_token(SECRET, tenant=uuid.uuid4(), user="u", roles=[Role.PLAYER])
    )
    who.require(Role.PLAYER)
    with pytest.raises(Forbidden, match="staff"):
        who.require(Role.STAFF)


def test_jwt_secret__embedded_generates_and_keeps_one_with_a_warning(tmp_path, caplog) -> None:
    settings = Settings(data_dir=tmp_path, database_url=None, jwt_secret=None)
    with caplog.at_level(logging.WARNING):
        first = resolve_jwt_secret(settings)
    assert len(first) >= 32 and "ALLOT_JWT_SECRET is not set" in caplog.text
    assert first not in caplog.text  # the key itself is never logged
    assert resolve_jwt_secret(settings) == first  # kept under the data dir
    assert (tmp_path / "jwt_secret").stat().st_mode & 0o077 == 0


def test_jwt_secret__external_database_without_secret_is_a_clear_startup_error(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="postgresql://db/x", jwt_secret=None)
    with pytest.raises(ConfigurationError, match="ALLOT_JWT_SECRET"):
        resolve_jwt_secret(settings)


def test_settings__come_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://h/db")
    monkeypatch.setenv("ALLOT_PORT", "9001")
    monkeypatch.setenv("ALLOT_HOST", "0.0.0.0")
    monkeypatch.setenv("ALLOT_CORS_ORIGINS", '["https://a.example"]')
    monkeypatch.setenv("ALLOT_HOLD_TTL_SECONDS", "30")
    s = Settings()
    assert s.database_url == "postgresql://h/db" and not s.embedded and not s.should_migrate
    assert (s.port, s.host, s.cors_origins, s.hold_ttl_seconds) == (
        9001,
        "0.0.0.0",
        ["https://a.example"],
        30,
    )
    monkeypatch.delenv("DATABASE_URL")
    assert Settings().embedded and Settings().should_migrate

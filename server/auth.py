"""Bearer JWTs: issue development tokens, verify incoming ones."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import jwt

from server.settings import Settings
from services.core.principal import Principal, Role

log = logging.getLogger(__name__)


class InvalidToken(Exception):
    """The token is missing a claim, expired, or not signed with our key."""


class ConfigurationError(Exception):
    """A setting is missing or wrong; the message says which and what to do."""


def key_path(settings: Settings) -> Path:
    """Where the development signing key is kept: jwt_secret in the data dir, absolute."""
    return (Path(settings.data_dir) / "jwt_secret").resolve()


def resolve_jwt_secret(settings: Settings, *, create: bool = True) -> str:
    """The signing key: ALLOT_JWT_SECRET, or for the embedded database one kept under .allot/.

    create=False (for `allot token`): a missing key file is a ConfigurationError saying where
    it looked, never a new key that the running server would not know.
    """
    if settings.jwt_secret:
        return settings.jwt_secret
    if not settings.embedded:
        raise ConfigurationError(
            "ALLOT_JWT_SECRET is not set. With an external DATABASE_URL the signing key must "
            "be configured: set ALLOT_JWT_SECRET to a long random string."
        )
    path = key_path(settings)
    if path.exists():
        secret = path.read_text(encoding="utf-8").strip()
    elif not create:
        raise ConfigurationError(
            f"no signing key at {path} (ALLOT_DATA_DIR={settings.data_dir}, from {Path.cwd()}); "
            "`allot run` keeps its key there. Run this from the folder you ran `allot run` in, "
            "or set ALLOT_DATA_DIR to the server's data folder, or set ALLOT_JWT_SECRET to the "
            "key the server uses."
        )
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(48)
        path.write_text(secret, encoding="utf-8")
        path.chmod(0o600)
    if path not in _warned:
        _warned.add(path)
        log.warning(
            "ALLOT_JWT_SECRET is not set; using a development key kept in %s. "
            "Set ALLOT_JWT_SECRET in production.",
            path,
        )
    return secret


_warned: set[Path] = set()


def issue_token(
    secret: str,
    *,
    tenant: UUID,
    user: str,
    roles: Iterable[Role],
    ttl: timedelta = timedelta(hours=12),
    algorithm: str = "HS256",
    now: datetime | None = None,
) -> str:
    """A signed token with claims sub, tenant, roles and exp."""
    issued = now or datetime.now(UTC)
    claims = {
        "sub": user,
        "tenant": str(tenant),
        "roles": sorted({r.value for r in roles}),
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=algorithm)


def verify_token(secret: str, token: str, *, algorithm: str = "HS256") -> Principal:
    """The principal a token names; InvalidToken says what is wrong, never echoing the token."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[algorithm], options={"require": ["exp", "sub", "tenant"]}
        )
    except jwt.InvalidTokenError as exc:
        raise InvalidToken(_in_words(exc, algorithm)) from exc
    try:
        tenant = UUID(str(claims["tenant"]))
    except ValueError as exc:
        raise InvalidToken("the token's tenant claim is not a UUID") from exc
    raw_roles = claims.get("roles", [])
    if not isinstance(raw_roles, list):
        raise InvalidToken("the token's roles claim is not a list")
    try:
        roles = frozenset(Role(str(r)) for r in raw_roles)
    except ValueError as exc:
        raise InvalidToken(
            "the token's roles must be among: " + ", ".join(r.value for r in Role)
        ) from exc
    return Principal(
        user_id=str(claims["sub"]),
        tenant_id=tenant,
        roles=roles,
        expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
    )


# What each claim a token must carry is, for the message saying it is missing.
_CLAIMS = {"exp": "expiry (exp)", "sub": "user (sub)", "tenant": "tenant"}


def _in_words(exc: jwt.InvalidTokenError, algorithm: str) -> str:
    """Why PyJWT refused a token, said to the client in words (never the class name: a
    client cannot act on `DecodeError`). Short: a websocket's close reason carries it."""
    if isinstance(exc, jwt.ExpiredSignatureError):
        return "the token has expired"
    if isinstance(exc, jwt.InvalidSignatureError):
        return "the token's signature does not match this server's key"
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return f"the token is not signed with {algorithm}, the algorithm this server accepts"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"the token has no {_CLAIMS.get(exc.claim, exc.claim)} claim"
    if isinstance(exc, jwt.ImmatureSignatureError):
        return "the token is not valid yet (its iat or nbf is in the future)"
    if isinstance(exc, jwt.DecodeError):
        return "the token is not a valid JWT"
    return "the token's claims are not valid"


def bearer(value: str | None) -> str | None:
    """The token in an `Authorization: Bearer <jwt>` value, if any."""
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()

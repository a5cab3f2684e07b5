"""`allot`: run the server, migrate, print tokens and the schema."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from datetime import timedelta
from typing import Any
from uuid import UUID

from server.settings import Settings, get_settings
from services.core.principal import Role

# The tenant `allot run` prints demo tokens for.
DEMO_TENANT = UUID("00000000-0000-4000-8000-00000000de70")


def _token(
    settings: Settings,
    tenant: UUID,
    user: str,
    roles: list[Role],
    hours: float,
    *,
    create_key: bool = True,
) -> str:
    from server.auth import issue_token, resolve_jwt_secret

    return issue_token(
        resolve_jwt_secret(settings, create=create_key),
        tenant=tenant,
        user=user,
        roles=roles,
        ttl=timedelta(hours=hours),
        algorithm=settings.jwt_algorithm,
    )


def cmd_token(args: argparse.Namespace) -> int:
    """Print a token signed with the key the server uses; never make up a key it does not
    know (unless --create-key), since the server would refuse every token signed with it."""
    from server.auth import ConfigurationError

    settings = get_settings()
    roles = [Role(r) for r in (args.role or ["admin"])]
    try:
        token = _token(
            settings, args.tenant, args.user, roles, args.hours, create_key=args.create_key
        )
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(token)
    return 0


def cmd_migrate(_args: argparse.Namespace) -> int:
    from db.migrate import migrate
    from server.app import database_url

    async def run() -> list[str]:
        return await migrate(await database_url(get_settings()))

    applied = asyncio.run(run())
    print("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    """Run the loyalty daily sync for every tenant now (for a cron job instead of the
    server's schedule); print each tenant's report."""
    import dataclasses
    import json
    from datetime import UTC, datetime

    from db.pool import SYSTEM_ROLE, create_pool
    from server.app import database_url
    from services.loyalty.workers import sync_all

    as_of = datetime.fromisoformat(args.as_of) if args.as_of else datetime.now(UTC)
    if as_of.tzinfo is None:
        print("--as-of needs a UTC offset, for example 2026-12-01T14:00:00-05:00", file=sys.stderr)
        return 2

    async def run() -> dict[str, object]:
        dsn = await database_url(get_settings())
        system = await create_pool(dsn, min_size=1, max_size=2, role=SYSTEM_ROLE)
        app = await create_pool(dsn, min_size=1, max_size=1)
        try:
            reports = await sync_all(system, app, as_of)
        finally:
            await system.close()
            await app.close()
        return {tenant: dataclasses.asdict(report) for tenant, report in reports.items()}

    print(json.dumps(asyncio.run(run()), indent=2))
    return 0


def cmd_schema(_args: argparse.Namespace) -> int:
    from schema.root import build_schema

    print(build_schema(get_settings().limits).as_str())
    return 0


def cmd_possible_types(_args: argparse.Namespace) -> int:
    from schema.root import build_schema
    from server.possible_types import possible_types_json

    print(possible_types_json(build_schema(get_settings().limits)))
    return 0


def prepare(settings: Settings, *, seed: bool) -> tuple[str, str]:
    """Start the database if embedded, migrate, seed the demo; return the GraphiQL banner
    and the database's DSN.

    Development tokens are printed only with the demo (never with --no-seed or
    ALLOT_SEED_DEMO=false, as in production).
    """
    import asyncpg

    from db.migrate import migrate, pending
    from server.app import database_url
    from server.auth import ConfigurationError, resolve_jwt_secret
    from server.demo import seed_demo

    resolve_jwt_secret(settings)  # a missing key is reported before anything else happens

    def token(user: str, roles: list[Role]) -> str:
        return _token(settings, DEMO_TENANT, user, roles, 12)

    dsn = ""

    async def run() -> list[str]:
        nonlocal dsn
        dsn = await database_url(settings)
        if settings.should_migrate:
            await migrate(dsn)
        else:
            conn = await asyncpg.connect(dsn)
            try:
                missing = await pending(conn)
            finally:
                await conn.close()
            if missing:
                raise ConfigurationError(
                    f"the database has {len(missing)} migration(s) to apply "
                    f"({', '.join(missing)}): run `allot migrate` first, "
                    "or set ALLOT_MIGRATE_ON_START=true"
                )
        return await seed_demo(dsn, DEMO_TENANT, token, base) if seed else []

    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    base = f"http://{host}:{settings.port}"
    lines = asyncio.run(run())
    url = f"http://{settings.host}:{settings.port}/graphql"
    banner = ["", f"Allot is starting. GraphiQL: {url}", ""]
    if seed:
        admin = token("demo-admin", [Role.ADMIN])
        banner += [
            f"Demo tenant {DEMO_TENANT}. Paste into GraphiQL's Headers tab to act as its admin:",
            f'  {{"Authorization": "Bearer {admin}"}}',
            *lines,
        ]
    else:
        banner.append("Make a token with: allot token --tenant <uuid> --user <id> --role admin")
    return "\n".join([*banner, ""]), dsn


def _exit_on_sigterm() -> None:
    """SIGTERM (a process manager's stop) ends `allot run` as Ctrl-C does: by unwinding, so
    exit handlers run and an embedded PostgreSQL started here stops too. (uvicorn shuts down
    gracefully, then raises the signal again; its default action would kill the process
    before any exit handler.)"""

    def stop(_signum: int, _frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)


def cmd_run(args: argparse.Namespace) -> int:
    import uvicorn

    from server.auth import ConfigurationError
    from server.logs import configure

    overrides = {k: v for k, v in {"host": args.host, "port": args.port}.items() if v is not None}
    settings = get_settings().model_copy(update=overrides)
    configure(settings.log_level)
    try:
        banner, dsn = prepare(settings, seed=settings.seed_demo and not args.no_seed)
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(banner, flush=True)
    _exit_on_sigterm()
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,
        "access_log": False,
        "ws_ping_interval": 20,
        "ws_max_size": settings.max_body_bytes,
        # Events are small; compressing each one for every subscriber costs more than it saves.
        "ws_per_message_deflate": False,
    }
    if settings.workers > 1:
        # One process per worker on the same port, each with its own pool, hub and hold
        # expirer; every process hears every change through Postgres. The workers use the
        # database and signing key prepared here, so an embedded server stays this process's
        # and stops with it.
        from server.auth import resolve_jwt_secret

        os.environ["DATABASE_URL"] = dsn
        os.environ["ALLOT_JWT_SECRET"] = resolve_jwt_secret(settings)
        os.environ["ALLOT_MIGRATE_ON_START"] = "false"
        uvicorn.run("server.app:app_factory", factory=True, workers=settings.workers, **options)
        return 0
    from server.app import create_app, tune_gc

    app = create_app(settings)
    tune_gc()
    uvicorn.run(app, **options)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `allot` command."""
    parser = argparse.ArgumentParser(prog="allot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="start the server (embedded PostgreSQL unless DATABASE_URL)")
    run.add_argument("--host")
    run.add_argument("--port", type=int)
    run.add_argument("--no-seed", action="store_true", help="do not create the demo data")
    run.set_defaults(fn=cmd_run)

    sub.add_parser("migrate", help="apply pending migrations").set_defaults(fn=cmd_migrate)
    sync = sub.add_parser("sync", help="run the loyalty daily sync for every tenant now")
    sync.add_argument("--as-of", help="count events up to this ISO 8601 time (default: now)")
    sync.set_defaults(fn=cmd_sync)
    sub.add_parser("schema", help="print the GraphQL schema (SDL)").set_defaults(fn=cmd_schema)
    sub.add_parser(
        "possible-types",
        help="print each union's and interface's member types as JSON (Apollo possibleTypes)",
    ).set_defaults(fn=cmd_possible_types)

    token = sub.add_parser("token", help="print a development token")
    token.add_argument("--tenant", type=UUID, required=True, help="tenant id (a UUID)")
    token.add_argument("--user", required=True, help="user id (the sub claim)")
    token.add_argument(
        "--role", action="append", choices=[r.value for r in Role], help="repeat for several"
    )
    token.add_argument("--hours", type=float, default=12.0, help="validity (default 12)")
    token.add_argument(
        "--create-key",
        action="store_true",
        help="without ALLOT_JWT_SECRET, make the development key in the data dir if there is "
        "none (for a server not started yet; `allot run` then uses it)",
    )
    token.set_defaults(fn=cmd_token)

    args = parser.parse_args(argv)
    code: int = args.fn(args)
    return code


if __name__ == "__main__":
    sys.exit(main())

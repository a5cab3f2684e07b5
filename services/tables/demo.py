"""Demo data for the tables area: a restaurant with 20 tables and 60 bookings this evening."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from db.pool import tenant_transaction
from db.sql import load
from services.core.principal import Principal, Role
from services.core.tenants import ensure_tenant
from services.tables import flows
from services.tables.config import TablesConfig
from services.tables.errors import NoTablesAvailable

Q = load("tables")

TIMEZONE = "Europe/London"
# (zone, label prefix, [(min, max), ...]) - 20 tables in 3 zones
LAYOUT: tuple[tuple[str, str, tuple[tuple[int, int], ...]], ...] = (
    ("Main", "M", ((1, 2), (1, 2), (2, 4), (2, 4), (2, 4), (2, 4), (4, 6), (4, 6), (6, 8))),
    ("Terrace", "T", ((1, 2), (1, 2), (2, 4), (2, 4), (2, 4), (4, 6))),
    ("Bar", "B", ((1, 2), (1, 2), (1, 2), (2, 4), (2, 4))),
)
GUESTS = (
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Elif",
    "Femi",
    "Grace",
    "Hugo",
    "Ines",
    "Jamal",
    "Kai",
    "Lena",
    "Mo",
    "Nia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tariq",
)


def evening(
    today: date, tz: ZoneInfo, count: int, rng: random.Random
) -> list[tuple[str, int, datetime, datetime]]:
    """`count` bookings between 17:00 and 22:00 local time: (guest, party, start, end)."""
    out: list[tuple[str, int, datetime, datetime]] = []
    for i in range(count):
        slot = rng.randrange(0, 21)  # quarter hours from 17:00 to 22:00
        starts = datetime.combine(today, time(17, 0), tz) + timedelta(minutes=15 * slot)
        party = rng.choice((1, 2, 2, 2, 2, 3, 4, 4, 4, 5, 6, 8))
        length = timedelta(minutes=90 if party <= 2 else 120)
        name = f"{GUESTS[i % len(GUESTS)]} {chr(65 + (i * 7) % 26)}."
        out.append((name, party, starts, starts + length))
    return sorted(out, key=lambda b: b[2])


async def seed(pool: asyncpg.Pool, tenant: UUID, now: datetime | None = None) -> UUID | None:
    """Fill an empty tables area for `tenant`; return the restaurant id (None if not empty).

    About half of the bookings are auto-assigned so the floor has something on it.
    """
    tz = ZoneInfo(TIMEZONE)
    today = (now or datetime.now(tz)).astimezone(tz).date()
    rng = random.Random(today.toordinal())
    async with tenant_transaction(pool, tenant) as conn:
        if await conn.fetchval(Q["any_restaurant"]):
            return None
        await ensure_tenant(conn)
        row = await conn.fetchrow(Q["insert_restaurant"], "Allot Bistro", TIMEZONE)
        assert row is not None
        restaurant_id: UUID = row["id"]
        labels, zones, lows, highs = [], [], [], []
        for zone_name, prefix, sizes in LAYOUT:
            for n, (low, high) in enumerate(sizes, start=1):
                labels.append(f"{prefix}{n}")
                zones.append(zone_name)
                lows.append(low)
                highs.append(high)
        await conn.execute(
            *Q.bind(
                "insert_dining_tables",
                restaurant_id=restaurant_id,
                labels=labels,
                zones=zones,
                min_capacities=lows,
                max_capacities=highs,
            )
        )
        bookings = evening(today, tz, 60, rng)
        rows = await conn.fetch(
            *Q.bind(
                "insert_bookings",
                restaurant_id=restaurant_id,
                guest_names=[b[0] for b in bookings],
                party_sizes=[b[1] for b in bookings],
                starts=[b[2] for b in bookings],
                ends=[b[3] for b in bookings],
            )
        )
    admin = Principal("demo-seeder", tenant, frozenset({Role.ADMIN}))
    config = TablesConfig()
    for r in rows[::2]:
        try:
            await flows.auto_assign(pool, admin, str(r["id"]), config)
        except NoTablesAvailable:
            continue  # a busy evening: some bookings wait for staff
    return restaurant_id


async def seeder(
    pool: asyncpg.Pool, tenant: UUID, token: Callable[[str, list[Role]], str]
) -> list[str]:
    """server.demo's seeder: seed if empty, and print a staff token to try it with."""
    restaurant_id = await seed(pool, tenant)
    lines = [
        "",
        "Tables: paste this into GraphiQL's headers to act as demo staff (propose, confirm,"
        " floorEvents):",
        f'  {{"Authorization": "Bearer {token("demo-staff", [Role.STAFF])}"}}',
    ]
    if restaurant_id is None:
        lines.append("  Start with: { restaurants { id name tables { id label zone } } }")
        return lines
    tz = ZoneInfo(TIMEZONE)
    today = datetime.now(tz).date()
    start = datetime.combine(today, time(16, 0), tz).isoformat()
    end = datetime.combine(today, time(23, 59), tz).isoformat()
    lines += [
        f"  Seeded 'Allot Bistro' ({restaurant_id}): 20 tables in 3 zones, 60 bookings this"
        " evening, about half of them auto-assigned. This evening's floor:",
        f'  {{ floor(restaurantId: "{restaurant_id}", from: "{start}", to: "{end}")'
        " { bookings { id guestName partySize startsAt status tables { id label } } } }",
    ]
    return lines

"""Every subscription's shape: a snapshot, then deltas with an increasing sequence.

An area writes a subscription by giving `live` the topic, a snapshot loader and
a delta loader. `live` subscribes before it reads the snapshot (so nothing
committed in between is lost), checks each change against the subscriber's
tenant and rights, and answers a Resync marker with a fresh snapshot marked
`resync`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from services.core.principal import Principal
from services.errors import Forbidden
from services.realtime import metrics
from services.realtime.hub import Change, Hub, Prepare, Resync

S = TypeVar("S")
D = TypeVar("D")


@dataclass(frozen=True, slots=True)
class Snapshot(Generic[S]):
    """The whole current state; `resync` is true when it replaces missed deltas."""

    sequence: int
    resync: bool
    data: S


@dataclass(frozen=True, slots=True)
class Delta(Generic[D]):
    """One change since the previous event."""

    sequence: int
    change: Change
    data: D


async def live(
    hub: Hub,
    principal: Principal,
    topic: str,
    *,
    name: str,
    snapshot: Callable[[], Awaitable[S]],
    delta: Callable[[Change], Awaitable[D | None]],
    allowed: Callable[[Change], bool] = lambda _change: True,
    prepare: Prepare | None = None,
) -> AsyncGenerator[Snapshot[S] | Delta[D], None]:
    """Yield a snapshot, then a delta per relevant change, forever.

    `delta` returns None for a change the subscriber should not see (for
    example a row outside its window). A change of another tenant is never
    passed to `delta`. The subscription ends with Forbidden once the caller's
    token has expired. `name` labels the subscription in the metrics.
    `prepare` is the topic's once-per-change step (see Hub): typically the shared
    read that `delta` then finds done.
    """
    sequence = 0
    delivered = metrics.EVENTS_DELIVERED.labels(name)
    active = metrics.ACTIVE_SUBSCRIPTIONS.labels(name)
    active.inc()
    try:
        async with hub.listen(topic, prepare=prepare) as subscriber:
            sequence += 1
            yield Snapshot(sequence, False, await snapshot())
            delivered.inc()
            while True:
                item = await subscriber.get()
                if principal.expired():
                    raise Forbidden("the token has expired")
                if isinstance(item, Resync):
                    sequence += 1
                    yield Snapshot(sequence, True, await snapshot())
                    delivered.inc()
                    continue
                if item.tenant != principal.tenant_id or not allowed(item):
                    continue
                data = await delta(item)
                if data is None:
                    continue
                sequence += 1
                yield Delta(sequence, item, data)
                delivered.inc()
    finally:
        active.dec()

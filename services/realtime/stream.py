"""Every subscription's shape: a snapshot, then deltas with an increasing sequence.

An area writes a subscription by giving `live` the topic, a snapshot loader, the read of a
change (`read`: the same for every subscriber, so it runs once per change in this process)
and optionally a per-subscriber filter (`visible`). `live` subscribes, waits for Hub.barrier,
then reads the snapshot (so nothing committed in between is lost, and what was committed
before is in the snapshot and not sent again as a delta), checks each change against the
subscriber's tenant and rights, and answers a Resync marker with a fresh snapshot marked
`resync`. Each delta carries a `key` naming what it holds, so that the schema executes and
serializes it once for every subscriber with the same key (schema.fanout.shared_events).

When the subscription runs with a `direct_sink` (the schema's, on graphql-transport-ws),
the same steps run for each change in the hub's task while the subscription waits with
nothing queued (`direct`): the same checks, the same sequence, the delta handed to the sink,
and the subscription's task is not woken. Whatever cannot be done then (a read still
running, an expired token, a sink that must wait) goes to the subscription's queue instead.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Hashable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, overload

from services.core.principal import Principal
from services.errors import Forbidden
from services.realtime import metrics
from services.realtime.hub import Change, Hub, Resync

S = TypeVar("S")
D = TypeVar("D")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Snapshot(Generic[S]):
    """The whole current state; `resync` is true when it replaces missed deltas."""

    sequence: int
    resync: bool
    data: S


@dataclass(frozen=True, slots=True)
class Delta(Generic[D]):
    """One change since the previous event.

    `key` is the same for every subscriber that gets this delta with this `data` (the
    subscription, the change, the tenant and the audience): what lets the delta be executed
    once for all.
    """

    sequence: int
    change: Change
    data: D
    key: Hashable


class DirectSink(Protocol):
    """Where a subscription's deltas can go without waking its reader (the schema's sink)."""

    def offer(self, delta: Delta[Any]) -> bool:
        """Send `delta` now if it can (True); False: it goes the reader's way."""
        ...


# The running subscription's sink, if it has one (schema.fanout sets it for an operation).
direct_sink: ContextVar[DirectSink | None] = ContextVar("allot_direct_sink", default=None)


@overload
def live(
    hub: Hub,
    principal: Principal,
    topic: str,
    *,
    name: str,
    snapshot: Callable[[], Awaitable[S]],
    read: Callable[[Change], Awaitable[D | None]],
    allowed: Callable[[Change], bool] = ...,
    audience: Hashable = ...,
) -> AsyncGenerator[Snapshot[S] | Delta[D], None]: ...


@overload
def live(
    hub: Hub,
    principal: Principal,
    topic: str,
    *,
    name: str,
    snapshot: Callable[[], Awaitable[S]],
    read: Callable[[Change], Awaitable[R | None]],
    visible: Callable[[Change, R], D | None],
    allowed: Callable[[Change], bool] = ...,
    audience: Hashable = ...,
) -> AsyncGenerator[Snapshot[S] | Delta[D], None]: ...


async def live(
    hub: Hub,
    principal: Principal,
    topic: str,
    *,
    name: str,
    snapshot: Callable[[], Awaitable[S]],
    read: Callable[[Change], Awaitable[Any]],
    visible: Callable[[Change, Any], Any] | None = None,
    allowed: Callable[[Change], bool] = lambda _change: True,
    audience: Hashable = None,
) -> AsyncGenerator[Snapshot[S] | Delta[Any], None]:
    """Yield a snapshot, then a delta per relevant change, forever.

    `read` loads what a change is about (as the change's tenant, hub.read_as); it must not
    depend on the subscriber, as it runs once per change for every subscriber of this
    process, before any of them is woken. `visible` then decides, per subscriber, whether
    the row concerns it (for example a row outside its window: None), and may reshape it:
    the same way for every subscriber of one `audience` (for example each guest of a party
    sees only their own roles: the guest is the audience), which is part of each delta's
    key. A change of another tenant is never read for this subscriber. The subscription
    ends with Forbidden once the caller's token has expired.
    `name` names the subscription, in the metrics and in each delta's key.
    """

    async def shared_read(change: Change) -> Any:
        return await hub.shared((name, change), lambda: read(change))

    sequence = 0
    sink = direct_sink.get()
    seen: int | None = None  # Hub.barrier before the last snapshot

    def covered(item: Change) -> bool:
        """Whether the last snapshot already holds this change (committed before it)."""
        return seen is not None and item.arrival is not None and item.arrival <= seen

    def data_of(item: Change, row: Any) -> Any:
        return row if row is None or visible is None else visible(item, row)

    def direct(item: Change) -> bool:
        """The loop below for one change, without waking this reader, when nothing needs to
        wait: the change's read is done and the sink can send the delta now."""
        nonlocal sequence
        if principal.expired():
            return False
        if covered(item) or item.tenant != principal.tenant_id or not allowed(item):
            return True
        done, row = hub.ready((name, item))
        if not done:
            return False
        data = data_of(item, row)
        if data is None:
            return True
        if sink is None or not sink.offer(
            Delta(sequence + 1, item, data, (name, item, principal.tenant_id, audience))
        ):
            return False
        sequence += 1
        delivered.inc()
        metrics.DIRECT_DELTAS.inc()
        return True

    delivered = metrics.EVENTS_DELIVERED.labels(name)
    active = metrics.ACTIVE_SUBSCRIPTIONS.labels(name)
    active.inc()
    try:
        async with hub.listen(topic, prepare=shared_read) as subscriber:
            seen = await hub.barrier(principal.tenant_id)
            sequence += 1
            yield Snapshot(sequence, False, await snapshot())
            delivered.inc()
            if sink is not None:
                subscriber.direct = direct
            while True:
                item = await subscriber.get()
                if principal.expired():
                    raise Forbidden("the token has expired")
                if isinstance(item, Resync):
                    seen = await hub.barrier(principal.tenant_id)
                    sequence += 1
                    yield Snapshot(sequence, True, await snapshot())
                    delivered.inc()
                    continue
                if covered(item) or item.tenant != principal.tenant_id or not allowed(item):
                    continue
                data = data_of(item, await shared_read(item))
                if data is None:
                    continue
                sequence += 1
                yield Delta(sequence, item, data, (name, item, principal.tenant_id, audience))
                delivered.inc()
    finally:
        active.dec()

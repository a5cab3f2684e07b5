"""The realtime hub: one LISTEN connection per process, topics routed in process.

`PostgresListenBackend` is a broadcaster backend on a dedicated LISTEN
connection (db.listener) and one channel. `Hub` is a broadcaster `Broadcast`
whose fan-out is our own: a dict of topic -> subscribers, each with a bounded
queue. A subscriber that falls behind has its queue replaced by a single
RESYNC marker, and every subscriber gets RESYNC after the LISTEN connection is
restored, so a subscription can always recover with a fresh snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar, cast
from uuid import UUID

import asyncpg
from broadcaster import Broadcast, BroadcastBackend, Event

from db import rows as json_rows
from db.listener import CHANNEL, Listener
from db.pool import TenantReader
from db.rows import Row
from services.realtime import metrics

log = logging.getLogger(__name__)

T = TypeVar("T")

RESYNC_TOPIC: Final = "*resync*"
# A hub's own notification, to learn when everything committed before it has arrived.
BARRIER_TOPIC: Final = "*barrier*"


@dataclass(frozen=True, slots=True)
class Change:
    """One committed change, as a trigger announced it: what changed, and the rows of the
    area's view for it when they fitted in the notification (`rows`; None: read them)."""

    topic: str
    kind: str
    id: UUID | None
    version: int | None
    tenant: UUID | None
    # Not part of what the change is (its equality and hash): the same change, read or carried.
    rows: list[dict[str, Any]] | None = field(default=None, compare=False, hash=False, repr=False)
    # How many notifications this hub had received with this one (Hub.barrier).
    arrival: int | None = field(default=None, compare=False, hash=False, repr=False)

    @classmethod
    def parse(cls, payload: str) -> Change:
        """Read a notification payload `{"t","k","id","v","tn"}`, with `"r"` when it carries
        the rows."""
        return cls.of(json.loads(payload))

    @classmethod
    def of(cls, data: dict[str, Any], arrival: int | None = None) -> Change:
        """The change a parsed notification payload announces."""
        rows = data.get("r")
        return cls(
            topic=str(data["t"]),
            kind=str(data["k"]),
            id=UUID(data["id"]) if data.get("id") else None,
            version=int(data["v"]) if data.get("v") is not None else None,
            tenant=UUID(data["tn"]) if data.get("tn") else None,
            rows=rows if isinstance(rows, list) else None,
            arrival=arrival,
        )


async def wait_shared(future: asyncio.Future[T]) -> T:
    """Await a future many callers share; cancelling one caller never cancels the future.

    Cheaper than asyncio.shield when a thousand subscribers wait on one load.
    """
    if not future.done():
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake(_done: asyncio.Future[T]) -> None:
            if not waiter.done():
                waiter.set_result(None)

        future.add_done_callback(wake)
        try:
            await waiter
        finally:
            future.remove_done_callback(wake)
    return future.result()


class Resync:
    """Marker: the subscriber may have missed changes and must take a fresh snapshot."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


class PostgresListenBackend(BroadcastBackend):
    """broadcaster backend on one dedicated LISTEN connection and one channel.

    Topics are not Postgres channels: subscribe/unsubscribe cost nothing, so any
    number of clients may subscribe to a new topic at once.
    """

    def __init__(
        self, dsn: str, *, keepalive_seconds: float = 5.0, max_backoff_seconds: float = 10.0
    ) -> None:
        self.dsn = dsn
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self.listener = Listener(
            dsn,
            self._payload,
            self._reconnected,
            keepalive_seconds=keepalive_seconds,
            max_backoff_seconds=max_backoff_seconds,
        )

    def _payload(self, payload: str) -> None:
        metrics.NOTIFICATIONS.inc()
        try:
            data = json.loads(payload)
            topic = data["t"]
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed notification")
            return
        self._events.put_nowait(Event(str(topic), data))  # parsed once, for every subscriber

    def _reconnected(self) -> None:
        metrics.HUB_RECONNECTS.inc()
        self._events.put_nowait(Event(RESYNC_TOPIC, "reconnect"))

    async def connect(self) -> None:
        await self.listener.start()

    async def disconnect(self) -> None:
        await self.listener.stop()

    async def subscribe(self, channel: str) -> None:
        """Nothing to do: the one LISTEN serves every topic."""

    async def unsubscribe(self, channel: str) -> None:
        """Nothing to do: the one LISTEN serves every topic."""

    async def publish(self, channel: str, message: Any) -> None:
        """Send a notification outside any transaction (areas notify from triggers instead)."""
        conn = await asyncpg.connect(self.dsn)
        try:
            await conn.execute("select pg_notify($1, $2)", CHANNEL, str(message))
        finally:
            await conn.close()

    async def next_published(self) -> Event:
        return await self._events.get()


class Subscriber:
    """A bounded queue of changes for one subscription.

    Thousands of them wait idle, so it is small: the oldest queued item in a slot of its own
    (one change at a time is the usual case), a deque only for the ones behind it while
    there are any, and a future only while its reader waits (an asyncio.Event and a deque
    each were about 1.5 KB per subscription, queue empty or not).
    """

    __slots__ = ("_head", "_maxsize", "_rest", "_waiter", "direct")

    def __init__(self, maxsize: int) -> None:
        self._head: Change | Resync | None = None
        self._rest: deque[Change | Resync] | None = None
        self._maxsize = maxsize
        self._waiter: asyncio.Future[None] | None = None
        # Handles a change right away, in the hub's task, without waking the reader: True if
        # it did (services.realtime.stream.live sets it).
        self.direct: Callable[[Change], bool] | None = None

    def offer(self, change: Change) -> None:
        """Deliver a change: through `direct` while the reader waits with nothing queued,
        else queued for the reader."""
        direct = self.direct
        if direct is not None and self._head is None and self._waiter is not None:
            try:
                if direct(change):
                    return
            except Exception:  # the reader's own path meets it again, and says so
                pass
        self.push(change)

    def push(self, item: Change | Resync) -> None:
        """Queue an item; on overflow drop everything queued and ask for a resync."""
        if isinstance(item, Resync) or len(self) >= self._maxsize:
            if not isinstance(item, Resync):
                item = Resync("overflow")
            self._head = self._rest = None
            metrics.RESYNCS.labels(item.reason).inc()
        if self._head is None:
            self._head = item
        elif self._rest is None:
            self._rest = deque((item,))
        else:
            self._rest.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> Change | Resync:
        """The next change, or a Resync marker."""
        while self._head is None:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        item = self._head
        rest = self._rest
        if rest:
            self._head = rest.popleft()
            if not rest:
                self._rest = None
        else:
            self._head = None
        return item

    def __len__(self) -> int:
        if self._head is None:
            return 0
        return 1 + (len(self._rest) if self._rest is not None else 0)


Prepare = Callable[[Change], Awaitable[object]]


class Hub(Broadcast):
    """Routes every notification to the subscribers of its topic, without blocking.

    A topic may have a `prepare` step (given by its subscribers): the work every subscriber
    would do first for a change, typically reading the changed row once for all (`shared`).
    The hub then runs it once per change and wakes the subscribers when it is done, so a
    thousand subscribers do not each wait for the same read. Changes of a topic still reach
    its subscribers in the order they were committed. In a flood (more changes waiting than
    a subscriber may queue) the rest go through unprepared: the subscribers' queues overflow
    and they resync, as they would have anyway.
    """

    def __init__(self, backend: PostgresListenBackend, *, queue_size: int = 256) -> None:
        super().__init__(backend=backend)
        self.backend = backend
        self._topics: dict[str, set[Subscriber]] = {}
        self._prepare: dict[str, Prepare] = {}
        self._pending: dict[str, asyncio.Task[None]] = {}  # the last delivery still preparing
        self._backlog: dict[str, int] = {}  # changes of a topic waiting to be delivered
        self._queue_size = queue_size
        # One read per change for every subscriber (`shared`), kept for the subscribers that
        # reach that change later than the prepare step did; bounded, oldest out first.
        self._memo: OrderedDict[Any, asyncio.Future[Any]] = OrderedDict()
        self._reader: TenantReader | None = None
        self._converters: dict[str, json_rows.Converters] = {}  # view -> its JSON decoding
        self.arrived = 0  # notifications received so far (Change.arrival)
        self._barriers: dict[str, asyncio.Future[int]] = {}  # barrier id -> its waiter

    @property
    def listening(self) -> bool:
        """True while the LISTEN connection is up."""
        return self.backend.listener.listening

    async def _listener(self) -> None:
        while True:
            event = await self._backend.next_published()
            if event.channel == RESYNC_TOPIC:
                for waiter in self._barriers.values():  # theirs may be lost: resyncs follow
                    if not waiter.done():
                        waiter.set_result(self.arrived)
                self._memo.clear()
                for pending in self._pending.values():
                    pending.cancel()  # the snapshots after the resync cover those changes
                self._pending.clear()
                self._backlog.clear()
                for everyone in self._topics.values():
                    for subscriber in everyone:
                        subscriber.push(Resync("reconnect"))
                continue
            self.arrived += 1
            data = cast(dict[str, Any], event.message)  # parsed by _payload
            topic = event.channel
            if topic == BARRIER_TOPIC:
                barrier = self._barriers.get(str(data.get("id")))
                if barrier is not None and not barrier.done():
                    barrier.set_result(self.arrived)
                continue
            if not self._topics.get(topic):
                continue
            try:
                change = Change.of(data, self.arrived)
            except (ValueError, KeyError, TypeError):
                log.warning("ignored a malformed notification")
                continue
            prepare = self._prepare.get(topic)
            if prepare is None and topic not in self._pending:
                self._deliver(topic, change)
                continue
            waiting = self._backlog.get(topic, 0)
            if waiting >= self._queue_size:
                prepare = None
            self._backlog[topic] = waiting + 1
            self._pending[topic] = asyncio.create_task(
                self._prepared(topic, change, prepare, self._pending.get(topic))
            )

    async def _prepared(
        self,
        topic: str,
        change: Change,
        prepare: Prepare | None,
        before: asyncio.Task[None] | None,
    ) -> None:
        """Prepare the change, then deliver it right after the topic's previous change."""
        try:
            if prepare is not None:
                await prepare(change)
        except Exception:
            log.exception(
                "preparing a change of %s failed; its subscribers read it themselves", topic
            )
        finally:
            if before is not None:
                await asyncio.wait([before])
        self._deliver(topic, change)
        self._backlog[topic] -= 1
        if self._pending.get(topic) is asyncio.current_task():
            del self._pending[topic]
            del self._backlog[topic]

    def _deliver(self, topic: str, change: Change) -> None:
        for subscriber in list(self._topics.get(topic, ())):
            subscriber.offer(change)

    @asynccontextmanager
    async def listen(
        self, *topics: str, prepare: Prepare | None = None
    ) -> AsyncIterator[Subscriber]:
        """Receive the changes of `topics` until the block exits.

        `prepare` (the same for every subscriber of a topic) runs once per change before any
        subscriber gets it.
        """
        subscriber = Subscriber(self._queue_size)
        for topic in topics:
            self._topics.setdefault(topic, set()).add(subscriber)
            if prepare is not None:
                self._prepare.setdefault(topic, prepare)
        try:
            yield subscriber
        finally:
            for topic in topics:
                listening = self._topics.get(topic)
                if listening is not None:
                    listening.discard(subscriber)
                    if not listening:
                        del self._topics[topic]
                        self._prepare.pop(topic, None)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscriber]:  # type: ignore[override]
        """broadcaster's API, routed through `listen` (race-free, bounded)."""
        async with self.listen(channel) as subscriber:
            yield subscriber

    def subscriber_count(self, topic: str | None = None) -> int:
        """How many subscriptions listen to `topic` (or to any topic)."""
        if topic is not None:
            return len(self._topics.get(topic, ()))
        return sum(len(subscribers) for subscribers in self._topics.values())

    async def shared(self, key: Any, load: Callable[[], Awaitable[T]]) -> T:
        """Run `load` once per key for all callers: one read per event, not per subscriber.

        The key must include everything the result depends on: the change and
        the reader's authorization scope.
        """
        future = self._memo.get(key)
        if future is None:
            future = asyncio.ensure_future(load())
            self._memo[key] = future
            while len(self._memo) > 1024:
                self._memo.popitem(last=False)
        try:
            result: T = await wait_shared(future)
        except Exception:
            if self._memo.get(key) is future:
                del self._memo[key]
            raise
        return result

    async def barrier(self, tenant_id: UUID, timeout: float = 5.0) -> int | None:
        """Wait until every notification committed before now has reached this hub: the
        number received by then, so that a change with `arrival` at most that was committed
        before anything read after this returns (a subscription's snapshot holds it). None if
        the hub cannot tell in time (its LISTEN connection is down: a resync follows)."""
        if self._reader is None:
            return None
        token = uuid.uuid4().hex
        waiter: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._barriers[token] = waiter
        payload = json.dumps({"t": BARRIER_TOPIC, "id": token})
        try:
            async with self._reader.read_as(tenant_id) as conn:
                await conn.execute("select pg_notify($1, $2)", CHANNEL, payload)
            return await asyncio.wait_for(waiter, timeout)
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return None
        finally:
            del self._barriers[token]

    def ready(self, key: Any) -> tuple[bool, Any]:
        """(True, result) if `shared`'s load for `key` is done and succeeded, else (False,
        None): for a caller that must not wait."""
        future = self._memo.get(key)
        if future is None or not future.done() or future.cancelled() or future.exception():
            return False, None
        return True, future.result()

    async def connect(self) -> None:
        """Open the connections to read changed rows with, then start listening."""
        self._reader = await TenantReader.open(self.backend.dsn)
        await super().connect()

    async def rows(self, change: Change, view: str, key: str, value: object) -> list[Row]:
        """The rows of `view` whose `key` is `value`: those the notification carried, or else
        read as the change's tenant (one statement). `view` must be the one the area's trigger
        sends for this change (db/migrations/0011_notify_rows.sql)."""
        assert change.tenant is not None
        if change.rows is not None:
            convert = self._converters.get(view)
            if convert is None:
                assert self._reader is not None
                async with self._reader.read_as(change.tenant) as conn:  # once per view
                    convert = await json_rows.converters(conn, view)
                self._converters[view] = convert
            return json_rows.decode(convert, change.rows)
        async with self.read_as(change.tenant) as conn:
            return list(await conn.fetch(f"select * from {view} where {key} = $1", value))

    def read_as(self, tenant_id: UUID) -> AbstractAsyncContextManager[asyncpg.Connection]:
        """A connection to read a change's rows as its tenant, one round trip a statement
        (db.pool.TenantReader): for `prepare` steps and `shared` loads."""
        if self._reader is None:
            raise RuntimeError("the hub is not connected")
        metrics.REALTIME_READS.inc()
        return self._reader.read_as(tenant_id)

    async def close(self) -> None:
        """Stop listening and wake every subscriber with nothing more to come."""
        with contextlib.suppress(Exception):
            await self.disconnect()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader.close()

"""One execution and one serialization per subscription delta, whatever the number of readers.

Every subscription field is written with `shared_events(stream, snapshot=..., delta=...)`:
it turns a services stream (services.realtime.stream.live) into GraphQL events, each delta
wrapped in `Shared(key, sequence, build)`, where the key (the delta's own) names the change
and everything the result depends on, and `build` makes the event object. Then:

* On a graphql-transport-ws operation (the server sets a `Sink` for it), the frame goes on
  the socket itself: the selection set is executed once per (key, document, variables) for
  every operation of this process, serialized once with a marker where `sequence` goes, and
  each operation sends that text with its own sequence and operation id. No per-reader
  execution, result object or JSON encoding. While the subscription waits, the hub's task
  does it (`Sink.offer`, called by services.realtime.stream.live's direct path), so a
  thousand subscribers cost a thousand socket writes, not a thousand task wake-ups;
  otherwise the subscription's own task does (`await shared.sent()`).
* Otherwise (legacy graphql-ws, or when the result has errors) the resolver yields
  `shared.event()`: `SharedEventExecutor` still executes it once per key and hands each reader
  a copy with its own `sequence` (`PersonalData`, serialized once too).

Snapshots and resyncs are not shared: they execute per reader as usual.

`SharedEventExecutor` subclasses strawberry's graphql-core execution context
(`StrawberryGraphQLCoreExecutionContext`, not public API): tested on strawberry-graphql
0.341.x, the range pyproject.toml allows.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import secrets
from collections import OrderedDict
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Hashable,
)
from contextvars import ContextVar
from functools import partial
from typing import Any, Generic, TypeVar, cast

from graphql import ExecutionResult, FieldNode, InlineFragmentNode, OperationType, print_ast
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from services.realtime import metrics
from services.realtime.hub import wait_shared
from services.realtime.stream import Delta, Snapshot, direct_sink

T = TypeVar("T")
S = TypeVar("S")
D = TypeVar("D")
_Keys = tuple[str, tuple[str, ...]]
_Doc = tuple[str, str, "_Keys | None"]
# The result, and its JSON cut where each reader's sequence goes (None: not shareable).
_Shared = tuple[ExecutionResult, "list[str] | None"]

_SHARE_ATTR = "_allot_share"
# One execution per (delta key, document, variables), kept while readers of that delta may
# still ask for it: a reader that is a few events behind finds the execution done. Bounded,
# as the hub's read memo is, so memory does not grow with the number of events.
_MEMO_SIZE = 512
_memo: OrderedDict[Hashable, asyncio.Future[_Shared]] = OrderedDict()
# Stands in for `sequence` in a shared result's JSON; random, so no data can look like it.
_MARKER = secrets.token_hex(16)
_MARKER_JSON = json.dumps(_MARKER)


class Sink:
    """An operation's socket, for frames made once for every reader: set by the server.

    Its frames go out in order: a delta sent straight from the hub's task (`offer`) whose
    write had to wait (a socket slow to drain) is awaited before the operation sends
    anything else, and `offer` declines while one is waiting.
    """

    def __init__(self, operation_id: str, send: Callable[[str], Coroutine[Any, Any, None]]) -> None:
        self.prefix = f'{{"id":{json.dumps(operation_id)},"type":"next","payload":{{"data":'
        self._send = send
        self.executor: SharedEventExecutor | None = None  # the operation's, once it has one
        self.build: Callable[[Delta[Any]], Any] | None = None  # a delta's event (shared_events)
        self._writing: asyncio.Future[None] | None = None  # an offered frame still being sent

    async def flush(self) -> None:
        """Wait until every frame offered so far is on the socket."""
        writing = self._writing
        if writing is not None and not writing.done():
            await asyncio.wait((writing,))  # how it ended is the socket's business

    async def send(self, text: str) -> None:
        """Send one frame after those offered before it."""
        await self.flush()
        await self._send(text)

    def execution(self, key: Hashable, event: Callable[[], Any]) -> asyncio.Future[_Shared] | None:
        """The one execution of this operation's document for the delta `key` (`event` makes
        the delta's event object); None if this operation's deltas are not shared."""
        executor = self.executor
        if executor is None or executor.doc is None or executor.doc[2] is None:
            return None
        doc = executor.doc
        return _execution(doc, key, lambda: executor.for_event(event()))

    def frame(self, sequence: int, pieces: list[str]) -> str:
        """The `next` message of a shared result, with this operation's id and `sequence`."""
        return f"{self.prefix}{str(sequence).join(pieces)}}}}}"

    def offer(self, delta: Delta[Any]) -> bool:
        """Send a delta's frame now, from the hub's task, if its execution is done (plain
        fields) and nothing of this operation is still being written; else False."""
        build = self.build
        if build is None or (self._writing is not None and not self._writing.done()):
            return False
        execution = self.execution(delta.key, lambda: shareable(build(delta), delta.key))
        if execution is None or not execution.done():
            return False
        _, pieces = execution.result()
        if pieces is None:
            return False
        self._writing = eagerly(self._send(self.frame(delta.sequence, pieces)))
        metrics.SHARED_FRAMES.inc()
        return True


# The running operation's sink (the server sets it for each graphql-transport-ws operation).
current_sink: ContextVar[Sink | None] = cast(ContextVar["Sink | None"], direct_sink)


def eagerly(coroutine: Coroutine[Any, Any, None]) -> asyncio.Future[None] | None:
    """Run `coroutine` now, in the caller's task, as far as it goes without waiting: None if
    it finished (a socket write that did not have to wait), else the task that finishes it.
    Its errors are its own: a frame for a socket that has gone has nowhere to go."""
    try:
        waiting = coroutine.send(None)
    except (StopIteration, Exception):  # done; or the socket is gone
        return None
    return asyncio.ensure_future(_finish(coroutine, waiting))


async def _finish(coroutine: Coroutine[Any, Any, None], waiting: Any) -> None:
    try:
        while True:
            if isinstance(waiting, asyncio.Future):
                await asyncio.wait((waiting,))  # the coroutine reads its outcome itself
            else:
                await asyncio.sleep(0)
            waiting = coroutine.send(None)
    except (StopIteration, Exception):
        return
    finally:
        coroutine.close()


class PersonalData(dict[str, Any]):
    """One reader's copy of a shared result, with its JSON ready but for the sequence."""

    pieces: list[str] = []  # set per instance
    sequence: int = 0

    def to_json(self) -> str:
        """This result as JSON, serialized once for all readers."""
        return str(self.sequence).join(self.pieces)


def shareable(event: T, key: Hashable) -> T:
    """Mark a delta event as identical (but for `sequence`) for every reader sharing `key`."""
    setattr(event, _SHARE_ATTR, key)
    return event


class Shared(Generic[T]):
    """A subscription delta that is the same for every reader sharing `key`, but `sequence`."""

    __slots__ = ("build", "key", "sequence")

    def __init__(self, key: Hashable, sequence: int, build: Callable[[], T]) -> None:
        self.key = key
        self.sequence = sequence
        self.build = build

    async def sent(self) -> bool:
        """Send it on the operation's socket as a ready-made frame; False: yield `event()`."""
        sink = current_sink.get()
        execution = sink.execution(self.key, self.event) if sink is not None else None
        if execution is None:
            return False
        assert sink is not None
        _, pieces = await wait_shared(execution)
        if pieces is None:
            return False
        await sink.send(sink.frame(self.sequence, pieces))
        metrics.SHARED_FRAMES.inc()
        return True

    def event(self) -> T:
        """The event object, marked shareable, for the usual path."""
        return shareable(self.build(), self.key)


def _sequence_keys(operation: Any) -> tuple[str, tuple[str, ...]] | None:
    """Response keys of the root field and of its `sequence` selections, or None if unsure."""
    selections = operation.selection_set.selections
    if len(selections) != 1 or not isinstance(selections[0], FieldNode):
        return None
    root = selections[0]
    keys: list[str] = []
    for sel in root.selection_set.selections if root.selection_set else ():
        if isinstance(sel, FieldNode):
            if sel.name.value == "sequence":
                keys.append(sel.alias.value if sel.alias else "sequence")
        elif isinstance(sel, InlineFragmentNode) and not sel.type_condition:
            return None
        elif not isinstance(sel, InlineFragmentNode):
            return None  # fragment spreads: not worth following, execute per reader
    return (root.alias.value if root.alias else root.name.value, tuple(keys))


def _execution(
    doc: _Doc, key: Hashable, executor: Callable[[], SharedEventExecutor]
) -> asyncio.Future[_Shared]:
    """The one execution of `doc` for the event `key` (started by the first reader to ask)."""
    memo_key = (key, doc[0], doc[1])
    future = _memo.get(memo_key)
    if future is None:
        assert doc[2] is not None
        event_executor = executor()
        pending = StrawberryGraphQLCoreExecutionContext.execute_operation(event_executor, False)
        if inspect.isawaitable(pending):
            future = asyncio.ensure_future(_serialized(pending, doc[2]))
        else:  # plain fields only (the usual delta): done now, nobody waits for it
            future = asyncio.get_running_loop().create_future()
            future.set_result(_serialize(pending, doc[2]))
        _memo[memo_key] = future
        while len(_memo) > _MEMO_SIZE:
            _memo.popitem(last=False)
    return future


class SharedEventExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core executor that shares the execution of marked subscription events."""

    doc: _Doc | None = None

    def build_per_event_executor(self, payload: Any) -> Any:
        if self.doc is None and self.operation.operation == OperationType.SUBSCRIPTION:
            variables = json.dumps(self.variable_values.coerced, sort_keys=True, default=str)
            text = print_ast(self.operation) + "".join(
                print_ast(f) for f in self.fragment_definitions.values()
            )
            self.doc = (text, variables, _sequence_keys(self.operation))
            sink = current_sink.get()
            if sink is not None:
                sink.executor = self  # from now on, shared deltas can go straight to the socket
        return super().build_per_event_executor(payload)

    def for_event(self, payload: Any) -> SharedEventExecutor:
        """This subscription's executor for one event."""
        executor: SharedEventExecutor = self.build_per_event_executor(payload)
        return executor

    def execute_operation(self, serially: bool | None = None) -> Any:
        share = getattr(self.root_value, _SHARE_ATTR, None)
        doc = self.doc
        if (
            share is None
            or doc is None
            or doc[2] is None
            or self.operation.operation != OperationType.SUBSCRIPTION
        ):
            return super().execute_operation(serially)
        sequence = int(self.root_value.sequence)
        return _personal(_execution(doc, share, lambda: self), doc[2], sequence)


async def _serialized(pending: Awaitable[Any], keys: _Keys) -> _Shared:
    return _serialize(await pending, keys)


def _serialize(result: Any, keys: _Keys) -> _Shared:
    """The result, serialized once with a marker where each reader's sequence goes."""
    assert isinstance(result, ExecutionResult)  # subscriptions never stream incrementally
    root_key, sequence_keys = keys
    data = result.data
    if not data or not isinstance(data.get(root_key), dict) or result.errors:
        return result, None
    marked = {**data, root_key: {**data[root_key], **dict.fromkeys(sequence_keys, _MARKER)}}
    return result, json.dumps(marked, separators=(",", ":")).split(_MARKER_JSON)


async def _personal(future: asyncio.Future[_Shared], keys: _Keys, sequence: int) -> ExecutionResult:
    shared, pieces = await wait_shared(future)
    if pieces is None:
        return shared
    assert shared.data is not None
    root_key, sequence_keys = keys
    root = dict(shared.data[root_key])
    for k in sequence_keys:
        root[k] = sequence
    personal = PersonalData({**shared.data, root_key: root})
    personal.pieces = pieces
    personal.sequence = sequence
    return ExecutionResult(data=personal, errors=None)


async def shared_events(
    events: AsyncIterator[Snapshot[S] | Delta[D]],
    *,
    snapshot: Callable[[Snapshot[S]], T],
    delta: Callable[[Delta[D]], T],
) -> AsyncGenerator[T, None]:
    """A subscription's GraphQL events: each snapshot built per reader with `snapshot`, each
    delta built once with `delta` and executed and serialized once for all its readers (and
    sent from the hub's task when it can: Sink.offer)."""
    sink = current_sink.get()
    if sink is not None:
        sink.build = delta
    async for event in events:
        if isinstance(event, Delta):
            shared = Shared(event.key, event.sequence, partial(delta, event))
            if await shared.sent():
                continue
            built = shared.event()
        else:
            built = snapshot(event)
        if sink is not None:
            await sink.flush()  # strawberry sends it: after the frames offered before
        yield built

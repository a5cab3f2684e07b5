"""Execute a subscription delta once for every subscriber with the same query and rights.

A subscription resolver marks a delta event with `shareable(event, key)`, where
the key names the change and everything the result depends on (the reader's
authorization scope). `SharedEventExecutor` then executes the selection set
once per (key, document, variables) and hands each subscriber a copy with its
own `sequence`; the other subscribers skip execution entirely. Events that are
not marked (snapshots, resyncs) execute per subscriber as usual.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import secrets
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any, TypeVar

from graphql import ExecutionResult, FieldNode, InlineFragmentNode, OperationType, print_ast
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from services.realtime.hub import wait_shared

T = TypeVar("T")
_Keys = tuple[str, tuple[str, ...]]
_Shared = tuple[ExecutionResult, "str | None"]

_SHARE_ATTR = "_allot_share"
_MEMO_SIZE = 512
_memo: OrderedDict[Hashable, asyncio.Future[_Shared]] = OrderedDict()
# Stands in for `sequence` in a shared result's JSON; random, so no data can look like it.
_MARKER = secrets.token_hex(16)
_MARKER_JSON = json.dumps(_MARKER)


class PersonalData(dict[str, Any]):
    """One subscriber's copy of a shared result, with its JSON ready but for the sequence."""

    template: str = ""
    sequence: int = 0

    def to_json(self) -> str:
        """This result as JSON, serialized once for all subscribers."""
        return self.template.replace(_MARKER_JSON, str(self.sequence))


def shareable(event: T, key: Hashable) -> T:
    """Mark a delta event as identical (but for `sequence`) for every reader sharing `key`."""
    setattr(event, _SHARE_ATTR, key)
    return event


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
            return None  # fragment spreads: not worth following, execute per subscriber
    return (root.alias.value if root.alias else root.name.value, tuple(keys))


class SharedEventExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core executor that shares the execution of marked subscription events."""

    _allot_doc: tuple[str, str, _Keys | None] | None = None

    def build_per_event_executor(self, payload: Any) -> Any:
        if self._allot_doc is None:
            variables = json.dumps(self.variable_values.coerced, sort_keys=True, default=str)
            text = print_ast(self.operation) + "".join(
                print_ast(f) for f in self.fragment_definitions.values()
            )
            self._allot_doc = (text, variables, _sequence_keys(self.operation))
        return super().build_per_event_executor(payload)

    def execute_operation(self, serially: bool | None = None) -> Any:
        share = getattr(self.root_value, _SHARE_ATTR, None)
        doc = self._allot_doc
        if (
            share is None
            or doc is None
            or doc[2] is None
            or self.operation.operation != OperationType.SUBSCRIPTION
        ):
            return super().execute_operation(serially)
        key = (share, doc[0], doc[1])
        future = _memo.get(key)
        if future is None:
            future = asyncio.ensure_future(_shared(super().execute_operation(serially), doc[2]))
            _memo[key] = future
            while len(_memo) > _MEMO_SIZE:
                _memo.popitem(last=False)
        return _personal(future, doc[2], int(self.root_value.sequence))


async def _shared(pending: Any, keys: _Keys) -> _Shared:
    """Execute once, and serialize once with a marker where each reader's sequence goes."""
    result = await pending if inspect.isawaitable(pending) else pending
    assert isinstance(result, ExecutionResult)  # subscriptions never stream incrementally
    root_key, sequence_keys = keys
    data = result.data
    if not data or not isinstance(data.get(root_key), dict) or result.errors:
        return result, None
    marked = {**data, root_key: {**data[root_key], **dict.fromkeys(sequence_keys, _MARKER)}}
    return result, json.dumps(marked, separators=(",", ":"))


async def _personal(future: asyncio.Future[_Shared], keys: _Keys, sequence: int) -> ExecutionResult:
    shared, template = await wait_shared(future)
    if template is None:
        return shared
    assert shared.data is not None
    root_key, sequence_keys = keys
    root = dict(shared.data[root_key])
    for k in sequence_keys:
        root[k] = sequence
    personal = PersonalData({**shared.data, root_key: root})
    personal.template = template
    personal.sequence = sequence
    return ExecutionResult(data=personal, errors=None)

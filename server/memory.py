"""Memory held by closed websockets, given back while the server is otherwise idle.

A closed socket leaves reference cycles that reference counting cannot free: uvicorn's
protocol objects (its HTTP parser and the protocol refer to each other), graphql-core's
execution context of each subscription (its helpers are its own bound methods). Only the
garbage collector frees them, and with `tune_gc`'s thresholds (and an idle server: idle
subscriptions allocate nothing) it may not run for a long time: thousands of closed
subscriptions stayed allocated, and new ones took fresh memory instead of theirs.

`Reclaimer` runs a full collection once enough sockets and subscriptions have ended since
the last one: at least `minimum`, and at least half as many as are still open. A
collection visits every live object, so its cost grows with what is open (at 7,500 open
sockets, about two seconds on a small machine): collecting after a number of closes in
proportion keeps it a few objects visited per ended subscription, and the fewer remain
open the cheaper it is. The garbage waiting meanwhile is at most about half the memory
of what is open. Then it hands freed heap pages back to the system (glibc's malloc_trim,
where there is one; a few milliseconds).
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


def _malloc_trim() -> Callable[[], object] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return lambda: trim(0)


class Reclaimer:
    """Collects the cycles of ended sockets and subscriptions, in batches."""

    def __init__(self, minimum: int = 1000, delay: float = 0.25) -> None:
        self.minimum = minimum
        self.delay = delay
        self.open = 0  # sockets and subscriptions now open
        self.ended = 0  # ended since the last collection
        self.collections = 0
        self._scheduled = False
        self._trim = _malloc_trim()

    def opened(self) -> None:
        """A socket or a subscription started."""
        self.open += 1

    def closed(self) -> None:
        """A socket or a subscription ended; collect soon if enough have."""
        self.open -= 1
        self.ended += 1
        if self._scheduled or self.ended < max(self.minimum, self.open // 2):
            return
        self._scheduled = True
        # A moment later: the rest of a wave of closes joins this collection, and uvicorn
        # lets go of the sockets' protocol objects once their transports are closed.
        asyncio.get_running_loop().call_later(self.delay, self.collect)

    def collect(self) -> None:
        """A full collection now, then free heap pages back to the system."""
        self._scheduled = False
        self.ended = 0
        self.collections += 1
        start = time.perf_counter()
        found = gc.collect()
        collected = time.perf_counter()
        if self._trim is not None:
            self._trim()
        log.debug(
            "collected %d unreachable objects in %.1f ms, trimmed the heap in %.1f ms",
            found,
            (collected - start) * 1000,
            (time.perf_counter() - collected) * 1000,
        )

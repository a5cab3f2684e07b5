"""The loop every area's background worker runs: a first pass at start, then a pass and sleep
for as long as the pass said, a failed pass logged and retried; and stopping one."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable


async def repeat(
    run_once: Callable[[], Awaitable[float]],
    *,
    log: logging.Logger,
    what: str,
    retry_seconds: float,
    max_sleep_seconds: float,
) -> None:
    """Run `run_once` forever, sleeping the seconds it returns (at most `max_sleep_seconds`,
    and a few ms more: late rather than early); a pass that fails is logged with `what` and
    retried after `retry_seconds`."""
    while True:
        try:
            seconds = await run_once()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s failed; retrying in %g s", what, retry_seconds)
            seconds = retry_seconds
        await asyncio.sleep(min(seconds, max_sleep_seconds) + 0.005)


async def start(
    run_once: Callable[[], Awaitable[float]],
    *,
    log: logging.Logger,
    what: str,
    name: str,
    retry_seconds: float,
    max_sleep_seconds: float,
) -> asyncio.Task[None]:
    """Run a first pass now (what was due while no server ran is handled before the server
    starts; a failure is logged and left to the loop), then `repeat` it in a task `name`."""
    try:
        await run_once()
    except Exception:
        log.exception("the first %s failed; it will be retried", what)
    loop = repeat(
        run_once,
        log=log,
        what=what,
        retry_seconds=retry_seconds,
        max_sleep_seconds=max_sleep_seconds,
    )
    return asyncio.create_task(loop, name=name)


async def cancel(task: asyncio.Task[None] | None) -> None:
    """Stop a worker's task and wait until it has stopped."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task

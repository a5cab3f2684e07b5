"""Reclaimer: the cycles closed sockets leave are collected in batches, not never."""

from __future__ import annotations

import asyncio
import gc
import weakref

from server.memory import Reclaimer


class _Cycle:
    def __init__(self) -> None:
        self.me = self


async def test_collects_once_enough_have_ended() -> None:
    reclaimer = Reclaimer(minimum=3, delay=0)
    for _ in range(10):
        reclaimer.opened()
    garbage = _Cycle()
    gone = weakref.ref(garbage)
    del garbage
    gc.disable()
    try:
        reclaimer.closed()
        reclaimer.closed()
        await asyncio.sleep(0.01)
        assert reclaimer.collections == 0  # fewer than `minimum`
        assert gone() is not None
        reclaimer.closed()
        await asyncio.sleep(0.01)
        assert reclaimer.collections == 1
        assert gone() is None
        assert reclaimer.ended == 0
    finally:
        gc.enable()


async def test_waits_for_half_as_many_as_are_open() -> None:
    reclaimer = Reclaimer(minimum=1, delay=0)
    for _ in range(24):
        reclaimer.opened()
    for _ in range(7):
        reclaimer.closed()  # 17 open: 8 must end first
    await asyncio.sleep(0.01)
    assert reclaimer.collections == 0
    reclaimer.closed()
    await asyncio.sleep(0.01)
    assert reclaimer.collections == 1


async def test_a_wave_of_closes_is_one_collection() -> None:
    reclaimer = Reclaimer(minimum=2, delay=0.05)
    for _ in range(8):
        reclaimer.opened()
    for _ in range(8):
        reclaimer.closed()
    await asyncio.sleep(0.2)
    assert reclaimer.collections == 1

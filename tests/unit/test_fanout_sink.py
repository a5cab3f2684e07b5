"""A subscription's frames sent straight from the hub's task keep their order on the socket."""

from __future__ import annotations

import asyncio

from schema.fanout import Sink, eagerly


async def test_eagerly__finishes_now_or_hands_the_rest_to_a_task() -> None:
    done: list[str] = []

    async def quick() -> None:
        done.append("quick")

    gate = asyncio.get_running_loop().create_future()

    async def slow() -> None:
        await gate
        done.append("slow")

    async def broken() -> None:
        raise ConnectionError("gone")

    assert eagerly(quick()) is None and done == ["quick"]
    assert eagerly(broken()) is None
    rest = eagerly(slow())
    assert rest is not None and not rest.done() and done == ["quick"]
    gate.set_result(None)
    await asyncio.wait_for(rest, 1)
    assert done == ["quick", "slow"]


async def test_sink__a_frame_waits_for_the_one_offered_before_it() -> None:
    """A frame whose write has to wait (a socket slow to drain) goes out before anything the
    operation sends after it."""
    sent: list[str] = []
    gate = asyncio.get_running_loop().create_future()

    async def send(text: str) -> None:
        if text == "first":
            await gate
        sent.append(text)

    sink = Sink("1", send)
    sink._writing = eagerly(send("first"))  # as Sink.offer leaves it when the write waits
    later = asyncio.ensure_future(sink.send("second"))
    await asyncio.sleep(0.05)
    assert sent == [] and not later.done()
    gate.set_result(None)
    await asyncio.wait_for(later, 1)
    assert sent == ["first", "second"]

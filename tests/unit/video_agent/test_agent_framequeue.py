"""The decoder-to-publisher queue: live streams drop the oldest frames, files wait."""

from __future__ import annotations

import asyncio
import threading

from agents.video_agent.framequeue import FrameQueue


async def test_live_drops_oldest_and_counts() -> None:
    queue: FrameQueue[int] = FrameQueue(3, asyncio.get_running_loop())
    stop = threading.Event()
    dropped = sum(queue.put(i, drop_oldest=True, stop=stop) for i in range(10))
    assert dropped == 7
    assert [await queue.get() for _ in range(3)] == [7, 8, 9]


async def test_file_blocks_until_the_publisher_takes_a_frame() -> None:
    queue: FrameQueue[int] = FrameQueue(2, asyncio.get_running_loop())
    stop = threading.Event()
    queue.put(0, drop_oldest=False, stop=stop)
    queue.put(1, drop_oldest=False, stop=stop)
    third = asyncio.get_running_loop().run_in_executor(None, queue.put, 2, False, stop)
    await asyncio.sleep(0.2)
    assert not third.done()
    assert await queue.get() == 0
    assert await asyncio.wait_for(third, 2) == 0
    assert [await queue.get(), await queue.get()] == [1, 2]


async def test_stop_releases_a_blocked_decoder() -> None:
    queue: FrameQueue[int] = FrameQueue(1, asyncio.get_running_loop())
    stop = threading.Event()
    queue.put(0, drop_oldest=False, stop=stop)
    blocked = asyncio.get_running_loop().run_in_executor(None, queue.put, 1, False, stop)
    stop.set()
    queue.wake()
    assert await asyncio.wait_for(blocked, 2) == 0

"""The bounded hand-over from a stream's decoder thread to its publishing task on the event loop.

Files block the decoder while the queue is full (read as fast as the pipeline takes them); live
streams drop the oldest frame instead, so they never fall behind the camera.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class FrameQueue(Generic[T]):
    def __init__(self, size: int, loop: asyncio.AbstractEventLoop) -> None:
        self.size = size
        self._loop = loop
        self._items: deque[T] = deque()
        self._space = threading.Condition()
        self._ready = asyncio.Event()

    def put(self, item: T, drop_oldest: bool, stop: threading.Event) -> int:
        """Queue ``item`` from a thread; return how many old items were dropped to make room.

        Blocking waits end when ``stop`` is set (the item is then discarded).
        """
        dropped = 0
        with self._space:
            while len(self._items) >= self.size:
                if drop_oldest:
                    self._items.popleft()
                    dropped += 1
                elif stop.is_set():
                    return 0
                else:
                    self._space.wait(0.1)
            self._items.append(item)
        try:
            self._loop.call_soon_threadsafe(self._ready.set)
        except RuntimeError:
            pass  # the loop has closed: the agent is shutting down and nobody reads any more
        return dropped

    async def get(self) -> T:
        while True:
            self._ready.clear()
            with self._space:
                if self._items:
                    item = self._items.popleft()
                    self._space.notify()
                    return item
            await self._ready.wait()

    def wake(self) -> None:
        """Unblock a decoder waiting for room (call after setting its stop event)."""
        with self._space:
            self._space.notify_all()

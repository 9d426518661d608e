"""The one retry delay: exponential from ``initial``, capped at ``maximum``, optionally jittered.

``delay(attempt)`` is a pure computation any thread may call (the agent's decoder threads count their
own attempts); a ``Backoff`` instance also counts attempts itself: ``take()`` hands out the next delay
(the stack supervisor schedules restarts with it), ``wait()`` sleeps it, ``reset()`` starts over after
a success. ``upcoming`` is the delay the next ``take()`` returns, already drawn, so a log line written
before the wait states the wait exactly, jitter included.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

JITTER_LOW = 0.5  # a jittered delay lies in [0.5, 1.0] x the exponential one


class Backoff:
    def __init__(
        self, initial: float, maximum: float, *, jitter: bool = False, uniform: Callable[[float, float], float] = random.uniform
    ) -> None:
        self.initial, self.maximum, self.jitter = initial, maximum, jitter
        self._uniform = uniform
        self.attempt = 0
        self.upcoming = self.delay(0)

    def delay(self, attempt: int) -> float:
        """The delay before retry number ``attempt`` (0: the first): initial x 2^attempt, capped, jittered
        so that clients that failed together (cameras, consumers) do not retry together."""
        capped = min(self.maximum, self.initial * 2.0 ** min(attempt, 64))  # 64: no float overflow
        return capped * self._uniform(JITTER_LOW, 1.0) if self.jitter else capped

    def take(self) -> float:
        """The delay to wait now; the next one grows."""
        taken = self.upcoming
        self.attempt += 1
        self.upcoming = self.delay(self.attempt)
        return taken

    async def wait(self) -> None:
        await asyncio.sleep(self.take())

    def reset(self) -> None:
        """After a success: the next failure waits ``initial`` again."""
        self.attempt = 0
        self.upcoming = self.delay(0)

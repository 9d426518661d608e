from __future__ import annotations

import asyncio
import time

from infra.backoff import Backoff


def test_delays_double_up_to_the_cap() -> None:
    backoff = Backoff(0.5, 3.0)
    assert [backoff.delay(n) for n in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert backoff.delay(10_000) == 3.0  # a camera down for days: no overflow


def test_take_counts_attempts_and_reset_starts_over() -> None:
    backoff = Backoff(1.0, 4.0)
    assert [backoff.take() for _ in range(4)] == [1.0, 2.0, 4.0, 4.0]
    assert backoff.attempt == 4
    backoff.reset()
    assert (backoff.attempt, backoff.upcoming, backoff.take()) == (0, 1.0, 1.0)


def test_jitter_scales_each_delay_and_upcoming_is_what_take_returns() -> None:
    draws = iter([0.5, 1.0, 0.75, 0.6])
    asked = []
    backoff = Backoff(2.0, 8.0, jitter=True, uniform=lambda low, high: asked.append((low, high)) or next(draws))
    announced = backoff.upcoming  # what a log line states before the wait
    assert announced == backoff.take() == 2.0 * 0.5
    assert backoff.take() == 4.0 * 1.0
    assert backoff.take() == 8.0 * 0.75
    assert set(asked) == {(0.5, 1.0)}


def test_real_jitter_spreads_delays() -> None:
    backoff = Backoff(1.0, 1.0, jitter=True)
    delays = {backoff.delay(0) for _ in range(50)}
    assert all(0.5 <= d <= 1.0 for d in delays) and len(delays) > 1


async def test_wait_sleeps_the_upcoming_delay() -> None:
    backoff = Backoff(0.05, 1.0)
    started = time.monotonic()
    await backoff.wait()
    assert time.monotonic() - started >= 0.05
    assert backoff.upcoming == 0.1
    waiting = asyncio.create_task(backoff.wait())
    await asyncio.sleep(0.02)
    assert not waiting.done()  # still inside its 0.1 s
    await waiting

"""A shutdown step that hangs is abandoned after its time; one that fails still raises."""

from __future__ import annotations

import asyncio
import time

import pytest

from infra.lifecycle import stop_within


async def test_a_hanging_step_is_abandoned_in_time() -> None:
    async def deaf() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            await asyncio.sleep(0.5)  # ignores cancellation for a while, as a stuck client library might

    started = time.monotonic()
    await stop_within("deaf", 0.2, deaf())
    assert time.monotonic() - started < 0.45
    await asyncio.sleep(0.5)  # let the abandoned step end before the loop closes


async def test_a_failing_step_raises_and_a_quick_one_returns() -> None:
    async def broken() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await stop_within("broken", 1, broken())
    await stop_within("quick", 1, asyncio.sleep(0))

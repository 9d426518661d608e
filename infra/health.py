"""Probe every part of the deployment on a timer, so that /6/health answers at once and a part that
goes away turns red within one interval, whatever the caller's timeout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from schemas.rest import HealthResponse, PartHealth

Probe = Callable[[], Awaitable[None]]


class Degraded(Exception):
    """A probe's part answers but falls short (a worker far behind its input): ``degraded``, with why."""


@dataclass
class _State:
    status: str = "down"
    error: str | None = "not probed yet"
    latency_ms: float | None = None


class HealthMonitor:
    def __init__(self, probes: dict[str, Probe], interval: float, timeout: float) -> None:
        self.probes = probes
        self.interval = interval
        self.timeout = timeout
        self._states = {name: _State() for name in probes}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.probe_all()
        self._task = asyncio.create_task(self._loop(), name="health-monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.probe_all()

    async def probe_all(self) -> None:
        await asyncio.gather(*(self._probe(name, probe) for name, probe in self.probes.items()))

    async def _probe(self, name: str, probe: Probe) -> None:
        started = time.perf_counter()
        try:
            await asyncio.wait_for(probe(), self.timeout)
            state = _State("ok", None)
        except Degraded as exc:
            state = _State("degraded", str(exc))
        except TimeoutError:
            state = _State("down", f"no answer within {self.timeout:.1f} s")
        except Exception as exc:  # noqa: BLE001 - any failure is a red light, with its reason
            state = _State("down", f"{type(exc).__name__}: {exc}"[:500])
        state.latency_ms = round((time.perf_counter() - started) * 1000, 2)
        self._states[name] = state

    def snapshot(self) -> HealthResponse:
        started = time.perf_counter()
        parts = [
            PartHealth(name=name, status=s.status, latency_ms=s.latency_ms, error=s.error)
            for name, s in self._states.items()
        ]
        down = sum(p.status == "down" for p in parts)
        degraded = any(p.status == "degraded" for p in parts)
        status = "down" if parts and down == len(parts) else "degraded" if down or degraded else "ok"
        return HealthResponse(status=status, parts=parts, execution_time=time.perf_counter() - started)

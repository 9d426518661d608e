"""Process lifecycle helpers: stop on SIGINT/SIGTERM, start Faust apps that may have to wait for Kafka."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import faust

from infra.backoff import Backoff

log = logging.getLogger(__name__)


def stop_event() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM: the process then stops its services in order and exits."""
    event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, event.set)
    return event


@dataclass(frozen=True)
class Service:
    """What a process runs: start (may raise while Kafka is away), wait (returns or raises only if the
    service ends by itself), stop."""

    name: str
    start: Callable[[], Awaitable[None]]
    wait: Callable[[], Awaitable[None]]
    stop: Callable[[], Awaitable[None]]


def faust_service(name: str, app: faust.App) -> Service:
    async def stop() -> None:
        if app.started:
            await app.stop()

    return Service(name, app.start, app.wait_until_stopped, stop)


async def stop_within(name: str, seconds: float, stop: Awaitable[None]) -> None:
    """Await one shutdown step, but never longer than `seconds`: a peer that stopped answering must not
    keep the process (or a test's teardown) from ending. The step is cancelled, without waiting for it to
    honour that, and the overrun logged."""
    task = asyncio.ensure_future(stop)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        task.cancel()
        log.error("shutdown step overran, abandoned", extra={"step": name, "seconds": seconds})
    elif not task.cancelled() and task.exception() is not None:
        raise task.exception()  # type: ignore[misc]


async def start_when_possible(service: Service, retry_max: float = 30.0) -> None:
    """Start, retrying with backoff while the broker is unreachable, instead of dying."""
    backoff = Backoff(1.0, retry_max)
    while True:
        try:
            await service.start()
            log.info("service started", extra={"service": service.name})
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - retried; the health page shows the broker down meanwhile
            log.warning("service could not start, retrying",
                        extra={"service": service.name, "error": str(exc), "retry_in": backoff.upcoming})
            await service.stop()
            await backoff.wait()


async def run_process(service: Service, redis_url: str) -> int:
    """Run one service until SIGINT/SIGTERM (exit 0) or until it ends by itself (exit 1, so the
    supervisor restarts it). A heartbeat tells the health page the part is alive."""
    from infra.heartbeat import Heartbeat

    stop = stop_event()
    beat = Heartbeat(redis_url, service.name)
    starting = asyncio.create_task(start_when_possible(service))
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if stop.is_set():
            return 0
        await beat.start()
        ended = asyncio.create_task(service.wait())
        await asyncio.wait({stopping, ended}, return_when=asyncio.FIRST_COMPLETED)
        if not stop.is_set():
            reason = ended.exception() if ended.done() and not ended.cancelled() else None
            log.error("service ended by itself", extra={"service": service.name, "reason": str(reason)})
            return 1
        return 0
    finally:
        for task in (starting, stopping):
            task.cancel()
        await beat.stop()
        await service.stop()

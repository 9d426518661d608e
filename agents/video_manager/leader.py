"""The leader: one among the manager instances sharing a Redis runs the rounds (agent liveness, working
intervals, restarts, assignment, starts, unpublished configs) and acts on agents' Kafka messages.

Leadership is a ``Lease``; when the leader dies, its lease runs out and another instance takes over
within ``leader_ttl`` plus one interval.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from agents.video_manager.bus import consume_agent_messages
from agents.video_manager.lease import Lease
from agents.video_manager.manager import VideoManager
from infra.settings import ManagerSettings
from schemas.agents import AgentMessage

log = logging.getLogger(__name__)


class Leader:
    def __init__(self, manager: VideoManager, settings: ManagerSettings, bootstrap: str) -> None:
        self.manager = manager
        self.settings = settings
        self.bootstrap = bootstrap
        self.lease = Lease(manager.registry.store.redis, manager.registry.store.key("leader"))
        self.held = False  # whether this instance holds the lease (as of its last round)
        # Since when it has applied every agent message: when it took the lease, or when the registry last
        # failed it (heartbeats it could not record while Redis was down must not expire their agents).
        self.heard_since = datetime.now(UTC)
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Returns once the feedback consumer reads the topic, so no agent message after it is missed."""
        listening = asyncio.Event()
        self._tasks = [
            asyncio.create_task(
                consume_agent_messages(self.bootstrap, self.manager.bus, self._on_message, listening.set),
                name="manager-feedback",
            ),
            asyncio.create_task(self._loop(), name="manager-assignment"),
        ]
        waiter = asyncio.create_task(listening.wait())
        await asyncio.wait([waiter, self._tasks[0]], return_when=asyncio.FIRST_COMPLETED)
        if not listening.is_set():
            waiter.cancel()
            await self.stop()
            self._tasks[0].result()  # raises why the consumer could not start

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self.held:
            await self.lease.give_back()
            self.held = False

    async def round(self) -> None:
        manager = self.manager
        await manager.agents.expire(self.heard_since)
        await manager.assignment.follow_schedules()  # before assigning: a stream outside its intervals waits
        await manager.assignment.restart_due()
        await manager.assignment.assign_pending()
        await manager.assignment.dispatch()
        await manager.outbox.retry_unpublished()

    async def _on_message(self, message: AgentMessage) -> None:
        if self.held:
            try:
                await self.manager.agents.on_message(message)
            except (RedisConnectionError, RedisTimeoutError):
                self.heard_since = datetime.now(UTC)
                raise

    async def _elect(self) -> bool:
        held = await self.lease.hold(self.settings.leader_ttl)
        if held != self.held:
            if held:
                self.heard_since = datetime.now(UTC)
            log.info("assignment leadership " + ("taken" if held else "lost"), extra={"instance": self.lease.instance})
        self.held = held
        return held

    async def _loop(self) -> None:
        while True:
            try:
                if await self._elect():
                    await self.round()
            except asyncio.CancelledError:
                raise
            except (RedisConnectionError, RedisTimeoutError):
                self.heard_since = datetime.now(UTC)
                log.exception("assignment round failed: redis unavailable")
            except Exception:  # noqa: BLE001 - the broker may be down for a while; keep trying
                log.exception("assignment round failed")
            await asyncio.sleep(self.settings.assignment_interval)

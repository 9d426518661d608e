"""The assignment service: one leader among the manager instances sharing a Redis runs the rounds
(agent liveness, restarts, assignment, starts, unpublished configs) and acts on agents' Kafka messages.

Leadership is a Redis lease (SET NX PX, renewed each round by its holder only); when the leader dies,
its lease runs out and another instance takes over within ``leader_ttl`` plus one interval.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from agents.video_manager.bus import consume_agent_messages
from agents.video_manager.manager import VideoManager
from infra.settings import ManagerSettings
from schemas.agents import AgentMessage

log = logging.getLogger(__name__)

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0
"""
_RESIGN = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class AssignmentService:
    def __init__(self, manager: VideoManager, settings: ManagerSettings, bootstrap: str) -> None:
        self.manager = manager
        self.settings = settings
        self.bootstrap = bootstrap
        self.instance = uuid.uuid4().hex
        self.leader = False
        self._key = manager.registry.store.key("leader")
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
        if self.leader:
            await self.manager.registry.store.redis.eval(_RESIGN, 1, self._key, self.instance)
            self.leader = False

    async def _on_message(self, message: AgentMessage) -> None:
        if self.leader:
            await self.manager.on_agent_message(message)

    async def _elect(self) -> bool:
        ttl_ms = int(self.settings.leader_ttl * 1000)
        held = bool(await self.manager.registry.store.redis.eval(_RENEW, 1, self._key, self.instance, ttl_ms))
        if held != self.leader:
            log.info("assignment leadership " + ("taken" if held else "lost"), extra={"instance": self.instance})
        self.leader = held
        return held

    async def _loop(self) -> None:
        while True:
            try:
                if await self._elect():
                    await self.manager.round()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - Redis or the broker may be down for a while; keep trying
                log.exception("assignment round failed")
            await asyncio.sleep(self.settings.assignment_interval)

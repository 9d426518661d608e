"""The video manager's services, wired over one registry and one Kafka bus.

The REST routes and the Kafka agent protocol reach the same services, so an external REST agent and a
Kafka agent go through the same registry writes, assignment and restart rules. Each job has its own
module: ``stream_service``, ``group_service``, ``analytic_service``, ``protocol`` (agents),
``assignment``, ``outbox`` (stream configs), ``callbacks`` (status notifications); ``leader`` runs the
rounds; ``states`` holds the stream state machine they all write with.
"""

from __future__ import annotations

from agents.video_manager.analytic_service import AnalyticService
from agents.video_manager.assignment import Assignment
from agents.video_manager.bus import Bus
from agents.video_manager.callbacks import StatusCallbacks
from agents.video_manager.commands import AgentCommands
from agents.video_manager.group_service import GroupService
from agents.video_manager.outbox import ConfigOutbox
from agents.video_manager.protocol import AgentProtocol
from agents.video_manager.registry import Registry
from agents.video_manager.stream_service import StreamService
from agents.video_manager.stream_writes import StreamWrites
from infra.settings import ManagerSettings


class VideoManager:
    def __init__(self, registry: Registry, bus: Bus, settings: ManagerSettings) -> None:
        self.registry = registry
        self.bus = bus
        self.outbox = ConfigOutbox(registry.streams, bus)
        self._status_callbacks = StatusCallbacks(settings)
        writes = StreamWrites(registry.streams, self.outbox, self._status_callbacks)
        commands = AgentCommands(bus, registry.agents)
        self.analytics = AnalyticService(registry.analytics)
        self.assignment = Assignment(registry, writes, commands)
        self.groups = GroupService(registry.groups)
        self.streams = StreamService(registry, writes, commands, self.analytics, self.groups, self.assignment)
        self.agents = AgentProtocol(registry, writes, commands, self.assignment, settings)

    async def start(self) -> None:
        self.outbox.start()
        await self.analytics.seed_builtins()
        await self.registry.streams.ensure_indexed()

    async def stop(self) -> None:
        await self.outbox.stop()
        await self._status_callbacks.close()

"""The video manager's registry in Redis: streams, groups, analytics and agents."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from agents.video_manager.registry.records import AgentRecord, StreamRecord
from agents.video_manager.registry.streams import Change, StreamQuery, StreamRegistry
from infra.redis_collection import Collection
from infra.redis_store import Store
from schemas.streams import Analytic, Group

__all__ = ["AgentRecord", "Change", "Registry", "StreamQuery", "StreamRecord"]


@dataclass
class Registry:
    store: Store
    streams: StreamRegistry
    agents: Collection[AgentRecord]
    groups: Collection[Group]
    analytics: Collection[Analytic]

    @classmethod
    def open(cls, client: aioredis.Redis, prefix: str = "selene:vm") -> Registry:
        store = Store(client, prefix)
        return cls(
            store=store,
            streams=StreamRegistry(store),
            agents=Collection(store, "agent", AgentRecord, "agent"),
            groups=Collection(store, "group", Group, "group"),
            analytics=Collection(store, "analytic", Analytic, "analytic"),
        )

"""The video manager's registry in Redis: streams, groups, analytics, agents, accounts, tokens, face lists."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from agents.video_manager.registry.collections import Collection
from agents.video_manager.registry.records import AccountRecord, AgentRecord, StreamRecord
from agents.video_manager.registry.store import Store
from agents.video_manager.registry.streams import Change, StreamRegistry
from schemas.accounts import Token
from schemas.faces import FaceList
from schemas.streams import Analytic, Group

__all__ = ["AccountRecord", "AgentRecord", "Change", "Registry", "StreamRecord"]


@dataclass
class Registry:
    store: Store
    streams: StreamRegistry
    agents: Collection[AgentRecord]
    groups: Collection[Group]
    analytics: Collection[Analytic]
    accounts: Collection[AccountRecord]
    tokens: Collection[Token]
    lists: Collection[FaceList]

    @classmethod
    def open(cls, client: aioredis.Redis, prefix: str = "selene:vm") -> Registry:
        store = Store(client, prefix)
        return cls(
            store=store,
            streams=StreamRegistry(store),
            agents=Collection(store, "agent", AgentRecord, "agent"),
            groups=Collection(store, "group", Group, "group"),
            analytics=Collection(store, "analytic", Analytic, "analytic"),
            accounts=Collection(store, "account", AccountRecord, "account"),
            tokens=Collection(store, "token", Token, "token"),
            lists=Collection(store, "list", FaceList, "list"),
        )

"""Accounts and tokens in Redis, beside the other services' registries (same key namespace)."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis
from pydantic import BaseModel, ConfigDict

from infra.redis_collection import Collection
from infra.redis_store import Store
from schemas.accounts import Account, Token


class AccountRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    account: Account
    password_hash: str


@dataclass
class AccountStore:
    store: Store
    accounts: Collection[AccountRecord]
    tokens: Collection[Token]

    @classmethod
    def open(cls, client: aioredis.Redis, prefix: str = "selene:vm") -> AccountStore:
        store = Store(client, prefix)
        return cls(
            store=store,
            accounts=Collection(store, "account", AccountRecord, "account"),
            tokens=Collection(store, "token", Token, "token"),
        )

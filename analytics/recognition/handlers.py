"""LUNA's handlers: stored in Redis, one JSON value each; their policies checked (``policy_check``)
before they are kept.

A policy is checked for what it asks, not only for its shape: an estimator Selene has no model for is
refused (200005, from the estimator registry), a list that does not exist or is another account's is
refused (22005), a match limit over LUNA's 100 is refused (34005), and a lambda handler is refused
(11072: Selene has no lambda service). So a handler that was created can always run.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from uuid import UUID

import redis.asyncio as aioredis

from analytics.recognition.policy_check import PolicyChecker
from infra.redis_collection import Collection
from infra.redis_store import Store
from schemas.errors import BAD_INPUT_DATA, HANDLER_NOT_FOUND, LAMBDA_DISABLED, SeleneError
from schemas.handlers import Handler, HandlerCreate, Policies

if TYPE_CHECKING:
    from analytics.recognition.pipeline import HandlerPipeline


def _now() -> datetime:
    return datetime.now(UTC)


def open_handlers(client: aioredis.Redis, prefix: str = "selene:vm") -> Collection[Handler]:
    return Collection(Store(client, prefix), "handler", Handler, "handler")


class Handlers:
    """The account-scoped handler registry."""

    def __init__(self, collection: Collection[Handler], checker: PolicyChecker,
                 pipeline: HandlerPipeline | None = None) -> None:
        self.collection = collection
        self.checker = checker
        self.pipeline = pipeline  # None: handlers are kept, but generate events answers 45004

    async def _validated(self, body: HandlerCreate, account_id: UUID) -> tuple[int, Policies | None]:
        handler_type = body.resolved_type
        if handler_type == 2 or body.lambda_id is not None:
            raise SeleneError(LAMBDA_DISABLED)
        if handler_type == 1:
            if body.policies is not None:
                raise SeleneError(BAD_INPUT_DATA, "a dynamic handler takes its policies with each request, not here")
            return 1, None
        policies = body.policies or Policies()
        await self.checker.check(policies, account_id)
        return 0, policies

    async def create(self, account_id: UUID, body: HandlerCreate) -> Handler:
        handler_type, policies = await self._validated(body, account_id)
        now = _now()
        handler = Handler(
            handler_id=uuid.uuid4(), account_id=account_id, description=body.description, handler_type=handler_type,
            is_dynamic=handler_type == 1, policies=policies, create_time=now, last_update_time=now,
        )
        await self.collection.create(handler.handler_id, handler, now)
        return handler

    async def get(self, handler_id: UUID, accounts: set[UUID]) -> Handler:
        found = await self.collection.get(handler_id)
        if found is None or found.account_id not in accounts:
            raise SeleneError(HANDLER_NOT_FOUND, handler_id)
        return found

    async def replace(self, handler_id: UUID, account_id: UUID, body: HandlerCreate) -> Handler:
        await self.get(handler_id, {account_id})
        handler_type, policies = await self._validated(body, account_id)

        def mutate(handler: Handler) -> None:
            handler.description, handler.handler_type = body.description, handler_type  # type: ignore[assignment]
            handler.is_dynamic, handler.policies, handler.last_update_time = handler_type == 1, policies, _now()

        return await self.collection.update(handler_id, mutate)

    async def delete(self, handler_id: UUID, account_id: UUID) -> None:
        await self.get(handler_id, {account_id})
        await self.collection.delete(handler_id)

    async def select(self, accounts: set[UUID], handler_type: int | None, description: str | None) -> list[Handler]:
        """Oldest first; ``description`` matches as a substring (LUNA's "like")."""
        return [
            h for h in await self.collection.all()
            if h.account_id in accounts
            and (handler_type is None or h.handler_type == handler_type)
            and (description is None or description.lower() in h.description.lower())
        ]

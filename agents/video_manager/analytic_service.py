"""The analytics registry (LUNA ``createAnalytic``...): built-ins are shared and read-only; an account's
own analytics are its alone, their names unique within the account."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from datetime import UTC, datetime
from uuid import UUID

from agents.video_manager.parameters import (
    builtin_analytics,
    check_schema,
    validate_parameters,
)
from infra.redis_collection import Collection
from schemas.errors import BAD_INPUT_DATA, OBJECT_NOT_FOUND, SeleneError
from schemas.streams import Analytic, AnalyticCreate

BUILTIN = "*"  # the name scope of the built-in analytics
_PARSED_SIZE = 256  # analytics kept parsed, by their stored JSON


def _name(scope: UUID | str, analytic_name: str) -> str:
    return f"{scope}:{analytic_name}"


class AnalyticService:
    def __init__(self, analytics: Collection[Analytic]) -> None:
        self._analytics = analytics
        # An analytic's schema makes it slow to parse (a quarter of a millisecond), and every stream
        # create reads one: the parsed analytic is kept while its stored JSON stays the same.
        self._parsed: OrderedDict[bytes, Analytic] = OrderedDict()

    async def seed_builtins(self) -> None:
        """Every manager instance may do it; the first one wins."""
        for analytic in builtin_analytics(datetime.now(UTC)):
            if await self._analytics.get(analytic.analytic_id) is None:
                try:
                    await self._analytics.create(
                        analytic.analytic_id, analytic, analytic.create_time, name=_name(BUILTIN, analytic.analytic_name)
                    )
                except SeleneError:
                    pass  # another manager seeded it first

    async def named(self, account_id: UUID, name: str) -> Analytic:
        """An account's own analytic of that name, else the built-in one (shared: not to be changed)."""
        for found in await self._analytics.ids_by_names(_name(account_id, name), _name(BUILTIN, name)):
            if found is not None:
                raw = await self._analytics.get_raw(found)
                if raw is not None:
                    return self._parse(raw)
        raise SeleneError(OBJECT_NOT_FOUND, f"analytic with name {name!r}")

    def _parse(self, raw: bytes) -> Analytic:
        analytic = self._parsed.get(raw)
        if analytic is None:
            analytic = self._parsed[raw] = Analytic.model_validate_json(raw)
            if len(self._parsed) > _PARSED_SIZE:
                self._parsed.popitem(last=False)
        else:
            self._parsed.move_to_end(raw)
        return analytic

    async def visible(self, accounts: set[UUID]) -> list[Analytic]:
        """The built-ins and the analytics of ``accounts``, oldest first."""
        return [a for a in await self._analytics.all() if a.account_id is None or a.account_id in accounts]

    async def get(self, analytic_id: UUID, accounts: set[UUID] | None) -> Analytic:
        analytic = await self._analytics.get(analytic_id)
        if analytic is None or not (analytic.account_id is None or accounts is None or analytic.account_id in accounts):
            raise SeleneError(OBJECT_NOT_FOUND, f"analytic with id {analytic_id}")
        return analytic

    async def _own(self, analytic_id: UUID, account_id: UUID) -> Analytic:
        """An analytic the account may change: its own, never a built-in."""
        analytic = await self._analytics.get(analytic_id)
        if analytic is None or analytic.account_id != account_id:
            raise SeleneError(OBJECT_NOT_FOUND, f"analytic with id {analytic_id}")
        return analytic

    async def create(self, account_id: UUID, body: AnalyticCreate) -> Analytic:
        check_schema(body.validation_schema)
        now = datetime.now(UTC)
        analytic = Analytic(
            account_id=account_id, analytic_id=uuid.uuid4(), create_time=now, last_update_time=now, **body.model_dump()
        )
        validate_parameters(analytic, {}, "default_parameters")  # the defaults must pass the analytic's own schema
        await self._analytics.create(analytic.analytic_id, analytic, now, name=_name(account_id, analytic.analytic_name))
        return analytic

    async def replace(self, analytic_id: UUID, account_id: UUID, body: AnalyticCreate) -> None:
        """PUT: everything but the name, which cannot change."""
        current = await self._own(analytic_id, account_id)
        if body.analytic_name != current.analytic_name:
            raise SeleneError(BAD_INPUT_DATA, "analytic_name cannot be changed")
        check_schema(body.validation_schema)

        now = datetime.now(UTC)

        def replace(a: Analytic) -> None:
            a.analytic_version, a.description = body.analytic_version, body.description
            a.default_parameters, a.validation_schema = body.default_parameters, body.validation_schema
            a.last_update_time = now

        await self._analytics.update(analytic_id, replace)

    async def delete(self, analytic_ids: list[UUID], account_id: UUID) -> None:
        """Delete in order; 11020 at the first that is not the account's own."""
        for analytic_id in analytic_ids:
            analytic = await self._own(analytic_id, account_id)
            await self._analytics.delete(analytic_id, name=_name(account_id, analytic.analytic_name))

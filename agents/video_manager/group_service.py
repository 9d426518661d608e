"""LUNA's ``groups``: stream groups, their names unique within an account, seen only by their account
(another account's group is 11020, as if it did not exist). What a group does to its streams (pause,
resume, delete them) is the stream service's."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from uuid import UUID

from infra.redis_collection import Collection
from schemas.errors import OBJECT_NOT_FOUND, SeleneError
from schemas.streams import Group


def _name(account_id: UUID, group_name: str) -> str:
    return f"{account_id}:{group_name}"


class GroupService:
    def __init__(self, groups: Collection[Group]) -> None:
        self._groups = groups

    async def create(self, account_id: UUID, name: str, description: str | None) -> Group:
        group = Group(account_id=account_id, create_time=datetime.now(UTC), description=description, group_id=uuid.uuid4(), group_name=name)
        await self._groups.create(group.group_id, group, group.create_time, name=_name(account_id, name))
        return group

    async def get(self, group_id: UUID, accounts: set[UUID] | None) -> Group:
        group = await self._groups.get(group_id)
        if group is None or (accounts is not None and group.account_id not in accounts):
            raise SeleneError(OBJECT_NOT_FOUND, f"group with id {group_id}")
        return group

    async def visible(self, accounts: set[UUID]) -> list[Group]:
        """The groups of ``accounts``, oldest first."""
        return [g for g in await self._groups.all() if g.account_id in accounts]

    async def ids_named(self, name: str, accounts: set[UUID]) -> set[UUID]:
        """The ids of ``accounts``' groups called ``name`` (one at most per account)."""
        found = [await self._groups.id_by_name(_name(a, name)) for a in accounts]
        return {UUID(g) for g in found if g}

    async def resolve(self, account_id: UUID, group_id: UUID | None, group_name: str | None) -> list[UUID]:
        """The account's groups a stream names, by id and by name; 11020 for one it does not have."""
        groups: list[UUID] = []
        if group_id is not None:
            groups.append((await self.get(group_id, {account_id})).group_id)
        if group_name is not None:
            found = await self._groups.id_by_name(_name(account_id, group_name))
            if found is None:
                raise SeleneError(OBJECT_NOT_FOUND, f"group with name {group_name!r}")
            if UUID(found) not in groups:
                groups.append(UUID(found))
        return groups

    async def describe(self, group_id: UUID, accounts: set[UUID], description: str | None) -> None:
        await self.get(group_id, accounts)
        await self._groups.update(group_id, lambda g: setattr(g, "description", description))

    async def delete(self, group: Group) -> None:
        """The group only; its streams are the caller's to change."""
        await self._groups.delete(group.group_id, name=_name(group.account_id, group.group_name))

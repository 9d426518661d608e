"""LUNA's ``groups`` tag: stream groups, and acting on all streams of a group."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from agents.video_manager.group_service import GroupService
from agents.video_manager.routes import deps
from agents.video_manager.stream_service import StreamService
from infra.auth.access import access
from infra.auth.authenticator import Principal
from infra.http.deps import Page, PageSize, page_of, parse_list, uuid_set
from schemas.streams import (
    Group,
    GroupCreate,
    GroupCreated,
    GroupPatch,
    GroupsCount,
    GroupsPage,
    GroupStreamsPatch,
)

router = APIRouter(tags=["groups"])
Caller = Depends(access("video_group"))
Groups = Depends(deps.groups)
Streams = Depends(deps.streams)


class GroupFilters:
    def __init__(
        self,
        account_id: UUID | None = None,
        group_ids: list[str] | None = Query(None),
        group_names: list[str] | None = Query(None),
    ) -> None:
        self.account_id = account_id
        self.ids = uuid_set("group_ids", group_ids)
        self.names = parse_list("group_names", group_names, str)

    async def select(self, service: GroupService, caller: Principal) -> list[Group]:
        return [
            g
            for g in await service.visible(caller.readable(self.account_id))
            if (self.ids is None or g.group_id in self.ids) and (self.names is None or g.group_name in self.names)
        ]


@router.post("/groups", status_code=201, response_model=GroupCreated, summary="Create a stream group")
async def create_group(body: GroupCreate, caller: Principal = Caller, service: GroupService = Groups) -> GroupCreated:
    group = await service.create(caller.account_id, body.group_name, body.description)
    return GroupCreated(group_id=group.group_id)


@router.get("/groups", response_model=GroupsPage, summary="Groups matching the filters")
async def get_groups(
    filters: GroupFilters = Depends(), page: int = Page, page_size: int = PageSize,
    caller: Principal = Caller, service: GroupService = Groups,
) -> GroupsPage:
    return GroupsPage(groups=page_of(await filters.select(service, caller), page, page_size))


@router.get("/groups/count", response_model=GroupsCount, summary="How many groups match the filters")
async def count_groups(
    filters: GroupFilters = Depends(), caller: Principal = Caller, service: GroupService = Groups
) -> GroupsCount:
    return GroupsCount(groups_count=len(await filters.select(service, caller)))


@router.get("/groups/{group_id}", response_model=Group, summary="One group")
async def get_group(
    group_id: UUID, account_id: UUID | None = None, caller: Principal = Caller, service: GroupService = Groups
) -> Group:
    return await service.get(group_id, caller.readable(account_id))


@router.patch("/groups/{group_id}", status_code=204, summary="Change a group's description")
async def patch_group(group_id: UUID, body: GroupPatch, caller: Principal = Caller, service: GroupService = Groups) -> Response:
    await service.describe(group_id, caller.writable, body.description)
    return Response(status_code=204)


@router.delete("/groups/{group_id}", status_code=204, summary="Delete a group, with its streams if with_streams=1")
async def delete_group(
    group_id: UUID, with_streams: int = Query(0, ge=0, le=1, description="1: delete the streams too."),
    caller: Principal = Caller, service: GroupService = Groups, streams: StreamService = Streams,
) -> Response:
    await streams.delete_group(await service.get(group_id, caller.writable), bool(with_streams))
    return Response(status_code=204)


@router.patch("/groups/{group_id}/streams", status_code=204, summary="Pause or resume every stream of a group")
async def patch_group_streams(
    group_id: UUID, body: GroupStreamsPatch, caller: Principal = Caller, service: GroupService = Groups,
    streams: StreamService = Streams,
) -> Response:
    caller.require("video_stream", "modification")
    await streams.patch_group(await service.get(group_id, caller.writable), body.luna_action)
    return Response(status_code=204)


@router.delete("/groups/{group_id}/streams", status_code=204, summary="Delete every stream of a group")
async def delete_group_streams(
    group_id: UUID, caller: Principal = Caller, service: GroupService = Groups, streams: StreamService = Streams
) -> Response:
    caller.require("video_stream", "deletion")
    await streams.delete_of_group(await service.get(group_id, caller.writable), caller.writable)
    return Response(status_code=204)

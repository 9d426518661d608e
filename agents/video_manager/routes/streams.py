"""LUNA's ``streams`` tag: create, list, count, get, check, replace, pause/resume, delete; status logs."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from agents.video_manager.group_service import GroupService
from agents.video_manager.registry import StreamQuery
from agents.video_manager.routes import deps
from agents.video_manager.stream_service import StreamService
from infra.auth.access import access
from infra.auth.authenticator import Principal
from infra.http.deps import Page, PageSize, page_of, parse_list, uuid_set
from schemas.errors import OBJECT_NOT_FOUND, SeleneError
from schemas.status import StreamStatus
from schemas.streams import (
    DeletedCount,
    ShownStream,
    ShownStreamsPage,
    Stream,
    StreamCreate,
    StreamCreated,
    StreamIds,
    StreamLog,
    StreamLogsPage,
    StreamPatch,
    StreamsCount,
)

router = APIRouter(tags=["streams"])
Caller = Depends(access("video_stream"))
Streams = Depends(deps.streams)
Groups = Depends(deps.groups)


def _status(value: str) -> StreamStatus:
    return StreamStatus(int(value)) if value.lstrip("-").isdigit() else StreamStatus.from_luna(value)


class StreamFilters:
    """The filters of LUNA's getStreams and countStreams."""

    def __init__(
        self,
        account_id: UUID | None = None,
        stream_ids: list[str] | None = Query(None, description="Stream ids, comma-separated or repeated."),
        stream_id__gte: UUID | None = None,
        stream_id__lt: UUID | None = None,
        names: list[str] | None = Query(None, description="Stream names."),
        reference: str | None = Query(None, description="The stream's data.reference."),
        statuses: list[str] | None = Query(None, description="Statuses, as integers or LUNA's words."),
        create_time__gte: datetime | None = None,
        create_time__lt: datetime | None = None,
        group_name: str | None = None,
        group_id: UUID | None = None,
        sources: list[str] | None = Query(None),
        splittable: int | None = Query(None, ge=0, le=1),
    ) -> None:
        self.account_id = account_id
        self.stream_ids = uuid_set("stream_ids", stream_ids)
        self.id_gte, self.id_lt = stream_id__gte, stream_id__lt
        self.names = parse_list("names", names, str)
        self.reference = reference
        self.statuses = parse_list("statuses", statuses, _status)
        self.created_gte, self.created_lt = create_time__gte, create_time__lt
        self.group_name, self.group_id = group_name, group_id
        self.sources = parse_list("sources", sources, str)
        self.splittable = splittable

    async def select(
        self, streams: StreamService, groups: GroupService, caller: Principal, offset: int = 0, limit: int = 0,
        desc: bool = False,
    ) -> tuple[int, list[Stream]]:
        """How many streams match, and ``limit`` of them from ``offset`` (filtered and paged in Redis)."""
        accounts = caller.readable(self.account_id)
        group_ids: set[UUID] | None = None
        if self.group_name is not None:
            group_ids = await groups.ids_named(self.group_name, accounts)
        if self.group_id is not None:
            group_ids = {self.group_id} if group_ids is None else group_ids & {self.group_id}
        query = StreamQuery(
            accounts=accounts, stream_ids=self.stream_ids, id_gte=self.id_gte, id_lt=self.id_lt, names=self.names,
            reference=self.reference, statuses=self.statuses, created_gte=self.created_gte,
            created_lt=self.created_lt, group_ids=group_ids, sources=self.sources, splittable=self.splittable,
        )
        total, records = await streams.select(query, offset, limit, desc)
        return total, [r.stream for r in records]


@router.post("/streams", status_code=201, response_model=StreamCreated, summary="Create a stream")
async def create_stream(body: StreamCreate, caller: Principal = Caller, streams: StreamService = Streams) -> StreamCreated:
    stream = await streams.create(caller.account_id, body)
    return StreamCreated(stream_id=stream.stream_id, version=stream.version)


@router.get("/streams", response_model=ShownStreamsPage, summary="Streams matching the filters")
async def get_streams(
    filters: StreamFilters = Depends(),
    order: Literal["asc", "desc"] = "desc",
    page: int = Page,
    page_size: int = PageSize,
    caller: Principal = Caller,
    streams: StreamService = Streams,
    groups: GroupService = Groups,
) -> ShownStreamsPage:
    _, page_streams = await filters.select(streams, groups, caller, (page - 1) * page_size, page_size, order == "desc")
    return ShownStreamsPage(streams=await streams.shown(page_streams))


@router.get("/streams/count", response_model=StreamsCount, summary="How many streams match the filters")
async def count_streams(
    filters: StreamFilters = Depends(), caller: Principal = Caller, streams: StreamService = Streams,
    groups: GroupService = Groups,
) -> StreamsCount:
    return StreamsCount(streams_count=(await filters.select(streams, groups, caller))[0])


@router.delete("/streams", status_code=204, summary="Delete streams by id")
async def delete_streams(body: StreamIds, caller: Principal = Caller, streams: StreamService = Streams) -> Response:
    for stream_id in body.stream_ids:
        await streams.delete(stream_id, caller.writable)
    return Response(status_code=204)


class LogFilters:
    """The filters of LUNA's getStreamsLogs (and, with log_time__lt only, deleteStreamsLogs)."""

    def __init__(
        self,
        account_id: UUID | None = None,
        stream_ids: list[str] | None = Query(None),
        statuses: list[str] | None = Query(None),
        analytic_indexes: list[str] | None = Query(None),
        log_time__gte: datetime | None = None,
        log_time__lt: datetime | None = None,
        last_processed_frame_time__gte: float | None = None,
        last_processed_frame_time__lt: float | None = None,
    ) -> None:
        self.account_id = account_id
        self.stream_ids = uuid_set("stream_ids", stream_ids)
        self.statuses = parse_list("statuses", statuses, _status)
        self.indexes = parse_list("analytic_indexes", analytic_indexes, int)
        self.gte, self.lt = log_time__gte, log_time__lt
        self.frame_gte, self.frame_lt = last_processed_frame_time__gte, last_processed_frame_time__lt

    async def select(self, streams: StreamService, caller: Principal) -> list[StreamLog]:
        return [e for e in await streams.logs(self.gte, self.lt, caller.readable(self.account_id)) if self._match(e)]

    def _match(self, e: StreamLog) -> bool:
        frame = e.last_processed_frame_time
        return (
            (self.stream_ids is None or e.stream_id in self.stream_ids)
            and (self.statuses is None or e.status in self.statuses)
            and (self.indexes is None or e.analytic_index in self.indexes)
            and (self.frame_gte is None or (frame is not None and frame >= self.frame_gte))
            and (self.frame_lt is None or (frame is not None and frame < self.frame_lt))
        )


@router.get("/streams/logs", response_model=StreamLogsPage, summary="Status history of streams")
async def get_logs(
    filters: LogFilters = Depends(),
    order: Literal["asc", "desc"] = "desc",
    page: int = Page,
    page_size: int = PageSize,
    caller: Principal = Caller,
    streams: StreamService = Streams,
) -> StreamLogsPage:
    logs = await filters.select(streams, caller)
    return StreamLogsPage(logs=page_of(logs, page, page_size, order))


@router.delete("/streams/logs", response_model=DeletedCount, summary="Delete status history")
async def delete_logs(
    log_time__lt: datetime | None = None, caller: Principal = Caller, streams: StreamService = Streams
) -> DeletedCount:
    return DeletedCount(deleted_count=await streams.delete_logs(log_time__lt, caller.writable))


@router.get("/streams/{stream_id}", response_model=ShownStream, summary="One stream")
async def get_stream(
    stream_id: UUID, account_id: UUID | None = None, caller: Principal = Caller, streams: StreamService = Streams
) -> Response:
    # Serialised by pydantic at once: FastAPI's response_model path would validate the stream again and
    # dump it through Python dicts, five times the cost.
    (stream,) = await streams.shown([(await streams.get(stream_id, caller.readable(account_id))).stream])
    return Response(stream.model_dump_json(), media_type="application/json")


@router.head("/streams/{stream_id}", summary="Whether the stream exists")
async def check_stream(
    stream_id: UUID, account_id: UUID | None = None, caller: Principal = Caller, streams: StreamService = Streams
) -> Response:
    await streams.get(stream_id, caller.readable(account_id))
    return Response(status_code=200)


@router.put("/streams/{stream_id}", response_model=StreamCreated, summary="Replace a stream (bumps version)")
async def replace_stream(
    stream_id: UUID, body: StreamCreate, caller: Principal = Caller, streams: StreamService = Streams
) -> StreamCreated:
    stream = await streams.replace(caller.account_id, stream_id, body)
    return StreamCreated(stream_id=stream.stream_id, version=stream.version)


@router.patch("/streams/{stream_id}", status_code=204, summary="Pause or resume a stream")
async def patch_stream(
    stream_id: UUID, body: StreamPatch, caller: Principal = Caller, streams: StreamService = Streams
) -> Response:
    await streams.patch(stream_id, body.luna_action, caller.writable)
    return Response(status_code=204)


@router.delete("/streams/{stream_id}", status_code=204, summary="Delete a stream")
async def delete_stream(stream_id: UUID, caller: Principal = Caller, streams: StreamService = Streams) -> Response:
    if not await streams.delete(stream_id, caller.writable):
        raise SeleneError(OBJECT_NOT_FOUND, f"stream with id {stream_id}")
    return Response(status_code=204)

"""Selene's stream analytics events (people count, human tracking, line crossing, zone occupancy) under
``/analytics_events``: LUNA's getEvents filters that apply to them, one by id, statistics. LUNA's own
``/events`` path serves the face/body events of handlers (routes/luna_events.py)."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi import Query as Q
from pydantic import Field

from analytics.events.analytics_events import EventFilters, EventStore
from analytics.events.stats import StatQuery
from infra.auth.access import access
from infra.auth.authenticator import Principal
from infra.http.deps import MAX_PAGE, MAX_PAGE_SIZE, filters_from_query
from schemas.errors import BAD_INPUT_DATA, OBJECT_NOT_FOUND, SeleneError

router = APIRouter(tags=["analytics events"])
PATH = "/analytics_events"
Viewer = Depends(access("event", "view"))
_LISTS = ("event_ids", "event_types", "stream_ids", "track_ids")


class EventsStatsQuery(StatQuery):
    filters: EventFilters = Field(default_factory=EventFilters)


def _filters(request: Request) -> EventFilters:
    return filters_from_query(request, EventFilters, _LISTS)


@router.get(PATH, summary="Analytics events by filters (LUNA's getEvents filters that apply)")
async def get_events(
    request: Request,
    account_id: UUID | None = None,
    page: int = Q(1, ge=1, le=MAX_PAGE),
    page_size: int = Q(10, ge=1, le=MAX_PAGE_SIZE),
    order: Literal["asc", "desc"] = "desc",
    principal: Principal = Viewer,
) -> dict[str, Any]:
    store = EventStore(request.app.state.context.warehouse)
    return {"events": await store.list(_filters(request), principal.readable(account_id), page, page_size, order)}


@router.get(PATH + "/{event_id}", summary="One analytics event")
async def get_event(request: Request, event_id: UUID, principal: Principal = Viewer) -> dict[str, Any]:
    event = await EventStore(request.app.state.context.warehouse).get(event_id, principal.readable())
    if event is None:
        raise SeleneError(OBJECT_NOT_FOUND, f"event with id '{event_id}'")
    return event


@router.post(PATH + "/stats", summary="Statistics on analytics events (as LUNA's events stats)")
async def event_stats(request: Request, query: EventsStatsQuery, principal: Principal = Viewer) -> dict[str, Any]:
    try:
        return await EventStore(request.app.state.context.warehouse).stats(query, query.filters, principal.readable())
    except ValueError as exc:
        raise SeleneError(BAD_INPUT_DATA, str(exc)) from None

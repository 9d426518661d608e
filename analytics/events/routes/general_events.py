"""LUNA's ``general-events`` tag: create, list with filters, get, check, delete, statistics.

Events are written straight into the warehouse through the general-events store (the API owns the
warehouse in every deployment), so a 201 means the event is stored; saving the same event_id again
stores it once.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from pydantic import Field, ValidationError

from analytics.events.general_events import (
    ContentFilter,
    GeneralEventFilters,
    GeneralEventStore,
)
from analytics.events.stats import StatQuery
from infra.auth.access import access
from infra.auth.authenticator import Principal
from infra.http.deps import MAX_PAGE, MAX_PAGE_SIZE, filters_from_query, reason
from schemas import base
from schemas.errors import (
    BAD_INPUT_DATA,
    BAD_QUERY,
    OBJECT_NOT_FOUND,
    PERMISSION_DENIED,
    SeleneError,
)
from schemas.events import GeneralEvent, GeneralEventMessage

router = APIRouter(tags=["general-events"])
PATH = "/general_events"
Creator = Depends(access("event", "creation"))
Viewer = Depends(access("event", "view"))  # statistics are a view too, though they are POSTed
Deleter = Depends(access("event", "deletion"))


class GeneralEventsCreate(base.Body):
    events: list[GeneralEvent] = Field(min_length=1, max_length=1000)


class SavedEvent(base.Body):
    event_id: UUID
    url: str


class SavedEvents(base.Body):
    events: list[SavedEvent]


class GeneralEventsStatsQuery(StatQuery):
    """LUNA's GeneralStatQuery: ``targets``, ``group_by`` and ``filters`` (the list filters' names)."""

    filters: GeneralEventFilters = Field(default_factory=GeneralEventFilters)


def store(request: Request) -> GeneralEventStore:
    return GeneralEventStore(request.app.state.context.warehouse)


@router.post(PATH, status_code=201, response_model=SavedEvents, summary="Save general events")
async def create_general_events(
    request: Request,
    body: GeneralEventsCreate | list[GeneralEvent] = Body(...),
    wait_events_saving: int = Query(1, ge=0, le=1, description="Accepted for LUNA; events are always saved before the answer."),
    principal: Principal = Creator,
) -> SavedEvents:
    events = body.events if isinstance(body, GeneralEventsCreate) else body
    if not events:
        raise SeleneError(BAD_INPUT_DATA, "no events given")
    for event in events:
        if event.account_id not in principal.writable:
            raise SeleneError(PERMISSION_DENIED, "creation", f"general events of account {event.account_id}")
    await store(request).save([GeneralEventMessage.model_validate(e.model_dump()) for e in events])
    return SavedEvents(events=[SavedEvent(event_id=e.event_id, url=f"/6{PATH}/{e.event_id}") for e in events])


_LISTS = ("event_types", "event_ids", "sources", "stream_ids", "track_ids", "cities", "areas", "districts",
          "streets", "house_numbers")


def _filters(request: Request) -> GeneralEventFilters:
    """LUNA's list filters from the query string; ``event.<path>__<op>:<type>`` keys filter the content."""
    try:
        content = [ContentFilter.parse(k, v) for k, v in request.query_params.items() if k.startswith("event.")]
    except (ValidationError, ValueError) as exc:
        raise SeleneError(BAD_QUERY, reason(exc)) from None
    return filters_from_query(request, GeneralEventFilters, _LISTS, content=content)


@router.get(PATH, summary="General events by filters (LUNA's getGeneralEvents)")
async def get_general_events(
    request: Request,
    account_id: UUID | None = None,
    page: int = Query(1, ge=1, le=MAX_PAGE),
    page_size: int = Query(10, ge=1, le=MAX_PAGE_SIZE),
    order: Literal["asc", "desc"] = "desc",
    principal: Principal = Viewer,
) -> dict[str, Any]:
    filters = _filters(request)
    try:
        events = await store(request).list(filters, principal.readable(account_id), page, page_size, order)
    except ValueError as exc:
        raise SeleneError(BAD_QUERY, str(exc)) from None
    return {"events": events}


async def _found(request: Request, event_id: UUID, principal: Principal) -> dict[str, Any]:
    event = await store(request).get(event_id, principal.readable())
    if event is None:
        raise SeleneError(OBJECT_NOT_FOUND, f"general event with id '{event_id}'")
    return event


@router.get(PATH + "/{event_id}", summary="One general event")
async def get_general_event(request: Request, event_id: UUID, principal: Principal = Viewer) -> dict[str, Any]:
    return await _found(request, event_id, principal)


@router.head(PATH + "/{event_id}", summary="Check that a general event exists")
async def check_general_event(request: Request, event_id: UUID, principal: Principal = Viewer) -> Response:
    await _found(request, event_id, principal)
    return Response(status_code=200)


@router.delete(PATH + "/{event_id}", status_code=204, summary="Delete a general event")
async def delete_general_event(request: Request, event_id: UUID, principal: Principal = Deleter) -> Response:
    if not await store(request).delete(event_id, principal.writable):
        raise SeleneError(OBJECT_NOT_FOUND, f"general event with id '{event_id}'")
    return Response(status_code=204)


@router.post(PATH + "/stats", summary="Statistics on general events (LUNA's getGeneralEventStats)")
async def general_event_stats(
    request: Request, query: GeneralEventsStatsQuery, principal: Principal = Viewer
) -> dict[str, Any]:
    try:
        return await store(request).stats(query, query.filters, principal.readable())
    except ValueError as exc:
        raise SeleneError(BAD_INPUT_DATA, str(exc)) from None

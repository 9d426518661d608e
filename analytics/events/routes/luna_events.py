"""LUNA's ``events`` tag: the face/body events handlers make. List with LUNA's filters, get one, check
one, statistics. Another account's event is 11020, as an unknown one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import Field, ValidationError

from analytics.events.general_events import ContentFilter
from analytics.events.luna_event_store import LunaEventFilters, LunaEventStore, cut
from analytics.events.stats import StatQuery
from infra.auth.access import access
from infra.auth.authenticator import Principal
from infra.http.deps import MAX_PAGE, MAX_PAGE_SIZE, filters_from_query, parse_list, reason
from schemas.base import Body
from schemas.errors import BAD_INPUT_DATA, BAD_QUERY, OBJECT_NOT_FOUND, SeleneError
from schemas.luna_events import EVENT_TARGETS

router = APIRouter(tags=["events"])
Viewer = Depends(access("event", "view"))  # statistics are a view too, though they are POSTed
_LISTS = tuple(
    name for name, field in LunaEventFilters.model_fields.items()
    if name != "meta" and "list" in str(field.annotation)
)
Targets = Query(None, description="Comma-separated event fields to return (LUNA's `target`); all when absent.")


class StatPeriod(Body):
    """LUNA's statistics ``period``: the events created from ``start`` (included) to ``end`` (excluded)."""

    start: datetime | None = None
    end: datetime | None = None


class LunaEventsStatsQuery(StatQuery):
    """LUNA's getEventStats: ``targets``, ``filters`` (the getEvents filters' names), one ``period``, ``group_by``."""

    filters: LunaEventFilters = Field(default_factory=LunaEventFilters)
    period: list[StatPeriod] = Field(default_factory=list, max_length=1)

    def with_period(self) -> LunaEventFilters:
        if not self.period:
            return self.filters
        start, end = self.period[0].start, self.period[0].end
        bounds = {"create_time__gte": start or self.filters.create_time__gte, "create_time__lt": end or self.filters.create_time__lt}
        return self.filters.model_copy(update=bounds)


def store(request: Request) -> LunaEventStore:
    return LunaEventStore(request.app.state.context.warehouse)


def _target(name: str) -> str:
    if name not in EVENT_TARGETS:
        raise ValueError(name)
    return name


def _targets(values: list[str] | None) -> list[str] | None:
    return parse_list("target", values, _target)


def _filters(request: Request) -> LunaEventFilters:
    """LUNA's filters from the query string; ``meta.<path>__<op>:<type>`` keys filter the event's meta."""
    try:
        meta = [ContentFilter.parse(k, v, "meta") for k, v in request.query_params.items() if k.startswith("meta.")]
    except (ValidationError, ValueError) as exc:
        raise SeleneError(BAD_QUERY, reason(exc)) from None
    return filters_from_query(request, LunaEventFilters, _LISTS, meta=meta)


@router.get("/events", summary="Events by filters (LUNA's getEvents); the last month unless ids or times are given")
async def get_events(
    request: Request,
    account_id: UUID | None = None,
    target: list[str] | None = Targets,
    page: int = Query(1, ge=1, le=MAX_PAGE),
    page_size: int = Query(10, ge=1, le=MAX_PAGE_SIZE),
    order: Literal["asc", "desc"] = "desc",
    principal: Principal = Viewer,
) -> dict[str, Any]:
    targets = _targets(target)
    filters = _filters(request).windowed(datetime.now(UTC))
    try:
        events = await store(request).list(filters, principal.readable(account_id), page, page_size, order, targets)
    except ValueError as exc:
        raise SeleneError(BAD_QUERY, str(exc)) from None
    return {"events": events}


async def _found(request: Request, event_id: UUID, principal: Principal) -> dict[str, Any]:
    event = await store(request).get(event_id, principal.readable())
    if event is None:
        raise SeleneError(OBJECT_NOT_FOUND, f"event with id '{event_id}'")
    return event


@router.get("/events/{event_id}", summary="One event")
async def get_event(
    request: Request, event_id: UUID, target: list[str] | None = Targets, principal: Principal = Viewer
) -> dict[str, Any]:
    targets = _targets(target)
    return cut(await _found(request, event_id, principal), targets)


@router.head("/events/{event_id}", summary="Check that an event exists")
async def check_event(request: Request, event_id: UUID, principal: Principal = Viewer) -> Response:
    if not await store(request).exists(event_id, principal.readable()):
        raise SeleneError(OBJECT_NOT_FOUND, f"event with id '{event_id}'")
    return Response(status_code=200)


@router.post("/events/stats", summary="Statistics on events (LUNA's getEventStats)")
async def event_stats(request: Request, query: LunaEventsStatsQuery, principal: Principal = Viewer) -> dict[str, Any]:
    try:
        return await store(request).stats(query, query.with_period(), principal.readable())
    except ValueError as exc:
        raise SeleneError(BAD_INPUT_DATA, str(exc)) from None

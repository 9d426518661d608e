"""LUNA's ``generate events``: ``POST /6/handlers/{handler_id}/events``."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request

from analytics.recognition.event_inputs import BASE64_TYPES, DESCRIPTOR_TYPES, IMAGE_TYPES, parse_events_body
from analytics.recognition.handlers import Handlers
from analytics.recognition.pipeline import EventRequest
from analytics.recognition.routes.handlers import Registry
from infra.auth.access import access
from infra.auth.authenticator import Principal
from infra.http.deps import parse_list
from schemas.detections import TRACK_ID_PATTERN
from schemas.errors import BAD_INPUT_DATA, BAD_QUERY, SERVICE_UNAVAILABLE, SeleneError
from schemas.generated_events import GeneratedEvents
from schemas.streams import GeoPosition, Location

router = APIRouter(tags=["events"])
Emitter = Depends(access("handler", "view"))  # LUNA's emit_events: using a handler, not changing it
Text36 = Query(None, max_length=36)
_BODY_TYPES = (*IMAGE_TYPES, *BASE64_TYPES, *DESCRIPTOR_TYPES, "multipart/form-data")
EVENTS_BODY = {"requestBody": {"required": True, "content": {
    **{t: {"schema": {"type": "string", "format": "binary"}} for t in _BODY_TYPES},
    "application/json": {"schema": {"type": "object", "description": (
        '{"images": [{"image": "<Base64>"} | {"url": "..."} | {"sample_id": "..."}], "meta": {...}}')}},
}}}


class EventsQuery:
    """LUNA's query of generate events, and its two time headers."""

    def __init__(
        self,
        request: Request,
        city: str | None = Text36, area: str | None = Text36, district: str | None = Text36,
        street: str | None = Text36, house_number: str | None = Text36,
        longitude: float | None = Query(None, ge=-180, le=180), latitude: float | None = Query(None, ge=-90, le=90),
        external_id: str = Query("", max_length=36), user_data: str = Query("", max_length=128),
        image_type: int = Query(0, ge=0, le=2, description="0 raw image, 1 face warp, 2 body warp."),
        aggregate_attributes: int = Query(0, ge=0, le=1), source: str | None = Query(None, max_length=128),
        stream_id: UUID | None = None, tags: list[str] | None = Query(None, description="Comma-separated; each at most 36."),
        track_id: str | None = Query(None, pattern=TRACK_ID_PATTERN), use_exif_info: int = Query(1, ge=0, le=1),
        luna_event_time: datetime | None = Header(None, description="RFC 3339: the events' create_time."),
        luna_event_end_time: datetime | None = Header(None, description="RFC 3339: the events' end_time."),
    ) -> None:
        parsed_tags = parse_list("tags", tags, str) or []
        if any(len(t) > 36 or not t for t in parsed_tags):
            raise SeleneError(BAD_QUERY, "tags: each tag is 1 to 36 characters")
        if (longitude is None) != (latitude is None):
            raise SeleneError(BAD_QUERY, "longitude and latitude: give both or neither")
        geo = GeoPosition(longitude=longitude, latitude=latitude) if longitude is not None and latitude is not None else None
        self.location = Location(city=city, area=area, district=district, street=street, house_number=house_number,
                                 geo_position=geo)
        self.fields = dict(
            external_id=external_id, user_data=user_data, source=source, stream_id=stream_id, track_id=track_id,
            tags=tuple(dict.fromkeys(parsed_tags)), image_type=image_type, aggregate=bool(aggregate_attributes),
            use_exif=bool(use_exif_info), event_time=luna_event_time, event_end_time=luna_event_end_time,
            request_id=request.headers.get("luna-request-id"),
        )


@router.post("/handlers/{handler_id}/events", status_code=201, response_model=GeneratedEvents,
             openapi_extra=EVENTS_BODY, summary="Generate events: run the handler's policies over images or descriptors")
async def generate_events(handler_id: UUID, request: Request, query: EventsQuery = Depends(),
                          caller: Principal = Emitter, registry: Handlers = Registry) -> GeneratedEvents:
    """The body: one image (``image/*`` or ``image/x-*-base64``), one SDK descriptor
    (``application/x-sdk-descriptor[-base64]``), ``multipart/form-data`` with up to 8 images or descriptors
    (and, for a dynamic handler, a ``policies`` JSON part; a ``meta`` JSON part for every event), or JSON
    with Base64 images, URLs or face sample ids (``image_type`` 1). An input that cannot be used gets
    ``status`` 0 and its error in ``images``; the others still make events."""
    handler = await registry.get(handler_id, caller.readable())
    if registry.pipeline is None:
        raise SeleneError(SERVICE_UNAVAILABLE, "generate events", "this API runs without the estimators")
    body = parse_events_body(request.headers.get("content-type", ""), await request.body())
    if handler.handler_type == 1:
        if body.policies is None:
            raise SeleneError(BAD_INPUT_DATA, "a dynamic handler needs its policies: a multipart 'policies' part")
        policies = body.policies
    else:
        if body.policies is not None:
            raise SeleneError(BAD_INPUT_DATA, "policies are given per request to dynamic handlers only")
        assert handler.policies is not None
        policies = handler.policies
    event_request = EventRequest(account_id=caller.account_id, handler_id=handler_id, location=query.location,
                                 **query.fields)  # type: ignore[arg-type]
    return await registry.pipeline.run(policies, body, event_request)

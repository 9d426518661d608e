"""LUNA's "save event": ``POST /6/handlers/{handler_id}/events/raw`` (LUNA's path, a dynamic handler's) and
``POST /6/events/raw`` store events built outside Selene (the shape of a handler's
output event). Their face and body descriptors go to Milvus, so saved events are matching candidates at once.

It lives with recognition, not events, because it writes Milvus too: recognition may import events,
never the other way round."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Query
from pydantic import Field, ValidationError

from analytics.recognition.handlers import Handlers
from analytics.recognition.routes.deps import recognition
from analytics.recognition.routes.handlers import Registry
from analytics.recognition.service import Recognition
from infra.auth.access import access
from infra.auth.authenticator import Principal
from schemas import base
from schemas.errors import JSON_PATH_INVALID, ONLY_DYNAMIC_HANDLER, SeleneError
from schemas.luna_events import RawEvent, event_of_raw

router = APIRouter(tags=["events"])
Creator = Depends(access("event", "creation"))
Faces = Depends(recognition)


class RawEvents(base.Body):
    """Several events at once ("save events")."""

    events: list[RawEvent] = Field(min_length=1, max_length=1000)


class SavedEvent(base.Body):
    event_id: UUID
    url: str


class SavedEvents(base.Body):
    events: list[SavedEvent]


@router.post("/events/raw", status_code=201, response_model=SavedEvent | SavedEvents, summary="Save events built by the user")
async def save_events(
    body: RawEvent | RawEvents = Body(...),
    handler_id: UUID | None = Query(None, description="The (dynamic) handler the events are credited to."),
    wait_saving: int = Query(1, ge=0, le=1, description="Accepted for LUNA; events are always saved before the answer."),
    caller: Principal = Creator,
    faces: Recognition = Faces,
) -> SavedEvent | SavedEvents:
    """LUNA's save-event body (one event), or ``{"events": [...]}``. Face descriptors
    (``face_attributes.descriptor`` raw with its version, or ``sdk_descriptor``) make the event a candidate
    of ``POST /6/matcher/faces`` with ``"origin": "events"``, body descriptors (``body_attributes``) one of
    ``POST /6/matcher/bodies``. Saved before the answer (201)."""
    archive = faces.archive()
    raws = body.events if isinstance(body, RawEvents) else [body]
    now = datetime.now(UTC)
    try:
        events = [event_of_raw(raw, caller.account_id, uuid.uuid4(), handler_id, now) for raw in raws]
    except ValidationError as exc:  # the event the body makes is inconsistent (a face version as a body's ...)
        first = exc.errors()[0]
        raise SeleneError(JSON_PATH_INVALID, ".".join(str(p) for p in first["loc"]), first["msg"]) from None
    await archive.save(events)
    saved = [SavedEvent(event_id=e.event_id, url=f"/6/events/{e.event_id}") for e in events]
    return SavedEvents(events=saved) if isinstance(body, RawEvents) else saved[0]


@router.post("/handlers/{handler_id}/events/raw", status_code=201, response_model=SavedEvent | SavedEvents,
             summary="Save events built by the user, credited to a dynamic handler (LUNA's path)")
async def save_handler_events(
    handler_id: UUID,
    body: RawEvent | RawEvents = Body(...),
    wait_saving: int = Query(1, ge=0, le=1, description="Accepted for LUNA; events are always saved before the answer."),
    caller: Principal = Creator,
    faces: Recognition = Faces,
    registry: Handlers = Registry,
) -> SavedEvent | SavedEvents:
    """As ``POST /6/events/raw``; the handler must be the caller's and dynamic (34000, 34007)."""
    handler = await registry.get(handler_id, {caller.account_id})
    if handler.handler_type != 1:
        raise SeleneError(ONLY_DYNAMIC_HANDLER)
    return await save_events(body, handler_id, wait_saving, caller, faces)

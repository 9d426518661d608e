"""LUNA's stream websocket: a stream's analytics results (and status changes) as they happen."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from fastapi import APIRouter, WebSocket

from agents.video_manager.live_results import LiveResults
from agents.video_manager.manager import VideoManager
from infra.auth.authenticator import Authenticator
from infra.http.websocket import serve_queue, with_token
from schemas.errors import SERVICE_UNAVAILABLE, SeleneError
from schemas.streams import Stream


class ApiContext(Protocol):
    """What the websocket needs of the API's context (None where that part is not running)."""

    results: LiveResults | None
    auth: Authenticator | None
    manager: VideoManager | None

router = APIRouter(tags=["streams"])


@router.websocket("/streams/{stream_id}/ws", name="stream_ws")
async def stream_ws(websocket: WebSocket, stream_id: UUID, account_id: UUID | None = None, token: str | None = None) -> None:
    """Live results of one stream, as JSON text messages in LUNA's shape:
    ``{"stream_status": "in_progress", "error": null, "analytics_results": {"crowd": {...event...}}}``.

    The result key is the analytic's event key (people_count: ``crowd``, human_tracking: ``human_tracking``,
    then ``line_crossing``, ``zone_occupancy``). The first message, and one on every status change, has the
    stream's status and empty ``analytics_results``. Authenticate with an ``Authorization`` header (Basic
    or Bearer) or, where a client cannot set headers (browsers), a ``token`` query parameter. On failure the
    server sends LUNA's error body and closes with 4000 + its HTTP status (4401, 4403, 4404); a deleted
    stream closes with 4404. A client that lags more than ``SELENE_API_WS_QUEUE_SIZE`` messages behind loses
    the oldest.
    """
    await websocket.accept()
    context: ApiContext = websocket.app.state.context
    try:
        stream = await _readable_stream(websocket, context, stream_id, account_id, token)
    except SeleneError as exc:
        await websocket.send_text(exc.body.model_dump_json())
        await websocket.close(code=4000 + exc.error.http_status)
        return
    assert context.results is not None
    with context.results.subscribe(stream) as subscription:
        await serve_queue(websocket, subscription)


async def _readable_stream(
    websocket: WebSocket, context: ApiContext, stream_id: UUID, account_id: UUID | None, token: str | None
) -> Stream:
    if context.results is None or context.auth is None or context.manager is None:
        raise SeleneError(SERVICE_UNAVAILABLE, "live results", "this API runs without them")
    principal = await context.auth.authenticate(with_token(websocket, token))
    principal.require("video_stream", "view")
    return (await context.manager.streams.get(stream_id, principal.readable(account_id))).stream

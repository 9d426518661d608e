"""The live preview of a stream: an MJPEG stream of its processed frames with what its analytics see."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from agents.video_manager.manager import VideoManager
from agents.video_manager.preview import Previews
from infra.auth.authenticator import Authenticator
from infra.http.websocket import with_token
from schemas.errors import SERVICE_UNAVAILABLE, SeleneError
from schemas.streams import Stream

BOUNDARY = "frame"


class ApiContext(Protocol):
    """What the preview needs of the API's context (None where that part is not running)."""

    previews: Previews | None
    auth: Authenticator | None
    manager: VideoManager | None


router = APIRouter(tags=["streams"])


@router.get(
    "/streams/{stream_id}/preview", response_class=StreamingResponse, summary="Live preview (MJPEG) of a stream",
    responses={200: {"content": {f"multipart/x-mixed-replace; boundary={BOUNDARY}": {}},
                     "description": "JPEG parts, one per processed frame, as results arrive"}},
)
async def preview(request: Request, stream_id: UUID, account_id: UUID | None = None,
                  token: str | None = None) -> StreamingResponse:
    """The stream's processed frames with the tracks' boxes and ids, its analytics' roi, lines and zones
    and the latest counts, as ``multipart/x-mixed-replace`` JPEG parts: an ``<img src>``, a browser or VLC
    plays it. Authenticate as the stream websocket: an ``Authorization`` header or a ``token`` query
    parameter. Nothing is read for a stream until a viewer connects, and the reading stops when the last
    one leaves."""
    context: ApiContext = request.app.state.context
    if context.previews is None or context.auth is None or context.manager is None:
        raise SeleneError(SERVICE_UNAVAILABLE, "live preview", "this API runs without it")
    principal = await context.auth.authenticate(with_token(request, token))
    principal.require("video_stream", "view")
    stream = (await context.manager.streams.get(stream_id, principal.readable(account_id))).stream
    return StreamingResponse(
        _parts(context.previews, stream), media_type=f"multipart/x-mixed-replace; boundary={BOUNDARY}",
        headers={"Cache-Control": "no-store"},
    )


async def _parts(previews: Previews, stream: Stream) -> AsyncIterator[bytes]:
    async with previews.watch(stream) as viewer:
        while jpeg := await viewer.next():
            yield (f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n".encode()
                   + jpeg + b"\r\n")

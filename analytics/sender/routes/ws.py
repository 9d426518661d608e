"""LUNA's ``GET /6/ws``: the events a handler generates, as they happen, for one account."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from fastapi import APIRouter, WebSocket

from analytics.sender.handshake import filters_of
from analytics.sender.service import Sender
from infra.auth.authenticator import Authenticator
from infra.http.websocket import serve_queue, with_token
from schemas.callbacks import EventFilters
from schemas.errors import (
    AUTH_REQUIRED,
    SENDER_DISCONNECTED,
    SENDER_NO_ACCOUNT,
    SENDER_SUBSCRIBE_FAILED,
    SeleneError,
)


class ApiContext(Protocol):
    """What the websocket needs of the API's context (None where that part is not running)."""

    sender: Sender | None
    auth: Authenticator | None


router = APIRouter(tags=["ws"])


@router.websocket("/ws", name="ws_handshake")
async def ws_handshake(websocket: WebSocket, account_id: UUID | None = None, token: str | None = None) -> None:
    """Every event the account's handlers generate and let through a ``luna-ws-notification`` callback,
    whose facts meet the handshake's filters (LUNA's query parameters: ``sources``, ``stream_ids``,
    ``handler_ids``, ``tags``, ``age__gte``, ``geo_position``...), as JSON text messages in LUNA's shape
    ``{"event": {...}, "handler_id", "event-create-time", "event-end-time", "Luna-Request-id"}``.

    Authenticate as for any route (Basic, Bearer, ``Luna-Account-Id``) or with a ``token`` query
    parameter; an advanced user or admin may read another account with ``account_id``. On failure the
    server sends LUNA's error body and closes with 4000 + its HTTP status: no credentials 4403 (29001),
    bad filters 4400 (12012), the sender not running 4500 (29002) or its broker feed down 4503 (29005).
    A client that lags more than ``SELENE_SENDER_WS_QUEUE_SIZE`` messages behind loses the oldest.
    """
    await websocket.accept()
    context: ApiContext = websocket.app.state.context
    try:
        account, filters = await _subscription(websocket, context, account_id, token)
    except SeleneError as exc:
        await websocket.send_text(exc.body.model_dump_json())
        await websocket.close(code=4000 + exc.error.http_status)
        return
    assert context.sender is not None
    with context.sender.subscribers.subscribe(account, filters) as queue:
        await serve_queue(websocket, queue)


async def _subscription(
    websocket: WebSocket, context: ApiContext, account_id: UUID | None, token: str | None
) -> tuple[UUID, EventFilters]:
    if context.sender is None or context.auth is None:
        raise SeleneError(SENDER_SUBSCRIBE_FAILED, "events: this API runs without the sender")
    try:
        principal = await context.auth.authenticate(with_token(websocket, token))
    except SeleneError as exc:
        if exc.error is AUTH_REQUIRED:
            raise SeleneError(SENDER_NO_ACCOUNT) from None
        raise
    principal.require("event", "view")
    (account,) = principal.readable(account_id)
    filters = filters_of(websocket.query_params)
    if not context.sender.fanout.running:
        raise SeleneError(SENDER_DISCONNECTED, "Broker")
    return account, filters

"""What Selene's websockets share (the stream websocket, the sender's /6/ws): a client's bounded queue,
the loop that drains it into the socket, and credentials for clients that cannot set headers.

A queue is bounded so that a slow client loses its oldest messages instead of holding up the others
(or the consumer that feeds them); every loss is counted in ``selene_ws_messages_dropped``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import Request, WebSocket
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocketDisconnect, WebSocketDisconnected

from infra import metrics

log = logging.getLogger(__name__)
GOING_AWAY = 1001  # websocket close code: the server stops


@dataclass(frozen=True)
class Close:
    """The last item of a queue: close the websocket with ``code``, after sending ``body``."""

    code: int
    body: str | None = None


class MessageQueue:
    """One websocket client's messages. ``socket`` names the kind of websocket in the metric; ``context``
    (a stream id, an account) goes into the slow-client warning."""

    def __init__(self, size: int, socket: str, context: Mapping[str, str]) -> None:
        self.dropped = 0
        self._socket, self._context = socket, dict(context)
        self._queue: asyncio.Queue[str | Close] = asyncio.Queue(size)

    def put(self, item: str | Close) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
            metrics.WS_DROPPED.labels(self._socket).inc()
            if self.dropped == 1 or self.dropped % 100 == 0:
                log.warning("slow websocket client, oldest messages dropped",
                            extra={**self._context, "socket": self._socket, "dropped": self.dropped})
        self._queue.put_nowait(item)

    async def get(self) -> str | Close:
        return await self._queue.get()


def with_token(connection: HTTPConnection, token: str | None) -> Request:
    """A websocket handshake or a request as the authenticator reads requests (headers only), with a
    ``token`` query parameter as a Bearer header when there is no Authorization header (browsers cannot
    set headers on a websocket or an ``<img>``)."""
    headers = list(connection.scope["headers"])
    if token and "authorization" not in connection.headers:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    return Request({"type": "http", "method": "GET", "headers": headers})


async def serve_queue(websocket: WebSocket, queue: MessageQueue) -> None:
    """Send the queue's messages until the client leaves or the queue closes."""
    sending = asyncio.create_task(_send(websocket, queue))
    listening = asyncio.create_task(_until_disconnect(websocket))
    done, pending = await asyncio.wait({sending, listening}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        task.result()


async def _send(websocket: WebSocket, queue: MessageQueue) -> None:
    try:
        while not isinstance(item := await queue.get(), Close):
            await websocket.send_text(item)
        if item.body is not None:
            await websocket.send_text(item.body)
        await websocket.close(code=item.code)
    except (WebSocketDisconnect, WebSocketDisconnected):
        pass  # the client left while we were sending


async def _until_disconnect(websocket: WebSocket) -> None:
    """Clients send nothing that matters; reading tells when they leave."""
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass

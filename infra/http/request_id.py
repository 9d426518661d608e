"""LUNA's ``Luna-Request-Id``: ``<unix timestamp>,<uuid>``, echoed when valid, generated otherwise."""

from __future__ import annotations

import re
import time
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "Luna-Request-Id"
_PATTERN = re.compile(r"^[0-9]{10},[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$")


def new_request_id() -> str:
    return f"{int(time.time())},{uuid.uuid4()}"


def valid(request_id: str | None) -> bool:
    return bool(request_id and _PATTERN.match(request_id))


class RequestIdMiddleware:
    """A pure ASGI middleware: BaseHTTPMiddleware's task and stream per request cost more than the route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get(HEADER)
        request_id = given if valid(given) else new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)

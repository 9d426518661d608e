"""LUNA's ``Luna-Request-Id``: ``<unix timestamp>,<uuid>``, echoed when valid, generated otherwise."""

from __future__ import annotations

import re
import time
import uuid

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response

HEADER = "Luna-Request-Id"
_PATTERN = re.compile(r"^[0-9]{10},[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$")


def new_request_id() -> str:
    return f"{int(time.time())},{uuid.uuid4()}"


def valid(request_id: str | None) -> bool:
    return bool(request_id and _PATTERN.match(request_id))


class RequestIdMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        given = request.headers.get(HEADER)
        request.state.request_id = given if valid(given) else new_request_id()
        response = await call_next(request)
        response.headers[HEADER] = request.state.request_id
        return response

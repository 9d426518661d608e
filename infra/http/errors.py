"""Every API failure leaves in LUNA's error body: ``error_code``, ``desc``, ``detail``, ``link``."""

from __future__ import annotations

import logging

import redis.exceptions
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from schemas import errors
from schemas.errors import ErrorCode, SeleneError

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 1  # a restarted Redis answers within a few seconds; clients retry at once after that


def error_response(error: ErrorCode, *values: object) -> JSONResponse:
    return JSONResponse(error.body(*values).model_dump(), status_code=error.http_status)


def _validation_error(exc: RequestValidationError) -> JSONResponse:
    first = exc.errors()[0] if exc.errors() else {}
    location = [str(p) for p in first.get("loc", ())]
    if first.get("type") == "json_invalid":
        return error_response(errors.JSON_INVALID, first.get("msg", "invalid JSON"))
    if location and location[0] in ("query", "path", "header"):
        return error_response(errors.BAD_QUERY, f"{'.'.join(location[1:])}: {first.get('msg', '')}")
    if location == ["body"] and first.get("type") == "missing":
        return error_response(errors.NO_JSON)
    path = ".".join(location[1:]) if location[:1] == ["body"] else ".".join(location)
    return error_response(errors.JSON_PATH_INVALID, path, first.get("msg", ""))


class BodyLimitMiddleware:
    """Refuse oversized bodies from their Content-Length, before reading them (pure ASGI, as
    ``RequestIdMiddleware``)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            length = Headers(scope=scope).get("content-length")
            if length and length.isdigit() and int(length) > self.max_bytes:
                await error_response(errors.PAYLOAD_TOO_LARGE)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def install(app: FastAPI) -> None:
    @app.exception_handler(SeleneError)
    async def selene_error(_: Request, exc: SeleneError) -> JSONResponse:
        return JSONResponse(exc.body.model_dump(), status_code=exc.error.http_status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation_error(exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return error_response(errors.PAGE_NOT_FOUND)
        if exc.status_code == 405:
            return error_response(errors.METHOD_NOT_ALLOWED)
        return error_response(errors.BAD_INPUT_DATA, exc.detail)

    # Redis holds the registry, accounts and lists: while it is down (or too slow) every route that reads
    # them says so, naming the part, instead of an unknown error. Its subclasses (busy loading, a pool
    # with no free connection) are the same condition.
    @app.exception_handler(redis.exceptions.ConnectionError)
    @app.exception_handler(redis.exceptions.TimeoutError)
    async def redis_unavailable(request: Request, exc: redis.exceptions.RedisError) -> JSONResponse:
        log.warning("redis unavailable", extra={"path": request.url.path, "error": str(exc)})
        response = error_response(errors.SERVICE_UNAVAILABLE, "redis", exc)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return error_response(errors.UNKNOWN_ERROR)

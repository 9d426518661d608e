"""Every API failure leaves in LUNA's error body: ``error_code``, ``desc``, ``detail``, ``link``."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response

from schemas import errors
from schemas.errors import ErrorCode, SeleneError

log = logging.getLogger(__name__)


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


class BodyLimitMiddleware(BaseHTTPMiddleware):
    """Refuse oversized bodies from their Content-Length, before reading them."""

    def __init__(self, app: object, max_bytes: int) -> None:
        super().__init__(app)  # type: ignore[arg-type]
        self.max_bytes = max_bytes

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > self.max_bytes:
            return error_response(errors.PAYLOAD_TOO_LARGE)
        return await call_next(request)


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

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return error_response(errors.UNKNOWN_ERROR)

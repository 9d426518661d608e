"""The recognition service, as its routes get it."""

from __future__ import annotations

from fastapi import Request

from analytics.recognition.service import Recognition
from schemas.errors import SERVICE_UNAVAILABLE, SeleneError


def recognition(request: Request) -> Recognition:
    found = request.app.state.context.recognition
    if found is None:
        raise SeleneError(SERVICE_UNAVAILABLE, "face store", "this API runs without Milvus")
    return found

"""The image store, as its routes get it."""

from __future__ import annotations

from fastapi import Request

from analytics.images.samples import SampleStore
from analytics.images.store import ImageStore
from schemas.errors import SERVICE_UNAVAILABLE, SeleneError


def image_store(request: Request) -> ImageStore:
    found = request.app.state.context.images
    if found is None:
        raise SeleneError(SERVICE_UNAVAILABLE, "image store", "this API runs without an image store")
    return found


def sample_store(request: Request) -> SampleStore:
    found = request.app.state.context.samples
    if found is None:
        raise SeleneError(SERVICE_UNAVAILABLE, "image store", "this API runs without an image store")
    return found

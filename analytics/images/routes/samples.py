"""LUNA's ``samples`` resources: face warps (250x250) and body warps (128x250) saved from outside, and the
samples the detector and handlers store, read back by id."""

from __future__ import annotations

import asyncio
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from analytics.images.routes.deps import image_store, sample_store
from analytics.images.routes.upload import (
    Ttl,
    binary_responses,
    image_body,
    object_headers,
    raw_body_openapi,
    ttl_expiry,
)
from analytics.images.samples import CONTENT_TYPE, SampleKind, SampleStore
from analytics.images.store import ImageStore
from infra.auth.access import access
from infra.auth.authenticator import ObjectKind, Principal
from infra.media.jpeg import encode_jpeg
from schemas.errors import IMAGE_NOT_FOUND, WARP_SIZE_INVALID, SeleneError
from schemas.images import SampleCreated

router = APIRouter(tags=["samples"])
Samples = Depends(sample_store)
SamplesType = Literal["faces", "bodies"]
WARP_SIZES: dict[str, tuple[int, int]] = {"faces": (250, 250), "bodies": (128, 250)}  # width, height
_PERMISSIONS: dict[str, ObjectKind] = {"faces": "face_sample", "bodies": "body_sample"}
_ACCESS = {kind: access(permission) for kind, permission in _PERMISSIONS.items()}
JPEG_QUALITY = 95  # a warp sent as PNG, BMP, TIFF or PPM is kept as JPEG, as every sample is


async def sample_caller(request: Request, samples_type: SamplesType) -> Principal:
    """The caller, with the face_sample or body_sample right the method needs."""
    return await _ACCESS[samples_type](request)


Caller = Depends(sample_caller)


def _not_found(sample_id: UUID) -> SeleneError:
    return SeleneError(IMAGE_NOT_FOUND, sample_id)


@router.post("/samples/{samples_type}", status_code=201, response_model=SampleCreated, openapi_extra=raw_body_openapi(),
             summary="Save a face (250x250) or body (128x250) sample")
async def save_sample(request: Request, samples_type: SamplesType, ttl: int | None = Ttl, caller: Principal = Caller,
                      samples: SampleStore = Samples, store: ImageStore = Depends(image_store)) -> SampleCreated:
    """The warp is the body, as LUNA's normalisation makes it: 11030 for another size, 11028 for a type
    other than an image's, 18002 if it does not decode."""
    kind: SampleKind = samples_type
    expire_time = ttl_expiry(ttl)
    data, content_type, pixels = await image_body(request, store.max_object_bytes)
    width, height = WARP_SIZES[kind]
    if pixels.shape[:2] != (height, width):
        raise SeleneError(WARP_SIZE_INVALID, f"{width}x{height}")
    if content_type != CONTENT_TYPE:
        data = await asyncio.to_thread(encode_jpeg, pixels, JPEG_QUALITY)
    sample_id = await samples.put(caller.account_id, kind, data, expire_time=expire_time)
    return SampleCreated(sample_id=sample_id, url=f"/6/samples/{kind}/{sample_id}")


@router.get("/samples/{samples_type}/{sample_id}", response_class=Response,
            responses=binary_responses("The sample (JPEG)", (CONTENT_TYPE,)), summary="Get a face or body sample")
async def get_sample(samples_type: SamplesType, sample_id: UUID, caller: Principal = Caller,
                     samples: SampleStore = Samples) -> Response:
    stored = await samples.buckets[samples_type].get(caller.account_id, sample_id)
    if stored is None:
        raise _not_found(sample_id)
    return Response(stored.data, media_type=stored.info.content_type, headers=object_headers(stored.info, False))


@router.head("/samples/{samples_type}/{sample_id}", status_code=200, summary="Does the sample exist")
async def head_sample(samples_type: SamplesType, sample_id: UUID, caller: Principal = Caller,
                      samples: SampleStore = Samples) -> Response:
    info = await samples.head(caller.account_id, samples_type, sample_id)
    if info is None:
        raise _not_found(sample_id)
    headers = {"Content-Type": info.content_type, "Content-Length": str(info.size), **object_headers(info, False)}
    return Response(status_code=200, headers=headers)


@router.delete("/samples/{samples_type}/{sample_id}", status_code=204, summary="Delete a face or body sample")
async def delete_sample(samples_type: SamplesType, sample_id: UUID, caller: Principal = Caller,
                        samples: SampleStore = Samples) -> Response:
    if not await samples.delete(caller.account_id, samples_type, sample_id):
        raise _not_found(sample_id)
    return Response(status_code=204)

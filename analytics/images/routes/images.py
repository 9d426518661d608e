"""LUNA's ``images`` tag: source images with their ``X-Luna-Meta-*`` metadata and TTL."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from analytics.images.routes.deps import image_store
from analytics.images.routes.upload import (
    Ttl,
    WithMeta,
    binary_responses,
    external_url,
    image_body,
    raw_body_openapi,
    luna_meta,
    object_headers,
    ttl_expiry,
)
from analytics.images.store import ImageStore
from infra.auth.access import access
from infra.auth.authenticator import Principal
from schemas.errors import IMAGE_NOT_FOUND, SeleneError
from schemas.images import ImageCreated

router = APIRouter(tags=["images"])
Caller = Depends(access("image"))
Images = Depends(image_store)


@router.post("/images", status_code=201, response_model=ImageCreated, openapi_extra=raw_body_openapi(),
             summary="Store a source image, with X-Luna-Meta-<key> headers as its metadata")
async def create_image(request: Request, ttl: int | None = Ttl, caller: Principal = Caller,
                       store: ImageStore = Images) -> ImageCreated:
    """The image is the body (JPEG, PNG, BMP, TIFF or PPM, as its Content-Type says; 11028 for another type,
    18002 if it does not decode), kept byte for byte."""
    expire_time = ttl_expiry(ttl)
    meta = luna_meta(request)
    data, content_type, _ = await image_body(request, store.max_object_bytes)
    image_id = await store.images.put(caller.account_id, data, content_type, meta, expire_time)
    url = f"/6/images/{image_id}"
    return ImageCreated(image_id=image_id, url=url, external_url=external_url(request, url))


@router.get("/images/{image_id}", response_class=Response, responses=binary_responses("The image, as stored"),
            summary="Get a source image")
async def get_image(image_id: UUID, with_meta: int = WithMeta, caller: Principal = Caller,
                    store: ImageStore = Images) -> Response:
    stored = await store.images.get(caller.account_id, image_id)
    if stored is None:
        raise SeleneError(IMAGE_NOT_FOUND, image_id)
    return Response(stored.data, media_type=stored.info.content_type, headers=object_headers(stored.info, bool(with_meta)))


@router.head("/images/{image_id}", status_code=200, summary="Does the image exist; X-Luna-Expiry-Date if it has a TTL")
async def head_image(image_id: UUID, with_meta: int = WithMeta, caller: Principal = Caller,
                     store: ImageStore = Images) -> Response:
    info = await store.images.head(caller.account_id, image_id)
    if info is None:
        raise SeleneError(IMAGE_NOT_FOUND, image_id)
    headers = {"Content-Type": info.content_type, "Content-Length": str(info.size), **object_headers(info, bool(with_meta))}
    return Response(status_code=200, headers=headers)


@router.delete("/images/{image_id}", status_code=204, summary="Delete a source image")
async def delete_image(image_id: UUID, caller: Principal = Caller, store: ImageStore = Images) -> Response:
    if not await store.images.delete(caller.account_id, image_id):
        raise SeleneError(IMAGE_NOT_FOUND, image_id)
    return Response(status_code=204)

"""LUNA's ``objects`` tag: any bytes (an archive, a report), kept with their Content-Type."""

from __future__ import annotations

import mimetypes
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from analytics.images.routes.deps import image_store
from analytics.images.routes.upload import (
    OCTET_STREAM,
    Ttl,
    binary_responses,
    external_url,
    raw_body_openapi,
    media_type,
    object_headers,
    read_body,
    ttl_expiry,
)
from analytics.images.store import ImageStore
from infra.auth.access import access
from infra.auth.authenticator import Principal
from schemas.errors import STORED_OBJECT_NOT_FOUND, SeleneError
from schemas.images import ObjectCreated

router = APIRouter(tags=["objects"])
Caller = Depends(access("object"))
Objects = Depends(image_store)
DOCUMENTED_TYPES = (OCTET_STREAM, "text/plain")  # any type is accepted; these two are what the schema lists


def filename(object_id: UUID, content_type: str) -> str:
    """LUNA names a downloaded object by its id and its type's extension, ``.bin`` when the type has none."""
    return f"{object_id}{mimetypes.guess_extension(content_type) or '.bin'}"


@router.post("/objects", status_code=201, response_model=ObjectCreated, openapi_extra=raw_body_openapi(DOCUMENTED_TYPES),
             summary="Store any bytes; the Content-Type is kept and returned by GET")
async def create_object(request: Request, ttl: int | None = Ttl, caller: Principal = Caller,
                        store: ImageStore = Objects) -> ObjectCreated:
    expire_time = ttl_expiry(ttl)
    data = await read_body(request, store.max_object_bytes)
    object_id = await store.objects.put(caller.account_id, data, media_type(request) or OCTET_STREAM, None, expire_time)
    url = f"/6/objects/{object_id}"
    return ObjectCreated(object_id=object_id, url=url, external_url=external_url(request, url))


@router.get("/objects/{object_id}", response_class=Response,
            responses=binary_responses("The object, with the Content-Type it was stored with", DOCUMENTED_TYPES),
            summary="Get an object")
async def get_object(object_id: UUID, caller: Principal = Caller, store: ImageStore = Objects) -> Response:
    stored = await store.objects.get(caller.account_id, object_id)
    if stored is None:
        raise SeleneError(STORED_OBJECT_NOT_FOUND, object_id)
    headers = {
        "Content-Disposition": f'attachment; filename="{filename(object_id, stored.info.content_type)}"',
        **object_headers(stored.info, False),
    }
    return Response(stored.data, media_type=stored.info.content_type, headers=headers)


@router.head("/objects/{object_id}", status_code=200, summary="Does the object exist; X-Luna-Expiry-Date if it has a TTL")
async def head_object(object_id: UUID, caller: Principal = Caller, store: ImageStore = Objects) -> Response:
    info = await store.objects.head(caller.account_id, object_id)
    if info is None:
        raise SeleneError(STORED_OBJECT_NOT_FOUND, object_id)
    headers = {"Content-Type": info.content_type, "Content-Length": str(info.size), **object_headers(info, False)}
    return Response(status_code=200, headers=headers)


@router.delete("/objects/{object_id}", status_code=204, summary="Delete an object")
async def delete_object(object_id: UUID, caller: Principal = Caller, store: ImageStore = Objects) -> Response:
    if not await store.objects.delete(caller.account_id, object_id):
        raise SeleneError(STORED_OBJECT_NOT_FOUND, object_id)
    return Response(status_code=204)

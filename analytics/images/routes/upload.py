"""What the image store's routes read from a request and write into a response: the body within the size
limit, its content type, LUNA's ``X-Luna-Meta-*`` headers, ``ttl`` and ``X-Luna-Expiry-Date``."""

from __future__ import annotations

import asyncio
from datetime import datetime

import numpy as np
from fastapi import Query, Request

from analytics.images.storage import ObjectInfo
from analytics.images.ttl import KEEP, TTL_DAYS, expire_time_of, now_utc
from infra.media.image import decode_image
from schemas.errors import BAD_INPUT_DATA, BAD_QUERY, IMAGE_CONTENT_TYPE_INVALID, PAYLOAD_TOO_LARGE, SeleneError

IMAGE_TYPES = ("image/jpeg", "image/png", "image/bmp", "image/tiff", "image/x-portable-pixmap")
OCTET_STREAM = "application/octet-stream"
META_HEADER = "x-luna-meta-"
EXPIRY_HEADER = "X-Luna-Expiry-Date"
# S3 keeps at most 2 KiB of user metadata per object; the local disk keeps the same limit, so that moving
# a deployment to S3 never refuses what it accepted before.
MAX_META_BYTES = 2048

Ttl = Query(None, description=f"Days to keep the object: one of {', '.join(map(str, TTL_DAYS))}, or -1 to keep it "
                              "until deleted; unset: the bucket's default TTL.")
WithMeta = Query(0, ge=0, le=1, description="1: the object's X-Luna-Meta-* headers are returned too.")


def raw_body_openapi(types: tuple[str, ...] = IMAGE_TYPES) -> dict[str, object]:
    """The request body a raw-bytes route documents (it reads the body itself)."""
    content = {t: {"schema": {"type": "string", "format": "binary"}} for t in types}
    return {"requestBody": {"required": True, "content": content}}


def binary_responses(description: str, types: tuple[str, ...] = IMAGE_TYPES) -> dict[int | str, dict[str, object]]:
    return {200: {"description": description, "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in types}}}


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The body, refused with 37003 as soon as it passes ``max_bytes`` (a chunked body has no Content-Length)."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise SeleneError(PAYLOAD_TOO_LARGE)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise SeleneError(PAYLOAD_TOO_LARGE)
        chunks.append(chunk)
    return b"".join(chunks)


async def image_body(request: Request, max_bytes: int) -> tuple[bytes, str, np.ndarray]:
    """An image body with one of LUNA's image content types (11028 otherwise) that decodes (18002 otherwise):
    its bytes, content type and pixels."""
    content_type = media_type(request)
    if content_type not in IMAGE_TYPES:
        raise SeleneError(IMAGE_CONTENT_TYPE_INVALID, content_type or "(none)")
    data = await read_body(request, max_bytes)
    pixels = await asyncio.to_thread(decode_image, data, False)
    return data, content_type, pixels


def luna_meta(request: Request) -> dict[str, str]:
    """``X-Luna-Meta-<key>: <value>`` headers as {key: value}, keys lower-case (HTTP header names are)."""
    meta = {
        name[len(META_HEADER):]: value for name, value in request.headers.items()
        if name.startswith(META_HEADER) and len(name) > len(META_HEADER)
    }
    if sum(len(k) + len(v.encode()) for k, v in meta.items()) > MAX_META_BYTES:
        raise SeleneError(BAD_INPUT_DATA, f"X-Luna-Meta-* headers hold more than {MAX_META_BYTES} bytes")
    return meta


def ttl_expiry(ttl: int | None) -> datetime | None:
    if ttl is not None and ttl != KEEP and ttl not in TTL_DAYS:
        raise SeleneError(BAD_QUERY, f"ttl: {ttl} is not one of -1, {', '.join(map(str, TTL_DAYS))}")
    return expire_time_of(ttl, now_utc())


def object_headers(info: ObjectInfo, with_meta: bool) -> dict[str, str]:
    headers = {"X-Luna-Meta-" + name: value for name, value in info.meta.items()} if with_meta else {}
    if info.expire_time is not None:
        headers[EXPIRY_HEADER] = info.expire_time.isoformat()
    return headers


def external_url(request: Request, url: str) -> str:
    """LUNA's ``external_url``: the absolute address of ``url`` as this request reached the API."""
    return str(request.base_url).rstrip("/") + url

"""The inputs of LUNA's ``generate events``, in every body format LUNA accepts.

- an image as the body (``image/*``), or its Base64 (``image/x-*-base64``);
- an SDK descriptor as the body (``application/x-sdk-descriptor``, or ``...-base64``);
- ``multipart/form-data``: several images and/or descriptors, plus a ``policies`` part (JSON, dynamic
  handlers only) and a ``meta`` part (JSON, every event's meta);
- JSON: ``{"images": [{"image": "<Base64>"} | {"url": "..."} | {"sample_id": "..."}, ...], "meta": {...}}``
  where each item may carry ``filename``, ``detect_time``, ``detect_ts``, ``image_origin`` and ``meta``.

Each input is kept as received; decoding and downloading are per input, so a broken one fails alone
(18001, 18002, 11027) and the others still make events. XPK files are not read (12017).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace
from datetime import datetime
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from uuid import UUID

import httpx
import numpy as np
from pydantic import Field, ValidationError, model_validator

from infra.http.deps import reason
from schemas.base import Body
from schemas.descriptor_formats import decode_sdk
from schemas.errors import (
    BAD_CONTENT_TYPE,
    BAD_INPUT_DATA,
    DOWNLOAD_FAILED,
    INVALID_URL,
    JSON_INVALID,
    SeleneError,
)
from schemas.handlers import MAX_RECEIVED_IMAGES, Policies

IMAGE_TYPES = ("image/jpeg", "image/png", "image/bmp", "image/x-portable-pixmap", "image/tiff")
BASE64_TYPES = tuple(f"image/x-{kind}-base64" for kind in ("jpeg", "png", "bmp", "tiff", "portable-pixmap"))
DESCRIPTOR_TYPES = ("application/x-sdk-descriptor", "application/x-sdk-descriptor-base64")
XPK_TYPES = ("application/x-vl-xpk", "application/x-vl-xpk-base64")
MAX_DOWNLOAD_BYTES = 16 * 1024 * 1024
DOWNLOAD_SECONDS = 10.0


class JsonInput(Body):
    """One input of a JSON body: exactly one of ``image`` (Base64), ``url`` and ``sample_id``."""

    image: str | None = Field(None, min_length=1, description="Base64 image.")
    url: str | None = Field(None, min_length=1, max_length=2048)
    sample_id: UUID | None = Field(None, description="A face sample (warp) of the account; with image_type 1.")
    mimetype: str | None = None
    filename: str | None = Field(None, max_length=256)
    detect_time: datetime | None = None
    detect_ts: float | None = Field(None, ge=0)
    image_origin: str | None = Field(None, max_length=256)
    meta: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> JsonInput:
        if sum(x is not None for x in (self.image, self.url, self.sample_id)) != 1:
            raise ValueError("give exactly one of image, url and sample_id")
        return self


class JsonEvents(Body):
    images: list[JsonInput] = Field(min_length=1)
    meta: dict[str, Any] | None = None


@dataclass(frozen=True)
class EventInput:
    """One image, sample or descriptor to make events of; exactly one source is set."""

    filename: str
    image: bytes | str | None = None  # bytes: binary; str: Base64
    url: str | None = None
    sample_id: UUID | None = None
    descriptor: tuple[int, np.ndarray] | None = None
    error: SeleneError | None = None  # the input could not be read: reported per image
    detect_time: datetime | None = None
    detect_ts: float | None = None
    image_origin: str | None = None
    meta: dict[str, Any] | None = None


@dataclass
class EventsBody:
    inputs: list[EventInput]
    meta: dict[str, Any] | None = None
    policies: Policies | None = None  # a dynamic handler's, from the multipart ``policies`` part


def _media_type(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def _descriptor_input(filename: str, media: str, payload: bytes) -> EventInput:
    try:
        text = payload.decode("ascii", "replace") if media.endswith("-base64") else base64.b64encode(payload).decode()
        return EventInput(filename, descriptor=decode_sdk(text))
    except SeleneError as exc:
        return EventInput(filename, error=exc)


def _json_object(name: str, payload: bytes) -> Any:
    try:
        return json.loads(payload or b"null")
    except ValueError as exc:
        raise SeleneError(JSON_INVALID, f"{name}: {exc}") from None


def _multipart(content_type: str, body: bytes) -> EventsBody:
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise SeleneError(BAD_CONTENT_TYPE)
    parsed = EventsBody(inputs=[])
    for number, part in enumerate(message.iter_parts()):
        payload = part.get_payload(decode=True) or b""
        name = str(part.get_param("name", header="content-disposition") or "")
        filename = str(part.get_filename() or name or f"image {number}")
        media = part.get_content_type()
        if name == "policies":
            try:
                parsed.policies = Policies.model_validate(_json_object("policies", payload))
            except ValidationError as exc:
                raise SeleneError(JSON_INVALID, "policies: " + reason(exc)) from None
        elif name == "meta":
            meta = _json_object("meta", payload)
            if not isinstance(meta, dict):
                raise SeleneError(JSON_INVALID, "meta: must be an object")
            parsed.meta = meta
        elif media in DESCRIPTOR_TYPES:
            parsed.inputs.append(_descriptor_input(filename, media, payload))
        elif media in XPK_TYPES:
            raise SeleneError(BAD_CONTENT_TYPE)
        else:
            encoded = media in BASE64_TYPES
            parsed.inputs.append(EventInput(filename, image=payload.decode("ascii", "replace") if encoded else payload))
    return parsed


def _json(body: bytes) -> EventsBody:
    try:
        parsed = JsonEvents.model_validate_json(body or b"null")
    except ValidationError as exc:
        raise SeleneError(JSON_INVALID, reason(exc)) from None
    inputs = [
        EventInput(
            filename=i.filename or (i.url if i.url else str(i.sample_id) if i.sample_id else f"image {n}"),
            image=i.image, url=i.url, sample_id=i.sample_id, detect_time=i.detect_time, detect_ts=i.detect_ts,
            image_origin=i.image_origin, meta=i.meta,
        )
        for n, i in enumerate(parsed.images)
    ]
    return EventsBody(inputs=inputs, meta=parsed.meta)


def parse_events_body(content_type: str, body: bytes) -> EventsBody:
    """The request's inputs, in order; 12017 for an unknown content type, 12031 for none or over 8."""
    media = _media_type(content_type)
    if media in IMAGE_TYPES:
        parsed = EventsBody(inputs=[EventInput("raw_image", image=body)])
    elif media in BASE64_TYPES:
        parsed = EventsBody(inputs=[EventInput("raw_image", image=body.decode("ascii", "replace"))])
    elif media in DESCRIPTOR_TYPES:
        parsed = EventsBody(inputs=[_descriptor_input("raw_descriptor", media, body)])
    elif media == "multipart/form-data":
        parsed = _multipart(content_type, body)
    elif media == "application/json":
        parsed = _json(body)
    else:
        raise SeleneError(BAD_CONTENT_TYPE)
    if not parsed.inputs:
        raise SeleneError(BAD_INPUT_DATA, "the request holds no image, sample or descriptor")
    if len(parsed.inputs) > MAX_RECEIVED_IMAGES:
        raise SeleneError(BAD_INPUT_DATA, f"at most {MAX_RECEIVED_IMAGES} images per request, got {len(parsed.inputs)}")
    return parsed


async def download(item: EventInput, client: httpx.AsyncClient) -> EventInput:
    """An URL input with its image fetched (or its error: 3 for a bad URL, 11027 for a failed download)."""
    assert item.url is not None
    if not item.url.startswith(("http://", "https://")):
        return replace(item, error=SeleneError(INVALID_URL, item.url))
    try:
        async with client.stream("GET", item.url, timeout=DOWNLOAD_SECONDS) as response:
            response.raise_for_status()
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > MAX_DOWNLOAD_BYTES:
                    raise ValueError("image over the size limit")
    except (httpx.HTTPError, ValueError):
        return replace(item, error=SeleneError(DOWNLOAD_FAILED, item.url))
    # The URL is where the image came from: LUNA keeps it as image_origin (use_external_references).
    return replace(item, image=bytes(data), image_origin=item.image_origin or item.url[:256])

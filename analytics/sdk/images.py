"""The images of a Remote SDK request, as LUNA accepts them: the raw image as the body (``image/*``),
Base64 as the body (``image/x-*-base64``), several images in ``multipart/form-data`` (binary parts, or
Base64 parts with a ``*-base64`` content type), or JSON ``{"images": [{"image": "<Base64>"}]}``.

Each image is kept as received; decoding is per image, so one broken image fails alone (18001, 18002).

Face boxes (LUNA's ``face_bounding_boxes``) come per image: in JSON beside the image, in multipart as an
``application/json`` part ``{"face_bounding_boxes": [...]}`` named like the image part it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP

from pydantic import ValidationError

from infra.http.deps import reason
from schemas.errors import (
    BAD_CONTENT_TYPE,
    BAD_INPUT_DATA,
    JSON_INVALID,
    MULTIPART_DUPLICATE_NAME,
    MULTIPART_UNKNOWN_NAME,
    SeleneError,
)
from schemas.sdk import ImageBoxes, JsonImages, Rect

IMAGE_TYPES = ("image/jpeg", "image/png", "image/bmp", "image/x-portable-pixmap", "image/tiff")
BASE64_TYPES = tuple(f"image/x-{kind}-base64" for kind in ("jpeg", "png", "bmp", "tiff", "portable-pixmap"))
MAX_IMAGES = 16  # per request, so that one request cannot hold the inference thread for long


@dataclass(frozen=True)
class InputImage:
    """``data`` bytes for a binary image, str for Base64 (decoded later, per image); ``face_boxes``
    the faces' boxes given with it (None: detect faces in the whole image)."""

    filename: str
    data: bytes | str
    face_boxes: tuple[Rect, ...] | None = None


def _media_type(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def _boxes(payload: bytes) -> tuple[Rect, ...]:
    try:
        return tuple(ImageBoxes.model_validate_json(payload or b"null").face_bounding_boxes)
    except ValidationError as exc:
        raise SeleneError(JSON_INVALID, reason(exc)) from None


def _multipart(content_type: str, body: bytes) -> list[InputImage]:
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise SeleneError(BAD_CONTENT_TYPE)
    images: list[tuple[str, InputImage]] = []  # (form field name, image)
    boxes: dict[str, tuple[Rect, ...]] = {}
    for number, part in enumerate(message.iter_parts()):
        payload = part.get_payload(decode=True) or b""
        field = str(part.get_param("name", header="content-disposition") or f"image {number}")
        if part.get_content_type() == "application/json":
            if field in boxes:
                raise SeleneError(MULTIPART_DUPLICATE_NAME, field)
            boxes[field] = _boxes(payload)
            continue
        name = part.get_filename() or field
        base64 = part.get_content_type() in BASE64_TYPES
        images.append((field, InputImage(str(name), payload.decode("ascii", "replace") if base64 else payload)))
    fields = [field for field, _ in images]
    for field in boxes:
        if fields.count(field) != 1:  # boxes must say which one image they belong to
            raise SeleneError(MULTIPART_UNKNOWN_NAME if field not in fields else MULTIPART_DUPLICATE_NAME, field)
    return [InputImage(i.filename, i.data, boxes.get(field)) for field, i in images]


def parse_images(content_type: str, body: bytes) -> list[InputImage]:
    """The request's images, in order; 12017 for an unknown content type, 12031 for none or too many."""
    media = _media_type(content_type)
    if media in IMAGE_TYPES:
        images = [InputImage("raw image", body)]
    elif media in BASE64_TYPES:
        images = [InputImage("raw image", body.decode("ascii", "replace"))]
    elif media == "multipart/form-data":
        images = _multipart(content_type, body)
    elif media == "application/json":
        try:
            parsed = JsonImages.model_validate_json(body or b"null")
        except ValidationError as exc:
            raise SeleneError(JSON_INVALID, reason(exc)) from None
        images = [InputImage(i.filename or f"image {n}", i.image,
                             None if i.face_bounding_boxes is None else tuple(i.face_bounding_boxes))
                  for n, i in enumerate(parsed.images)]
    else:
        raise SeleneError(BAD_CONTENT_TYPE)
    if not images:
        raise SeleneError(BAD_INPUT_DATA, "the request holds no image")
    if len(images) > MAX_IMAGES:
        raise SeleneError(BAD_INPUT_DATA, f"at most {MAX_IMAGES} images per request, got {len(images)}")
    return images

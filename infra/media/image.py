"""Still images from request bodies: JPEG, PNG, BMP, PPM, TIFF, binary or Base64, to BGR pixels."""

from __future__ import annotations

import cv2
import numpy as np

from schemas.descriptor_formats import b64_bytes
from schemas.errors import IMAGE_INVALID, SeleneError


def decode_image(data: str | bytes, use_exif: bool = True) -> np.ndarray:
    """BGR pixels of a Base64 (str) or binary image, turned upright by its EXIF orientation unless
    ``use_exif`` is off (LUNA's ``use_exif_info``); 18001 / 18002 when it is not one."""
    if isinstance(data, str):
        data = b64_bytes(data)
    flags = cv2.IMREAD_COLOR if use_exif else cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION
    image = cv2.imdecode(np.frombuffer(data, np.uint8), flags) if data else None
    if image is None:
        raise SeleneError(IMAGE_INVALID, "image")
    return image


def image_format(data: bytes) -> str | None:
    """LUNA's ``image_format`` names (JPEG, JPEG2000, PNG, BMP, PPM, TIFF) by magic number; None if unknown."""
    for magic, name in ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG", "PNG"), (b"\x00\x00\x00\x0cjP  ", "JPEG2000"),
                        (b"\xff\x4f\xff\x51", "JPEG2000"), (b"BM", "BMP"), (b"P6", "PPM"), (b"II*\x00", "TIFF"),
                        (b"MM\x00*", "TIFF")):
        if data.startswith(magic):
            return name
    return None

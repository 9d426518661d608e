"""JPEG encoding that keeps every frame message under Kafka's size limit.

Video frames are encoded from their YUV 4:2:0 planes with libjpeg-turbo (simplejpeg), the format JPEG
stores, so no BGR image is made on the way; still images (BGR) go through OpenCV.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import cv2
import numpy as np
import simplejpeg

from schemas.frames import MAX_FRAME_BYTES

_HEADROOM = 16 * 1024  # headers and the record envelope share the message size limit
_MIN_QUALITY = 40
MAX_JPEG_BYTES = MAX_FRAME_BYTES - _HEADROOM

Planes = tuple[np.ndarray, np.ndarray, np.ndarray]
T = TypeVar("T")


def encode_jpeg(image: np.ndarray, quality: int, max_bytes: int = MAX_JPEG_BYTES) -> bytes:
    """Encode BGR pixels at ``quality``; if too large, lower the quality, then halve the resolution, until it fits."""

    def encode(image: np.ndarray, q: int) -> bytes:
        ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, q])
        if not ok:
            raise ValueError("OpenCV could not encode the frame as JPEG")
        return buffer.tobytes()

    def halve(image: np.ndarray) -> np.ndarray:
        height, width = image.shape[:2]
        return cv2.resize(image, (width // 2, height // 2), interpolation=cv2.INTER_AREA)

    return _fit(image, image.shape[:2], quality, max_bytes, encode, halve)[0]


def encode_jpeg_planes(planes: Planes, quality: int, max_bytes: int = MAX_JPEG_BYTES) -> tuple[bytes, int, int]:
    """JPEG bytes, width and height of full-range YUV 4:2:0 ``planes``, made to fit as ``encode_jpeg`` does."""

    def encode(planes: Planes, q: int) -> bytes:
        return simplejpeg.encode_jpeg_yuv_planes(*planes, quality=q)

    def halve(planes: Planes) -> Planes:
        y, u, v = planes
        height, width = y.shape[0] // 2, y.shape[1] // 2
        chroma = ((width + 1) // 2, (height + 1) // 2)  # 4:2:0 rounds the chroma size up
        return (cv2.resize(y, (width, height), interpolation=cv2.INTER_AREA),
                cv2.resize(u, chroma, interpolation=cv2.INTER_AREA),
                cv2.resize(v, chroma, interpolation=cv2.INTER_AREA))

    return _fit(planes, planes[0].shape, quality, max_bytes, encode, halve)


def _fit(image: T, shape: tuple[int, ...], quality: int, max_bytes: int,
         encode: Callable[[T, int], bytes], halve: Callable[[T], T]) -> tuple[bytes, int, int]:
    """Encoded bytes, width and height of the largest, best version of ``image`` under ``max_bytes``."""
    height, width = shape[:2]
    while True:
        q = quality
        while True:
            data = encode(image, q)
            if len(data) <= max_bytes:
                return data, width, height
            if q <= _MIN_QUALITY:
                break
            q = max(_MIN_QUALITY, q - 15)
        if min(height, width) < 16:
            raise ValueError(f"frame cannot be encoded under {max_bytes} bytes")
        image = halve(image)
        height, width = height // 2, width // 2

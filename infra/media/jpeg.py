"""JPEG encoding that keeps every frame message under Kafka's size limit."""

from __future__ import annotations

import cv2
import numpy as np

from schemas.frames import MAX_FRAME_BYTES

_HEADROOM = 16 * 1024  # headers and the record envelope share the message size limit
_MIN_QUALITY = 40


def encode_jpeg(image: np.ndarray, quality: int, max_bytes: int = MAX_FRAME_BYTES - _HEADROOM) -> bytes:
    """Encode at ``quality``; if too large, lower the quality, then halve the resolution, until it fits."""
    while True:
        q = quality
        while True:
            ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, q])
            if not ok:
                raise ValueError("OpenCV could not encode the frame as JPEG")
            if buffer.nbytes <= max_bytes:
                return buffer.tobytes()
            if q <= _MIN_QUALITY:
                break
            q = max(_MIN_QUALITY, q - 15)
        height, width = image.shape[:2]
        if min(height, width) < 16:
            raise ValueError(f"frame cannot be encoded under {max_bytes} bytes")
        image = cv2.resize(image, (width // 2, height // 2), interpolation=cv2.INTER_AREA)

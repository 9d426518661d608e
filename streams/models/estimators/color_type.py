"""``face_color_type`` (LUNA: color | grayscale | infrared) from the face warp's chroma.

A face whose pixels carry almost no chroma (mean |Cr - 128| + |Cb - 128| under 3 levels) is grayscale.
Near-infrared frames are monochrome too, and chroma cannot tell them from grayscale: this estimator
never answers ``infrared``.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

from streams.models.estimators.quality import face_region

ColorType = Literal["color", "grayscale", "infrared"]
_GREY_CHROMA = 3.0


def chroma(warp_bgr: np.ndarray) -> float:
    ycrcb = cv2.cvtColor(face_region(warp_bgr), cv2.COLOR_BGR2YCrCb).astype(np.float32)
    return float(np.abs(ycrcb[:, :, 1:] - 128).sum(-1).mean())


def face_color_type(warp_bgr: np.ndarray) -> ColorType:
    return "grayscale" if chroma(warp_bgr) < _GREY_CHROMA else "color"

"""Image quality of a face warp with classical measures; each value in [0, 1], 1 = good (LUNA's
``quality``). Measured on the warp's inner face region (no background, no hair):

- ``dark``: 1 - 2 x the share of pixels with luma under 40 (histogram's low tail);
- ``light``: 1 - 2 x the share of pixels with luma over 230 (high tail);
- ``blurriness``: variance of the Laplacian v mapped to v / (v + 60): a sharp warp scores > 0.8;
- ``illumination``: the darker half's mean luma over the brighter half's (left against right);
- ``specularity``: 1 - 10 x the share of specular pixels (luma > 240 with saturation < 40).

The constants were set on the face images in ``tests/data/faces/`` so that their ISO checks (dark 0.5,
light 0.57, blurriness 0.61, illumination 0.3, specularity 0.3) pass on the sharp, evenly lit ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

_DARK, _LIGHT, _SPECULAR, _GREY = 40, 230, 240, 40
_BLUR_HALF = 60.0  # Laplacian variance that scores 0.5
_TAIL_WEIGHT, _SPECULAR_WEIGHT = 2.0, 10.0


@dataclass(frozen=True)
class Quality:
    dark: float
    light: float
    blurriness: float
    illumination: float
    specularity: float


def face_region(warp: np.ndarray) -> np.ndarray:
    """The warp's inner face: brows to chin, cheek to cheek."""
    size = warp.shape[0]
    return warp[int(size * 0.36):int(size * 0.86), int(size * 0.28):int(size * 0.72)]


def _clip(value: float) -> float:
    return float(min(1.0, max(0.0, value)))


def quality(warp_bgr: np.ndarray) -> Quality:
    region = face_region(warp_bgr)
    grey = cv2.cvtColor(region, cv2.COLOR_BGR2GRAY)
    saturation = cv2.cvtColor(region, cv2.COLOR_BGR2HSV)[:, :, 1]
    laplacian = float(cv2.Laplacian(grey, cv2.CV_64F).var())
    half = grey.shape[1] // 2
    left, right = float(grey[:, :half].mean()), float(grey[:, half:].mean())
    specular = float(((grey > _SPECULAR) & (saturation < _GREY)).mean())
    return Quality(
        dark=_clip(1 - _TAIL_WEIGHT * float((grey < _DARK).mean())),
        light=_clip(1 - _TAIL_WEIGHT * float((grey > _LIGHT).mean())),
        blurriness=_clip(laplacian / (laplacian + _BLUR_HALF)),
        illumination=_clip(min(left, right) / max(left, right, 1e-6)),
        specularity=_clip(1 - _SPECULAR_WEIGHT * specular),
    )

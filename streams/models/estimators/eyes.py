"""Eye state (open | closed) from the 68 landmarks' eye aspect ratio (Soukupova and Cech, 2016):
EAR = (|p2 - p6| + |p3 - p5|) / (2 |p1 - p4|); an open eye is about 0.3, a closed one under 0.2.

LUNA's ``occluded`` state and its 34 iris landmarks need a network Selene does not have: never returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

EyeState = Literal["open", "closed"]
CLOSED_BELOW = 0.2
# iBUG indices: the subject's right eye is on the image's left (36-41), his left on the image's right (42-47).
_RIGHT, _LEFT = slice(36, 42), slice(42, 48)


@dataclass(frozen=True)
class Eyes:
    left: EyeState
    right: EyeState
    left_ratio: float
    right_ratio: float


def eye_aspect_ratio(eye: np.ndarray) -> float:
    """EAR of one eye's six points, corner to corner (iBUG order)."""
    vertical = np.linalg.norm(eye[1] - eye[5]) + np.linalg.norm(eye[2] - eye[4])
    return float(vertical / max(2 * np.linalg.norm(eye[0] - eye[3]), 1e-6))


def eyes(landmarks68: np.ndarray) -> Eyes:
    left, right = eye_aspect_ratio(landmarks68[_LEFT]), eye_aspect_ratio(landmarks68[_RIGHT])
    return Eyes(
        left="closed" if left < CLOSED_BELOW else "open", right="closed" if right < CLOSED_BELOW else "open",
        left_ratio=left, right_ratio=right,
    )

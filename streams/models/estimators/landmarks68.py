"""dlib's 68-point face landmarks (iBUG 300-W order) for a detected face.

The shape predictor was trained on dlib's HOG boxes: square and a little wider than SCRFD's, so the box
given to it is a square 1.1x the detector's width around the five landmarks' centre. The weights'
training set (iBUG 300-W) excludes commercial use. dlib objects are not thread-safe: one per thread.
"""

from __future__ import annotations

import dlib
import numpy as np

from infra.settings import InferenceSettings
from streams.models.registry import REGISTRY, verify

_BOX_WIDEN = 1.1


class Landmarks68:
    name = "dlib-shape-predictor-68"

    def __init__(self, settings: InferenceSettings | None = None) -> None:
        self._predictor = dlib.shape_predictor(str(verify(REGISTRY[self.name], settings)))

    def __call__(self, rgb: np.ndarray, box: np.ndarray, landmarks5: np.ndarray) -> np.ndarray:
        """[68, 2] float32 points in image pixels for the face at ``box`` (x1, y1, x2, y2) on RGB ``rgb``."""
        half = float(box[2] - box[0]) * _BOX_WIDEN / 2
        cx, cy = landmarks5.mean(0)
        rect = dlib.rectangle(int(cx - half), int(cy - half), int(cx + half), int(cy + half))
        shape = self._predictor(rgb, rect)
        return np.array([[p.x, p.y] for p in shape.parts()], np.float32)

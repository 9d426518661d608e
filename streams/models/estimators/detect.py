"""The one place estimators call the detectors: their results become the small types below, so a change
of the detectors' return type touches this module only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from infra.settings import InferenceSettings
from streams.models.detectors import FaceDetector, PersonDetector
from streams.models.face_hog import HogFaceDetector
from streams.models.faces import face_detector


@dataclass(frozen=True)
class FaceBox:
    """One face: ``box`` x1, y1, x2, y2 (image pixels); ``landmarks5`` [5, 2]: left eye, right eye, nose,
    left and right mouth corner (image left and right)."""

    box: np.ndarray
    score: float
    landmarks5: np.ndarray


@dataclass(frozen=True)
class BodyBox:
    """One person: ``box`` x1, y1, x2, y2 (image pixels)."""

    box: np.ndarray
    score: float


class Detectors:
    """Face and person detectors, each loaded on first use (an API that never detects bodies never loads NanoDet)."""

    def __init__(self, settings: InferenceSettings) -> None:
        self.settings = settings
        self._faces: FaceDetector | HogFaceDetector | None = None
        self._people: PersonDetector | None = None

    def faces(self, images: list[np.ndarray]) -> list[list[FaceBox]]:
        """Faces per BGR image, best first."""
        if self._faces is None:
            self._faces = face_detector(self.settings)
        found = self._faces.detect(images)
        return [[FaceBox(box.astype(np.float32), float(score), points.astype(np.float32))
                 for box, score, points in zip(f.xyxy, f.scores, f.data["landmarks"])] for f in found]

    def bodies(self, images: list[np.ndarray]) -> list[list[BodyBox]]:
        """People per BGR image, best first."""
        if self._people is None:
            self._people = PersonDetector(self.settings)
        return [[BodyBox(box.astype(np.float32), float(score)) for box, score in zip(f.xyxy, f.scores)]
                for f in self._people.detect(images)]

"""Loaded once for the estimator tests: the face detector and dlib's 68-point predictor."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from infra.settings import InferenceSettings
from streams.models.estimators.detect import Detectors, FaceBox
from streams.models.estimators.landmarks68 import Landmarks68

FACES = Path(__file__).resolve().parents[3] / "data" / "faces"


class FaceTools:
    def __init__(self) -> None:
        settings = InferenceSettings()
        self.detectors = Detectors(settings)
        self.landmarks = Landmarks68(settings)

    def largest_face(self, image: np.ndarray) -> FaceBox:
        faces = self.detectors.faces([image])[0]
        assert faces, "no face found"
        return max(faces, key=lambda f: float((f.box[2] - f.box[0]) * (f.box[3] - f.box[1])))

    def landmarks68(self, image: np.ndarray) -> np.ndarray:
        face = self.largest_face(image)
        return self.landmarks(np.ascontiguousarray(image[:, :, ::-1]), face.box, face.landmarks5)


@pytest.fixture(scope="session")
def tools() -> FaceTools:
    return FaceTools()


def read(name: str) -> np.ndarray:
    image = cv2.imread(str(FACES / name))
    assert image is not None, name
    return image

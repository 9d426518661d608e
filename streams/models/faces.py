"""The face detector the settings choose: SCRFD by default, dlib's HOG where the license matters."""

from __future__ import annotations

from infra.settings import InferenceSettings
from streams.models.detectors import FaceDetector
from streams.models.face_hog import HogFaceDetector


def face_detector(settings: InferenceSettings) -> FaceDetector | HogFaceDetector:
    if settings.face_detector == "dlib-hog":
        return HogFaceDetector(settings)
    return FaceDetector(settings)

"""dlib's HOG face detector, the license-clean choice, behind the same settings switch as SCRFD."""

from __future__ import annotations

from pathlib import Path

import cv2

from infra.settings import InferenceSettings
from streams.models.face_descriptor import FaceExtractor
from streams.models.faces import face_detector

FACES = Path(__file__).resolve().parents[2] / "data" / "faces"


def test_dlib_hog_is_the_license_clean_face_detector() -> None:
    settings = InferenceSettings(threads=1, face_detector="dlib-hog")
    detector = face_detector(settings)
    found = detector.detect([cv2.imread(str(FACES / "astronaut.jpg")), cv2.imread(str(FACES / "no_face_fruits.jpg"))])
    assert detector.name == "dlib-hog" and [len(f) for f in found] == [1, 0]
    face = found[0]
    assert 0.5 <= face.scores[0] < 1 and face.data["landmarks"].shape == (1, 5, 2)
    x1, y1, x2, y2 = face.xyxy[0]
    left_eye, right_eye, nose = face.data["landmarks"][0][:3]
    assert x1 < left_eye[0] < right_eye[0] < x2 and y1 < left_eye[1] < nose[1] < y2
    # The descriptor path takes the same choice: a face is still found and described.
    [sample] = FaceExtractor(settings).extract(cv2.imread(str(FACES / "astronaut.jpg")))
    assert sample.descriptor.shape == (128,)

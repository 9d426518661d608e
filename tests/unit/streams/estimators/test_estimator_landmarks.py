"""Eyes, mouth and warps from landmarks: synthetic geometry, and the hand labels of the test faces."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from streams.models.estimators.eyes import eye_aspect_ratio, eyes
from streams.models.estimators.mouth import mouth_opened
from streams.models.estimators.warp import (
    FACE_TEMPLATE,
    body_warp,
    face_warp,
    face_warp_transform,
)
from tests.unit.streams.estimators.conftest import FaceTools, read

LABELS = json.loads((Path(__file__).resolve().parents[3] / "data" / "estimators" / "labels.json").read_text())


def _eye(height: float) -> np.ndarray:
    """Six eye points, corner to corner, 30 px wide and ``height`` px open."""
    h = height / 2
    return np.array([[0, 0], [10, -h], [20, -h], [30, 0], [20, h], [10, h]], np.float32)


def test_eye_aspect_ratio() -> None:
    assert eye_aspect_ratio(_eye(9)) == pytest.approx(0.3)
    assert eye_aspect_ratio(_eye(3)) == pytest.approx(0.1)


def test_closed_eyes_and_open_mouth_on_synthetic_points() -> None:
    points = np.zeros((68, 2), np.float32)
    points[36:42], points[42:48] = _eye(3) + (100, 100), _eye(9) + (160, 100)
    found = eyes(points)
    assert (found.right, found.left) == ("closed", "open")
    points[48], points[54] = (100, 200), (160, 200)  # mouth 60 px wide
    for top, bottom in ((61, 67), (62, 66), (63, 65)):
        points[top], points[bottom] = (130, 195), (130, 195 + 9)  # inner lips 9 px apart: 0.15 of the width
    assert mouth_opened(points) == pytest.approx(0.5)
    points[[65, 66, 67], 1] = 195
    assert mouth_opened(points) == 0.0


@pytest.mark.parametrize("name", sorted(LABELS))
def test_hand_labelled_eyes_and_mouths(tools: FaceTools, name: str) -> None:
    points, label = tools.landmarks68(read(name)), LABELS[name]
    found = eyes(points)
    assert (found.left, found.right) == (label["eyes"], label["eyes"])
    assert (mouth_opened(points) > 0.1) == label["mouth_open"]


def test_face_warp_puts_the_landmarks_on_the_template(tools: FaceTools) -> None:
    image = read("astronaut.jpg")
    points = tools.largest_face(image).landmarks5
    matrix = face_warp_transform(points)
    mapped = points @ matrix[:, :2].T + matrix[:, 2]
    # The eyes land on the template; a smile's mouth corners sit wider and higher than the mean face.
    assert np.abs(mapped[:2] - FACE_TEMPLATE[:2]).max() < 6 and np.abs(mapped - FACE_TEMPLATE).max() < 12
    assert face_warp(image, points).shape == (250, 250, 3)


def test_body_warp_is_128_by_250() -> None:
    image = np.zeros((100, 100, 3), np.uint8)
    assert body_warp(image, np.array([-5, 10, 40, 130], np.float32)).shape == (250, 128, 3)

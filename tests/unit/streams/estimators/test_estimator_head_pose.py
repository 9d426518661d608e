"""Head pose: exact on synthetic projections of the 3D model, and measured on real faces rotated in
the image plane (roll known exactly), mirrored (yaw and roll change sign) and hand-labelled
(tests/data/estimators/README.md). The bounds are the measured errors plus a margin."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from streams.models.estimators import head_pose as hp
from tests.unit.streams.estimators.conftest import FaceTools, read

LABELS = json.loads((Path(__file__).resolve().parents[3] / "data" / "estimators" / "labels.json").read_text())
ROTATIONS = (-30, -20, -10, 10, 20, 30)
POSE_FACES = ("astronaut.jpg", "messi.jpg", "basketball.jpg", "megamind_frame12.jpg")


def _rotation(pitch: float, yaw: float, roll: float) -> np.ndarray:
    p, y, r = np.radians([pitch, yaw, roll])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return rz @ ry @ rx


def _projected(pitch: float, yaw: float, roll: float, size: int = 640) -> np.ndarray:
    """68 landmarks of which the six the estimator reads are the model's points seen at this pose."""
    model = hp._MODEL * np.array([1.0, -1.0, -1.0])
    rotation = _rotation(-(pitch - hp._PITCH_OFFSET), -yaw, roll)
    camera = model @ rotation.T + np.array([0.0, 0.0, 500.0])
    pixels = camera[:, :2] / camera[:, 2:] * size + size / 2
    points = np.zeros((68, 2), np.float32)
    points[hp._INDICES] = pixels
    return points


@pytest.mark.parametrize("pose", [(0, 0, 0), (10, -25, 5), (-15, 30, -20), (20, 10, 30), (-5, -40, 0)])
def test_recovers_a_synthetic_pose(pose: tuple[float, float, float]) -> None:
    found = hp.head_pose(_projected(*pose), (640, 640))
    assert (found.pitch, found.yaw, found.roll) == pytest.approx(pose, abs=0.5)


def _pose(tools: FaceTools, image: np.ndarray) -> hp.HeadPose:
    return hp.head_pose(tools.landmarks68(image), (image.shape[1], image.shape[0]))


def roll_errors(tools: FaceTools) -> list[float]:
    """|measured roll change - rotation| for each face turned in the image plane (roll known exactly)."""
    errors = []
    for name in POSE_FACES:
        image = read(name)
        h, w = image.shape[:2]
        base = _pose(tools, image).roll
        for angle in ROTATIONS:  # OpenCV turns counter-clockwise for a positive angle: roll goes down
            turned = cv2.warpAffine(image, cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0), (w, h),
                                    borderMode=cv2.BORDER_REPLICATE)
            errors.append(abs(_pose(tools, turned).roll - (base - angle)))
    return errors


def test_roll_error_on_rotated_faces(tools: FaceTools) -> None:
    errors = roll_errors(tools)
    assert len(errors) == len(POSE_FACES) * len(ROTATIONS)
    # Measured: mean 2.7, median 1.3 degrees; the worst, 20.5, is Messi's small face turned 30 degrees.
    assert np.mean(errors) < 3.5 and np.median(errors) < 2.0, errors


def test_mirrored_faces_turn_the_other_way(tools: FaceTools) -> None:
    for name in POSE_FACES:
        image = read(name)
        pose, mirrored = _pose(tools, image), _pose(tools, cv2.flip(image, 1))
        assert abs(pose.yaw + mirrored.yaw) < 6.0 and abs(pose.roll + mirrored.roll) < 4.0, (name, pose, mirrored)
        assert abs(pose.pitch - mirrored.pitch) < 6.0, (name, pose, mirrored)


@pytest.mark.parametrize("name", sorted(LABELS))
def test_hand_labelled_poses(tools: FaceTools, name: str) -> None:
    pose, label = _pose(tools, read(name)), LABELS[name]["head_pose"]
    for angle, (low, high) in label.items():
        assert low <= getattr(pose, angle) <= high, (name, angle, pose)

"""Head pose (pitch, roll, yaw in degrees) from the 68 landmarks: solvePnP against a mean 3D face.

The 3D points are a generic adult face (mm, nose tip at the origin, x to the subject's left, y up, z
towards the camera) at six stable landmarks; the camera is a pinhole with focal length the image's
larger side and no distortion. Signs follow LUNA: yaw > 0 when the subject turns to his left (the
image's right), pitch > 0 when the head tilts up, roll > 0 when it tilts clockwise in the image.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# iBUG indices: nose tip, chin, left eye outer corner (image left), right eye outer corner, mouth corners.
_INDICES = [30, 8, 36, 45, 48, 54]
_MODEL = np.array([
    (0.0, 0.0, 0.0),
    (0.0, -63.6, -12.5),
    (-43.3, 32.7, -26.0),
    (43.3, 32.7, -26.0),
    (-28.9, -28.9, -24.1),
    (28.9, -28.9, -24.1),
], np.float64)
# The generic model reads a frontal face about 9 degrees looking down (its nose and chin sit too far
# back): the mean pitch of the hand-labelled frontal faces in tests/data/estimators/, taken off here.
_PITCH_OFFSET = 9.0


@dataclass(frozen=True)
class HeadPose:
    pitch: float
    roll: float
    yaw: float


def head_pose(landmarks68: np.ndarray, image_size: tuple[int, int]) -> HeadPose:
    """The pose of a face with ``landmarks68`` [68, 2] on an image of ``image_size`` (width, height)."""
    width, height = image_size
    focal = float(max(width, height))
    camera = np.array([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1]], np.float64)
    # The model's y is up and the image's down: flip the model so that solvePnP sees a right-handed pair.
    model = _MODEL * np.array([1.0, -1.0, -1.0])
    points = landmarks68[_INDICES].astype(np.float64)
    # Start from a frontal face at the distance its eye span implies: from no guess the solver can settle
    # on the mirror solution (the face seen from behind, roll near 180).
    span = float(np.linalg.norm(points[3] - points[2]))
    distance = focal * float(_MODEL[3, 0] - _MODEL[2, 0]) / max(span, 1.0)
    centre = points[0]
    rvec = np.zeros((3, 1))
    tvec = np.array([[(centre[0] - width / 2) * distance / focal], [(centre[1] - height / 2) * distance / focal],
                     [distance]])
    ok, rvec, _ = cv2.solvePnP(model, points, camera, None, rvec, tvec, useExtrinsicGuess=True,
                               flags=cv2.SOLVEPNP_ITERATIVE)
    if not ok:
        raise ValueError("solvePnP found no pose")
    rotation, _ = cv2.Rodrigues(rvec)
    # Euler angles of R = Rz(roll) Ry(yaw) Rx(pitch), camera axes (x right, y down, z forward).
    yaw = np.degrees(np.arcsin(-np.clip(rotation[2, 0], -1.0, 1.0)))
    pitch = np.degrees(np.arctan2(rotation[2, 1], rotation[2, 2]))
    roll = np.degrees(np.arctan2(rotation[1, 0], rotation[0, 0]))
    return HeadPose(pitch=float(-pitch) + _PITCH_OFFSET, roll=float(roll), yaw=float(-yaw))

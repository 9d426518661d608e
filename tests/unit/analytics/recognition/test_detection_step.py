"""The pure parts of the detection step: what a policy asks the engine for, multiface_policy, pose
filters, box regions and the mapping of crop coordinates back to the image."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.recognition.detection import DetectPolicy, _by_policy, _exceeded, _iou, _region, _shifted
from schemas.errors import MULTIPLE_FACES, SeleneError
from schemas.sdk import Rect
from streams.models.estimators.detect import FaceBox
from streams.models.estimators.engine import FaceEstimation
from streams.models.estimators.head_pose import HeadPose


def test_a_policy_asks_for_warps_and_the_head_pose_its_filter_needs() -> None:
    plain = DetectPolicy().wanted()
    assert plain.estimators == {"face_warp"} and plain.detect_face and not plain.detect_body
    filtered = DetectPolicy(max_angles=(180, 180, 20), detect_body=True).wanted()
    assert filtered.estimators == {"face_warp", "head_pose", "body_warp"} and filtered.detect_body
    # The head pose a filter needs is not shown unless asked for; landmarks5 always are (not on warps).
    assert DetectPolicy(max_angles=(10, 180, 180)).shown() == {"landmarks5"}
    assert DetectPolicy(image_type=1, estimators=frozenset({"quality"})).shown() == {"quality"}
    assert not DetectPolicy(image_type=2).wanted().faces


def test_multiface_policy() -> None:
    sizes = [3.0, 9.0, 5.0]
    assert _by_policy(sizes, 1, "a.jpg", MULTIPLE_FACES, lambda s: s) == sizes
    assert _by_policy(sizes, 2, "a.jpg", MULTIPLE_FACES, lambda s: s) == [9.0]
    assert _by_policy([4.0], 0, "a.jpg", MULTIPLE_FACES, lambda s: s) == [4.0]
    with pytest.raises(SeleneError) as refused:
        _by_policy(sizes, 0, "a.jpg", MULTIPLE_FACES, lambda s: s)
    assert refused.value.body.error_code == 11038 and "a.jpg" in refused.value.body.detail


def _face(x1: float, y1: float, x2: float, y2: float, pose: HeadPose | None = None) -> FaceEstimation:
    points = np.array([[x1 + 1, y1 + 1]] * 5, np.float32)
    return FaceEstimation(FaceBox(np.array([x1, y1, x2, y2], np.float32), 0.9, points), head_pose=pose,
                          landmarks68=np.zeros((68, 2), np.float32))


def test_pose_filter_names_each_threshold_exceeded() -> None:
    face = _face(0, 0, 10, 10, HeadPose(pitch=-25.0, roll=3.0, yaw=40.0))
    assert _exceeded(face, (20, 180, 30)) == ["pitch_threshold", "yaw_threshold"]
    assert _exceeded(face, (25, 3, 40)) == []  # the threshold itself is kept


def test_box_regions_and_coordinates() -> None:
    assert _region(Rect(x=100, y=100, width=40, height=60), 640, 480) == ((80, 70, 160, 190), Rect(x=100, y=100, width=40, height=60))
    assert _region(Rect(x=-10, y=-10, width=40, height=40), 640, 480)[0] == (0, 0, 50, 50)  # type: ignore[index]
    assert _region(Rect(x=700, y=10, width=40, height=40), 640, 480) is None  # wholly outside
    a, b = np.array([0, 0, 10, 10.0]), np.array([5, 0, 15, 10.0])
    assert _iou(a, a) == 1 and _iou(a, b) == pytest.approx(50 / 150) and _iou(a, np.array([20, 20, 30, 30.0])) == 0
    moved = _shifted(_face(1, 2, 11, 12), 100, 50)
    assert moved.face.box.tolist() == [101, 52, 111, 62] and moved.face.landmarks5[0].tolist() == [102, 53]
    assert moved.landmarks68 is not None and moved.landmarks68[0].tolist() == [100, 50]

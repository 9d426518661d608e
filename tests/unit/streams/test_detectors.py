"""The detectors on real frames (vtest, Megamind), the registry's checksum guard and backend choice."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from infra.settings import InferenceSettings
from streams.models.detectors import FaceDetector, PersonDetector
from streams.models.registry import REGISTRY, ModelError, load, model_path
from streams.models.runtime import choose_backend

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def persons() -> PersonDetector:
    return PersonDetector(InferenceSettings(threads=1))


def test_people_on_vtest_frame_with_plausible_boxes(persons: PersonDetector) -> None:
    image = cv2.imread(str(DATA / "vtest_0000.jpg"))
    [found] = persons.detect([image])
    # Three people walk on this frame (checked by eye): feet on the road, upright boxes.
    assert len(found) == 3
    xs = sorted(int((b[0] + b[2]) / 2) for b in found.boxes)
    assert [abs(x - e) < 15 for x, e in zip(xs, (267, 515, 661))] == [True] * 3
    heights, widths = found.boxes[:, 3] - found.boxes[:, 1], found.boxes[:, 2] - found.boxes[:, 0]
    assert ((heights > 60) & (heights < 120) & (heights > 1.8 * widths)).all()
    assert (found.scores >= 0.5).all()


def test_batch_equals_single_frames_and_threshold_applies(persons: PersonDetector) -> None:
    images = [cv2.imread(str(DATA / f"vtest_{n:04d}.jpg")) for n in (0, 320, 640)]
    batched = persons.detect(images)
    singles = [persons.detect([image])[0] for image in images]
    assert [len(f) for f in batched] == [len(f) for f in singles]
    assert all(np.allclose(b.boxes, s.boxes, atol=0.5) for b, s in zip(batched, singles))
    assert sum(len(f) for f in persons.detect(images, threshold=0.3)) > sum(len(f) for f in batched)
    assert persons.detect([np.zeros((240, 320, 3), np.uint8)])[0].boxes.shape == (0, 4)


def test_faces_with_five_landmarks_inside_the_box() -> None:
    faces = FaceDetector(InferenceSettings(threads=1))
    [found] = faces.detect([cv2.imread(str(DATA / "megamind_0050.jpg"))])
    assert len(found) >= 1 and found.landmarks.shape == (len(found), 5, 2)
    x1, y1, x2, y2 = found.boxes[0]
    assert 40 < x2 - x1 < 300
    points = found.landmarks[0]
    assert ((points[:, 0] > x1) & (points[:, 0] < x2) & (points[:, 1] > y1) & (points[:, 1] < y2)).all()
    assert points[0, 0] < points[1, 0]  # left eye left of right eye
    assert not len(faces.detect([cv2.imread(str(DATA / "vtest_0400.jpg"))])[0]) > 3


def test_registry_refuses_a_file_with_another_checksum(tmp_path: Path) -> None:
    settings = InferenceSettings(models_dir=tmp_path)
    with pytest.raises(ModelError, match="missing"):
        load("nanodet-m", settings)
    shutil.copy(model_path(REGISTRY["mobilenetv2-bottleneck"]), tmp_path / "nanodet.onnx")
    with pytest.raises(ModelError, match="sha256"):
        load("nanodet-m", settings)
    assert not REGISTRY["scrfd"].commercial_use and "non-commercial" in REGISTRY["scrfd"].license


def test_backend_choice_falls_back_to_cpu() -> None:
    gpu = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
    assert choose_backend("auto", gpu) == "tensorrt"
    assert choose_backend("auto", gpu[1:]) == "cuda"
    assert choose_backend("auto", ["CPUExecutionProvider"]) == "cpu"
    assert choose_backend("cuda", ["CPUExecutionProvider"]) == "cpu"

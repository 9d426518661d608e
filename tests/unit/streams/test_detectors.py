"""The detectors on real frames (vtest, Megamind), the registry's checksum guard and backend choice."""

from __future__ import annotations

import json
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
    xs = sorted(int((b[0] + b[2]) / 2) for b in found.xyxy)
    assert [abs(x - e) < 15 for x, e in zip(xs, (267, 515, 661))] == [True] * 3
    heights, widths = found.xyxy[:, 3] - found.xyxy[:, 1], found.xyxy[:, 2] - found.xyxy[:, 0]
    assert ((heights > 60) & (heights < 120) & (heights > 1.8 * widths)).all()
    assert (found.scores >= 0.5).all()


def test_batch_equals_single_frames_and_threshold_applies(persons: PersonDetector) -> None:
    images = [cv2.imread(str(DATA / f"vtest_{n:04d}.jpg")) for n in (0, 320, 640)]
    batched = persons.detect(images)
    singles = [persons.detect([image])[0] for image in images]
    assert [len(f) for f in batched] == [len(f) for f in singles]
    assert all(np.allclose(b.xyxy, s.xyxy, atol=0.5) for b, s in zip(batched, singles))
    assert sum(len(f) for f in persons.detect(images, threshold=0.3)) > sum(len(f) for f in batched)
    assert persons.detect([np.zeros((240, 320, 3), np.uint8)])[0].xyxy.shape == (0, 4)


def test_two_square_tiles_find_the_small_people_the_squeezed_frame_misses() -> None:
    """Frames where the whole frame squeezed into 416x416 misses people (distant, behind the sign)."""
    labels = json.loads((DATA / "vtest_people_labels.json").read_text())["counts"]
    tiled = PersonDetector(InferenceSettings(threads=1))  # default: person_tiles=2
    whole = PersonDetector(InferenceSettings(threads=1, person_tiles=1))
    assert tiled.tiles((576, 768)) == [(0, 0, 576, 576), (192, 0, 768, 576)]
    assert tiled.tiles((768, 576)) == [(0, 0, 576, 576), (0, 192, 576, 768)]
    assert len(tiled.tiles((360, 1280))) == 4 and whole.tiles((576, 768)) == [(0, 0, 768, 576)]
    frames = (40, 80, 560, 160, 400)
    images = [cv2.imread(str(DATA / f"vtest_{n:04d}.jpg")) for n in frames]
    tiled_counts = [len(f) for f in tiled.detect(images)]
    whole_counts = [len(f) for f in whole.detect(images)]
    assert all(abs(c - labels[str(n)]) <= 1 for c, n in zip(tiled_counts, frames))
    tiled_error = sum(abs(c - labels[str(n)]) for c, n in zip(tiled_counts, frames))
    whole_error = sum(abs(c - labels[str(n)]) for c, n in zip(whole_counts, frames))
    assert tiled_error <= whole_error - 2
    # No person is counted twice where the tiles overlap (x 192-576): boxes there do not overlap much.
    for found in tiled.detect(images):
        b = found.xyxy
        for i in range(len(b)):
            for j in range(i + 1, len(b)):
                iw = max(0.0, min(b[i, 2], b[j, 2]) - max(b[i, 0], b[j, 0]))
                ih = max(0.0, min(b[i, 3], b[j, 3]) - max(b[i, 1], b[j, 1]))
                smaller = min((b[k, 2] - b[k, 0]) * (b[k, 3] - b[k, 1]) for k in (i, j))
                assert iw * ih < 0.8 * smaller


def test_faces_with_five_landmarks_inside_the_box() -> None:
    faces = FaceDetector(InferenceSettings(threads=1))
    [found] = faces.detect([cv2.imread(str(DATA / "megamind_0050.jpg"))])
    assert len(found) >= 1 and found.data["landmarks"].shape == (len(found), 5, 2)
    x1, y1, x2, y2 = found.xyxy[0]
    assert 40 < x2 - x1 < 300
    points = found.data["landmarks"][0]
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

"""The estimator registry and the engine that runs it."""

from __future__ import annotations

import numpy as np
import pytest

from schemas.errors import SeleneError
from streams.models.estimators.engine import EstimatorEngine, Wanted
from streams.models.estimators.registry import BY_FLAG, ESTIMATORS, require
from streams.models.registry import REGISTRY
from tests.unit.streams.estimators.conftest import read

UNAVAILABLE = {"basic_attributes", "emotions", "mask", "face_occlusion", "glasses", "gaze", "liveness", "deepfake",
               "body_attributes", "exif"}


def test_every_estimator_names_real_models_and_a_reason_when_unavailable() -> None:
    assert {n for n, s in ESTIMATORS.items() if not s.available} == UNAVAILABLE
    for spec in ESTIMATORS.values():
        assert all(m in REGISTRY for m in spec.models), spec.name
        assert spec.available or (spec.reason and not spec.models), spec.name
        assert spec.model and spec.license and spec.output
    assert sum(len(s.flags) for s in ESTIMATORS.values()) == len(BY_FLAG)  # a flag names one estimator
    assert BY_FLAG["estimate_head_pose"].name == "head_pose"
    assert "non-commercial" not in ESTIMATORS["quality"].license and not ESTIMATORS["head_pose"].commercial_use


def test_an_unavailable_estimator_is_refused_with_200005() -> None:
    require({"head_pose", "quality"})
    with pytest.raises(SeleneError) as raised:
        require({"head_pose", "basic_attributes"})
    assert raised.value.body.error_code == 200005 and "basic_attributes" in raised.value.body.detail


@pytest.fixture(scope="module")
def engine() -> EstimatorEngine:
    return EstimatorEngine()


def test_the_engine_runs_what_is_asked_on_a_batch(engine: EstimatorEngine) -> None:
    wanted = Wanted(frozenset({"head_pose", "quality", "eyes", "mouth_attributes", "face_warp", "face_descriptor",
                               "image_color_type", "people_count", "body_descriptor"}))
    astronaut, fruit = read("astronaut.jpg"), read("no_face_fruits.jpg")
    first, second = engine.run([astronaut, fruit], wanted)
    [face] = first.faces
    assert face.head_pose is not None and abs(face.head_pose.yaw) < 10
    assert face.quality is not None and face.eyes is not None and face.mouth_opened is not None
    assert face.warp is not None and face.warp.shape == (250, 250, 3) and face.color_type == "color"
    assert face.descriptor is not None and face.descriptor.shape == (128,)
    assert face.landmarks68 is None  # not asked for
    assert first.people is not None and len(first.people) == len(first.bodies) >= 1
    assert all(b.descriptor is not None and b.descriptor.shape == (1280,) for b in first.bodies)
    assert second.faces == [] and second.people == []


def test_a_face_warp_needs_no_detection(engine: EstimatorEngine) -> None:
    image = np.full((250, 250, 3), 128, np.uint8)
    [result] = engine.run([image], Wanted(frozenset({"quality"}), image_type=1))
    [face] = result.faces
    assert face.quality is not None and face.quality.dark == 1.0 and face.quality.blurriness == 0.0

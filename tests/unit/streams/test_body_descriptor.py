"""Body descriptors on person crops of a real frame: unit vectors, robust to a light augmentation."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from infra.settings import InferenceSettings
from schemas.descriptors import BODY_MOBILENETV2_1280, DESCRIPTOR_VERSIONS
from streams.models.body_descriptor import BodyExtractor

DATA = Path(__file__).resolve().parents[2] / "data"
# NanoDet's three people on vtest_0000.jpg (score 0.5), x1, y1, x2, y2.
PEOPLE = ((499, 158, 530, 234), (640, 239, 685, 324), (251, 220, 283, 309))


@pytest.fixture(scope="module")
def extractor() -> BodyExtractor:
    return BodyExtractor(InferenceSettings(threads=1))


@pytest.fixture(scope="module")
def crops() -> list[np.ndarray]:
    image = cv2.imread(str(DATA / "vtest_0000.jpg"))
    return [image[y1:y2, x1:x2] for x1, y1, x2, y2 in PEOPLE]


def test_unit_vectors_of_the_declared_version(extractor: BodyExtractor, crops: list[np.ndarray]) -> None:
    vectors = extractor.describe(crops)
    assert vectors.shape == (3, 1280) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert extractor.descriptor_version == BODY_MOBILENETV2_1280 and not extractor.trained_for_reid
    assert DESCRIPTOR_VERSIONS[BODY_MOBILENETV2_1280].dimensions == 1280
    assert extractor.describe([]).shape == (0, 1280)


def test_batch_equals_one_by_one(extractor: BodyExtractor, crops: list[np.ndarray]) -> None:
    batched = extractor.describe(crops)
    assert np.allclose(batched, np.vstack([extractor.describe([c]) for c in crops]), atol=1e-4)


def test_crop_is_closer_to_its_augmentation_than_to_another_person(extractor: BodyExtractor,
                                                                   crops: list[np.ndarray]) -> None:
    augmented = cv2.convertScaleAbs(cv2.flip(cv2.resize(crops[0], None, fx=1.5, fy=1.5), 1), alpha=1.0, beta=25)
    first, second, third, aug = extractor.describe([*crops, augmented])
    # Cosine similarity, measured: 0.94 to its augmentation, 0.75 and 0.72 to the others.
    assert first @ aug > max(first @ second, first @ third) + 0.1

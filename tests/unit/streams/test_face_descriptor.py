"""Face descriptors on real images: the same face stays within dlib's 0.6, different people beyond it.

Images and their provenance: tests/data/faces/README.md.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from infra.settings import InferenceSettings
from schemas.descriptors import DESCRIPTOR_VERSIONS, FACE_DLIB_RESNET_128
from streams.models.face_descriptor import FaceExtractor, FaceSample
from streams.models.registry import REGISTRY, verify

FACES = Path(__file__).resolve().parents[2] / "data" / "faces"
SAME_PERSON = 0.6  # dlib's usual Euclidean threshold


def read(name: str) -> np.ndarray:
    return cv2.imread(str(FACES / f"{name}.jpg"))


def distance(a: FaceSample, b: FaceSample) -> float:
    return float(np.linalg.norm(a.descriptor - b.descriptor))


@pytest.fixture(scope="module")
def extractor() -> FaceExtractor:
    return FaceExtractor(InferenceSettings(threads=1))


@pytest.fixture(scope="module")
def people(extractor: FaceExtractor) -> dict[str, FaceSample]:
    """One face per person; on the Megamind frame Roxanne is the larger face (a man sits behind her)."""
    roxanne = max(extractor.extract(read("megamind_frame12")), key=lambda s: s.box[2] - s.box[0])
    return {"roxanne": roxanne} | {name: extractor.extract(read(name))[0]
                                   for name in ("astronaut", "messi", "basketball")}


def test_samples_are_typed_versioned_and_best_first(extractor: FaceExtractor) -> None:
    image = read("megamind_frame12")
    faces = extractor.extract(image)
    assert len(faces) == 2 and faces[0].score >= faces[1].score >= extractor.settings.face_score_threshold
    assert extractor.descriptor_version == FACE_DLIB_RESNET_128
    assert DESCRIPTOR_VERSIONS[FACE_DLIB_RESNET_128].dimensions == 128
    h, w = image.shape[:2]
    for face in faces:
        assert face.descriptor.shape == (128,) and face.descriptor.dtype == np.float32
        assert face.landmarks.shape == (5, 2)
        x1, y1, x2, y2 = face.box
        assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h


def test_same_face_in_a_later_shot(extractor: FaceExtractor, people: dict[str, FaceSample]) -> None:
    later = extractor.describe_crop(read("megamind_later"))  # frame 156, another camera shot
    assert later is not None
    assert distance(people["roxanne"], later) < SAME_PERSON  # measured 0.44


def test_same_face_scaled_flipped_brightened_recompressed(extractor: FaceExtractor,
                                                          people: dict[str, FaceSample]) -> None:
    image = cv2.flip(cv2.resize(read("astronaut"), None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA), 1)
    image = cv2.convertScaleAbs(image, alpha=1.0, beta=40)
    image = cv2.imdecode(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 40])[1], cv2.IMREAD_COLOR)
    [augmented] = extractor.extract(image)
    assert distance(people["astronaut"], augmented) < SAME_PERSON  # measured 0.26


def test_different_people_stay_apart(people: dict[str, FaceSample]) -> None:
    # Measured 0.70 (Roxanne, astronaut) to 0.93 (Roxanne, Messi).
    for (a, fa), (b, fb) in itertools.combinations(people.items(), 2):
        assert distance(fa, fb) > SAME_PERSON, (a, b)


def test_no_face_gives_nothing(extractor: FaceExtractor) -> None:
    assert extractor.extract(read("no_face_fruits")) == []
    assert extractor.extract(np.zeros((240, 320, 3), np.uint8)) == []
    assert extractor.describe_crop(read("no_face_fruits")) is None


def test_describe_crop_on_a_small_tight_crop(extractor: FaceExtractor, people: dict[str, FaceSample]) -> None:
    image = read("astronaut")
    x1, y1, x2, y2 = (int(v) for v in people["astronaut"].box)
    crop = cv2.resize(image[y1:y2, x1:x2], None, fx=0.7, fy=0.7, interpolation=cv2.INTER_AREA)  # 63x85 px
    face = extractor.describe_crop(crop)
    assert face is not None
    assert distance(people["astronaut"], face) < SAME_PERSON  # measured 0.15
    # Box and landmarks come back in the crop's own pixels.
    h, w = crop.shape[:2]
    bx1, by1, bx2, by2 = face.box
    assert -3 < bx1 < bx2 < w + 3 and -3 < by1 < by2 < h + 3
    assert ((face.landmarks >= 0) & (face.landmarks <= [w, h])).all()


def test_dlib_files_are_checked_in_their_package_without_importing_it() -> None:
    for name in ("dlib-shape-predictor-5", "dlib-resnet-v1"):
        path = verify(REGISTRY[name])  # checksum checked
        assert path.parent.parent.name == "face_recognition_models"
    assert "face_recognition_models" not in sys.modules  # its import needs pkg_resources

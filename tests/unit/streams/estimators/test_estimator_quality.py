"""Image quality: each measure falls monotonically as one image is blurred, darkened or over-exposed,
and the sharp, evenly lit original passes LUNA's ISO thresholds."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from streams.models.estimators.color_type import face_color_type
from streams.models.estimators.quality import quality
from streams.models.estimators.warp import face_warp
from tests.unit.streams.estimators.conftest import FaceTools, read


@pytest.fixture(scope="module")
def astronaut(tools: FaceTools) -> tuple[np.ndarray, np.ndarray]:
    image = read("astronaut.jpg")
    return image, tools.largest_face(image).landmarks5


def _series(image: np.ndarray, points: np.ndarray, edit, steps, measure: str) -> list[float]:
    return [getattr(quality(face_warp(edit(image, s), points)), measure) for s in steps]


def _strictly_falling(values: list[float]) -> bool:
    return all(a > b for a, b in itertools.pairwise(values))


def test_the_original_passes_iso_thresholds(astronaut: tuple[np.ndarray, np.ndarray]) -> None:
    q = quality(face_warp(*astronaut))
    assert q.dark >= 0.5 and q.light >= 0.57 and q.blurriness >= 0.61 and q.illumination >= 0.3
    assert q.specularity >= 0.3


def test_blurriness_falls_with_blur(astronaut: tuple[np.ndarray, np.ndarray]) -> None:
    blur = lambda image, sigma: cv2.GaussianBlur(image, (0, 0), sigma) if sigma else image
    values = _series(*astronaut, blur, (0, 0.7, 1.2, 2.0, 3.0), "blurriness")
    assert _strictly_falling(values) and values[-1] < 0.2, values


def test_dark_falls_as_the_image_darkens(astronaut: tuple[np.ndarray, np.ndarray]) -> None:
    darken = lambda image, f: (image * f).astype(np.uint8)
    values = _series(*astronaut, darken, (1.0, 0.45, 0.35, 0.25, 0.15), "dark")
    assert _strictly_falling(values[:-1]) and values[-1] <= values[-2] and values[-1] < 0.1, values


def test_light_and_specularity_fall_as_the_image_is_over_exposed(astronaut: tuple[np.ndarray, np.ndarray]) -> None:
    expose = lambda image, f: np.clip(image.astype(np.float32) * f, 0, 255).astype(np.uint8)
    steps = (1.0, 1.05, 1.1, 1.15, 1.2, 1.5)  # a light face saturates at 1.3x
    light = _series(*astronaut, expose, steps, "light")
    specular = _series(*astronaut, expose, steps, "specularity")
    assert _strictly_falling(light[:-1]) and light[-1] < 0.1, light
    assert specular[0] > 0.9 and specular[-1] < 0.1 and _strictly_falling(specular[:5]), specular


def test_illumination_falls_with_a_one_sided_shadow(astronaut: tuple[np.ndarray, np.ndarray]) -> None:
    def shade(image: np.ndarray, f: float) -> np.ndarray:
        warp = image.astype(np.float32)
        warp[:, image.shape[1] // 2 :] *= f  # the right half, already the darker one
        return warp.astype(np.uint8)

    image, points = astronaut
    values = [quality(shade(face_warp(image, points), f)).illumination for f in (1.0, 0.8, 0.6, 0.4)]
    assert _strictly_falling(values) and values[-1] < 0.5, values


def test_color_type(tools: FaceTools) -> None:
    colour = read("astronaut.jpg")
    grey = cv2.cvtColor(cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    for image, expected in ((colour, "color"), (grey, "grayscale"), (read("basketball.jpg"), "grayscale")):
        assert face_color_type(face_warp(image, tools.largest_face(image).landmarks5)) == expected

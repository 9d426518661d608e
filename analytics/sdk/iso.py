"""LUNA's ISO/IEC 19794-5 checks (``/6/iso``), in the order and with the thresholds of LUNA's own
example. A check is computed when an available estimator supports it; the others are listed with
``estimated`` false and no result, so that they can never pass."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from schemas.sdk import Iso, IsoCheck
from streams.models.estimators.engine import FaceEstimation

Threshold = dict[str, float | None] | list[str] | int


@dataclass(frozen=True)
class Measured:
    """What the checks read: the face's estimations and the image around it (None for a face warp)."""

    face: FaceEstimation
    image_size: tuple[int, int] | None  # width, height of a raw image
    image_format: str | None


def _range(low: float | None, high: float | None) -> dict[str, float | None]:
    return {"min": low, "max": high}


def _box_share(m: Measured, axis: int, centre: bool) -> float | None:
    if m.image_size is None:
        return None
    box, size = m.face.face.box, m.image_size[axis]
    start, end = float(box[axis]), float(box[axis + 2])
    return ((start + end) / 2 if centre else end - start) / size


def _eye_distance(m: Measured) -> float | None:
    if m.image_size is None:
        return None
    return float(np.linalg.norm(m.face.face.landmarks5[1] - m.face.face.landmarks5[0]))


def _quality(measure: str) -> Callable[[Measured], float | None]:
    return lambda m: getattr(m.face.quality, measure) if m.face.quality is not None else None


def _pose(angle: str) -> Callable[[Measured], float | None]:
    # A warp is aligned (its roll taken away, its landmarks the template's): no pose is read from it.
    return lambda m: getattr(m.face.head_pose, angle) if m.face.head_pose is not None and m.image_size else None


def _eye(side: str) -> Callable[[Measured], str | None]:
    return lambda m: getattr(m.face.eyes, side) if m.face.eyes is not None else None


# name, threshold, how Selene measures it (None: not estimated)
CHECKS: tuple[tuple[str, Threshold, Callable[[Measured], Any] | None], ...] = (
    ("image_format", ["JPEG", "JPEG2000", "PNG"], lambda m: m.image_format),
    ("illumination_quality", _range(0.3, 1), _quality("illumination")),
    ("specularity_quality", _range(0.3, 1), _quality("specularity")),
    ("blurriness_quality", _range(0.61, 1), _quality("blurriness")),
    ("dark_quality", _range(0.5, 1), _quality("dark")),
    ("light_quality", _range(0.57, 1), _quality("light")),
    ("head_yaw", _range(-5.0, 5.0), _pose("yaw")),
    ("head_pitch", _range(-5.0, 5.0), _pose("pitch")),
    ("head_roll", _range(-8.0, 8.0), _pose("roll")),
    ("gaze_yaw", _range(-5.0, 5.0), None),
    ("gaze_pitch", _range(-5.0, 5.0), None),
    ("mouth_smiling", _range(0, 0.5), None),
    ("mouth_occluded", _range(0, 0.5), None),
    ("mouth_open", _range(0, 0.5), lambda m: m.face.mouth_opened),
    ("glasses", ["no_glasses", "eyeglasses"], None),
    ("left_eye", ["open"], _eye("left")),
    ("right_eye", ["open"], _eye("right")),
    ("head_horizontal_center", _range(0.45, 0.55), lambda m: _box_share(m, 0, centre=True)),
    ("head_vertical_center", _range(0.3, 0.5), lambda m: _box_share(m, 1, centre=True)),
    # The face box is smaller than the head (no hair, no ears): sizes from it would always read low.
    ("head_width", _range(0.5, 0.75), None),
    ("head_height", _range(0.6, 0.9), None),
    ("eye_distance", _range(90.0, None), _eye_distance),
    ("eyebrows_state", ["neutral"], None),
    ("shoulders_position", ["parallel"], None),
    ("smile_properties", ["none"], None),
    ("headwear_type", ["none"], None),
    ("natural_light", 1, None),
    ("radial_distortion", 0, None),
    ("red_eyes", 0, None),
    ("face_color_type", ["grayscale", "color"], lambda m: m.face.color_type),
    ("background_uniformity", _range(0.5, 1), None),
    ("background_lightness", _range(0.2, 1), None),
)
ESTIMATORS = frozenset({"quality", "head_pose", "eyes", "mouth_attributes", "image_color_type"})


def passes(value: Any, threshold: Threshold) -> bool:
    if isinstance(threshold, dict):
        low, high = threshold["min"], threshold["max"]
        return (low is None or value >= low) and (high is None or value <= high)
    if isinstance(threshold, list):
        return value in threshold
    return value == threshold


def iso(measured: Measured) -> Iso:
    checks = []
    for name, threshold, measure in CHECKS:
        value = measure(measured) if measure is not None else None
        if value is None:
            checks.append(IsoCheck(name=name, result=None, threshold_value=threshold, estimated=False))
        else:
            value = round(value, 4) if isinstance(value, float) else value
            checks.append(IsoCheck(name=name, object_value=value, result=int(passes(value, threshold)),
                                   threshold_value=threshold))
    return Iso(status=int(all(c.result == 1 for c in checks)), checks=checks)

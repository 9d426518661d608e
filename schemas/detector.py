"""``POST /6/detector`` (LUNA's "detect faces"): per image the stored samples with their detections, and
the detections the head-pose thresholds filtered out. Estimations not asked for are left out."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from schemas.base import Body
from schemas.errors import ErrorBody
from schemas.sdk import BodyDetection, FaceDetection


class FaceSample(Body):
    """A stored face sample (the 250x250 warp) and the detection it was cut from."""

    detection: FaceDetection
    sample_id: UUID
    url: str = Field(description="/6/samples/faces/{sample_id}")


class BodySample(Body):
    """A stored body sample (the 128x250 warp) and the detection it was cut from."""

    detection: BodyDetection
    sample_id: UUID
    url: str = Field(description="/6/samples/bodies/{sample_id}")


class SampleDetection(Body):
    """One person: the face, the body, or both."""

    face: FaceSample | None = None
    body: BodySample | None = None


class FilteredFace(Body):
    """A face left out, with why: the names of the thresholds it exceeded (``yaw_threshold``...)."""

    detection: FaceDetection
    filter_reasons: list[str]


class FilteredDetections(Body):
    """The detections a filter left out; no sample is stored for them."""

    face_detections: list[FilteredFace] = Field(default_factory=list)


class ImageDetections(Body):
    """``samples``: every kept detection with its stored sample."""

    samples: list[SampleDetection] = Field(default_factory=list)
    filtered_detections: FilteredDetections = Field(default_factory=FilteredDetections)


class DetectorImage(Body):
    """One input image; a broken one (or one with several faces under ``multiface_policy`` 0) has
    ``status`` 0 and its ``error``, and the other images go on."""

    filename: str
    status: Literal[0, 1]
    error: ErrorBody
    detections: ImageDetections = Field(default_factory=ImageDetections)
    exif: dict[str, Any] = Field(default_factory=dict)


class DetectorResponse(Body):
    """``POST /6/detector``: one entry per input image, in the request's order (HTTP 201)."""

    images: list[DetectorImage]

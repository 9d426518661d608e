"""Detections: the value type every processor consumes and produces (in the spirit of supervision's
``Detections``), plus shared value types: bounding boxes, base64 bytes, track ids."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from pydantic import BeforeValidator, Field, PlainSerializer, StringConstraints, WithJsonSchema

from schemas.base import Message

TRACK_ID_PATTERN = r"^[a-zA-Z0-9_\-]{1,36}$"
TrackId = Annotated[str, StringConstraints(pattern=TRACK_ID_PATTERN)]
"""LUNA's ``track_id``: ``^[a-zA-Z0-9_\\-]{1,36}$`` (Events DB column ``varchar(36)``)."""


def _from_base64(value: Any) -> Any:
    # bytes stay raw (Python callers); text is base64 (JSON callers).
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error as e:
            raise ValueError(f"not valid base64: {e}") from None
    return value


def _to_base64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


B64Bytes = Annotated[
    bytes,
    BeforeValidator(_from_base64),
    PlainSerializer(_to_base64, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "contentEncoding": "base64"}),
]
"""Bytes in Python, base64 text in JSON. Unlike pydantic's ``Base64Bytes``, raw bytes given in Python are
kept as they are, not base64-decoded."""


class BoundingBox(Message):
    """A box in source-frame pixels: LUNA's ``rect`` shape (``x``, ``y`` top-left, ``width``, ``height``)."""

    x: float
    y: float
    width: float = Field(ge=0)
    height: float = Field(ge=0)

    @property
    def x2(self) -> float:
        return self.x + self.width

    @property
    def y2(self) -> float:
        return self.y + self.height

    @property
    def area(self) -> float:
        return self.width * self.height

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.width / 2, self.y + self.height / 2

    @property
    def bottom_center(self) -> tuple[float, float]:
        """Where a standing person touches the ground: the point line crossing and zones use."""
        return self.x + self.width / 2, self.y + self.height

    def iou(self, other: BoundingBox) -> float:
        w = min(self.x2, other.x2) - max(self.x, other.x)
        h = min(self.y2, other.y2) - max(self.y, other.y)
        if w <= 0 or h <= 0:
            return 0.0
        inter = w * h
        return inter / (self.area + other.area - inter)

    @classmethod
    def from_xyxy(cls, x1: float, y1: float, x2: float, y2: float) -> BoundingBox:
        return cls(x=x1, y=y1, width=max(0.0, x2 - x1), height=max(0.0, y2 - y1))


class Landmark(Message):
    """A keypoint (eye, nose, mouth corner) in source-frame pixels."""

    x: float
    y: float


class Detection(Message):
    """One detected person or face on one frame.

    ``crop`` is a small JPEG of the object, attached by the detection stage so that later stages (best
    shots, descriptors) never fetch the frame again; base64 in JSON.
    """

    detection_id: UUID = Field(default_factory=uuid4)
    kind: Literal["person", "face"]
    bbox: BoundingBox
    score: float = Field(ge=0, le=1)
    landmarks: list[Landmark] = Field(default_factory=list)
    crop: B64Bytes | None = Field(default=None, description="JPEG of the object, base64 in JSON.")
    track_id: TrackId | None = None


class DetectionBatch(Message):
    """The detections of one frame, on topic ``selene.detections`` (key ``stream_id``)."""

    stream_id: UUID
    version: int = Field(ge=1, description="Stream version (LUNA's `version`).")
    frame_number: int = Field(ge=0)
    time_offset: float = Field(ge=0, description="Seconds since the stream start.")
    timestamp: datetime
    width: int = Field(gt=0, description="Source frame width in pixels.")
    height: int = Field(gt=0)
    detector: str = Field(description="Model that produced the detections, e.g. `nanodet-m`.")
    detections: list[Detection] = Field(default_factory=list)
    end_of_stream: bool = Field(False, description="The video is over: no detections; trackers end their tracks.")
    overview: B64Bytes | None = Field(
        default=None, description="Downscaled JPEG of the whole frame, when an analytic wants an overview."
    )

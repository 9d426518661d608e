"""Remote SDK bodies: ``POST /6/sdk`` (detect and estimate, nothing stored), ``POST /6/iso`` and
``POST /6/liveness``, in LUNA's shapes. An estimation that was not asked for is left out of the answer
(``None`` fields are not serialised); one that Selene cannot compute is refused with 200005, never
filled in."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from schemas.base import Body
from schemas.errors import ErrorBody


class Rect(Body):
    """A box in image pixels: LUNA's ``rect``."""

    x: float
    y: float
    width: float = Field(ge=0)
    height: float = Field(ge=0)


class SdkPoint(Body):
    """A landmark in image pixels."""

    x: float
    y: float


class HeadPose(Body):
    """Degrees; yaw > 0 turned to the image's right, pitch > 0 looking up, roll > 0 tilted clockwise."""

    pitch: float = Field(ge=-180, le=180)
    roll: float = Field(ge=-180, le=180)
    yaw: float = Field(ge=-180, le=180)


class Quality(Body):
    """Each in [0, 1], 1 = good."""

    dark: float = Field(ge=0, le=1)
    light: float = Field(ge=0, le=1)
    blurriness: float = Field(ge=0, le=1)
    illumination: float = Field(ge=0, le=1)
    specularity: float = Field(ge=0, le=1)


class EyeState(Body):
    """LUNA also gives ``iris_landmarks``; Selene has no iris model and leaves them out."""

    state: Literal["open", "closed", "occluded"]


class EyesAttributes(Body):
    """LUNA's ``eyes_attributes``: the subject's left and right eye."""

    left_eye: EyeState
    right_eye: EyeState


class MouthAttributes(Body):
    """Only ``opened``: LUNA's ``smile``, ``occluded`` and ``score`` need a network Selene does not have."""

    opened: float = Field(ge=0, le=1)


class SdkDescriptorOut(Body):
    """``sdk_descriptor``: Base64 of Selene's SDK-like format (header, version, vector); ``score``: the
    descriptor's quality, null where the model gives none (dlib, MobileNetV2)."""

    score: float | None = None
    sdk_descriptor: str


class FaceAttributes(Body):
    """A face's estimations; those not asked for are left out."""

    head_pose: HeadPose | None = None
    eyes_attributes: EyesAttributes | None = None
    mouth_attributes: MouthAttributes | None = None
    descriptor: SdkDescriptorOut | None = None


class FaceDetection(Body):
    """One face: its box, score and the estimations asked for."""

    rect: Rect
    score: float = Field(ge=0, le=1, description="Detector score.")
    landmarks5: list[SdkPoint] | None = None
    landmarks68: list[SdkPoint] | None = None
    quality: Quality | None = None
    warp: str | None = Field(default=None, description="Base64 JPEG of the 250x250 face sample.")
    attributes: FaceAttributes = Field(default_factory=FaceAttributes)


class FaceEntry(Body):
    """LUNA's ``face`` of an estimation."""

    detection: FaceDetection


class BodyAttributes(Body):
    """A body's estimations; those not asked for are left out."""

    descriptor: SdkDescriptorOut | None = None


class BodyDetection(Body):
    """One person: box, score and the estimations asked for."""

    rect: Rect
    score: float = Field(ge=0, le=1)
    warp: str | None = Field(default=None, description="Base64 JPEG of the 128x250 body sample.")
    attributes: BodyAttributes = Field(default_factory=BodyAttributes)


class BodyEntry(Body):
    """LUNA's ``body`` of an estimation."""

    detection: BodyDetection


class Estimation(Body):
    """One face, one body, or both for one person (LUNA links a body to its face)."""

    face: FaceEntry | None = None
    body: BodyEntry | None = None


class People(Body):
    """``estimate_people_count``: how many people, and their boxes with ``people_count_coordinates=1``."""

    count: int = Field(ge=0)
    coordinates: list[Rect] | None = None


class ImageLevelEstimations(Body):
    """LUNA's ``image_estimations``: what is estimated of the whole image."""

    people: People | None = None


class SdkImage(Body):
    """One input image's result; a broken image has ``status`` 0 and its ``error``, the others go on."""

    filename: str
    status: Literal[0, 1]
    error: ErrorBody
    estimations: list[Estimation] = Field(default_factory=list)
    image_estimations: ImageLevelEstimations = Field(default_factory=ImageLevelEstimations)
    exif: dict[str, Any] = Field(default_factory=dict)


class AggregatedAttributes(Body):
    """The aggregated attributes of all images."""

    descriptor: SdkDescriptorOut | None = None


class AggregatedObject(Body):
    """LUNA's ``aggregate_estimations.face`` / ``.body``."""

    attributes: AggregatedAttributes = Field(default_factory=AggregatedAttributes)


class AggregateEstimations(Body):
    """With ``aggregate_attributes=1``: one descriptor for all images (the mean, then normalised like
    the model's own vectors)."""

    face: AggregatedObject | None = None
    body: AggregatedObject | None = None


class SdkResponse(Body):
    """``POST /6/sdk``: one entry per input image, in the request's order."""

    images_estimations: list[SdkImage]
    aggregate_estimations: AggregateEstimations | None = None


class IsoCheck(Body):
    """LUNA's check: ``object_value`` what was measured, ``threshold_value`` a ``{min, max}`` range or a
    list of accepted values, ``result`` 1 passed, 0 failed. A check Selene cannot compute has
    ``result`` and ``object_value`` null and ``estimated`` false: it never passes."""

    name: str
    object_value: Any = None
    result: Literal[0, 1] | None
    threshold_value: Any
    estimated: bool = True


class Iso(Body):
    """``status`` 1 only when every check was computed and passed."""

    status: Literal[0, 1]
    checks: list[IsoCheck]


class IsoDetection(Body):
    """One face's checks and box."""

    iso: Iso
    rect: Rect


class IsoFace(Body):
    """LUNA's ``face`` of an ISO estimation."""

    detection: IsoDetection


class IsoEstimation(Body):
    """One face of an ``/6/iso`` image."""

    face: IsoFace


class IsoImage(Body):
    """One ``/6/iso`` input image; a broken one, or one with no face, has ``status`` 0 and its ``error``."""

    filename: str
    status: Literal[0, 1]
    error: ErrorBody
    estimations: list[IsoEstimation] = Field(default_factory=list)
    exif: dict[str, Any] = Field(default_factory=dict)


class IsoResponse(Body):
    """``POST /6/iso``: one entry per input image, in the request's order."""

    images: list[IsoImage]


class LivenessEstimations(Body):
    """``probability`` that a real person is in front of the camera; ``quality`` of the image for it."""

    probability: float = Field(ge=0, le=1)
    quality: float = Field(ge=0, le=1)


class Liveness(Body):
    """LUNA's liveness result."""

    prediction: Literal[0, 1, 2] = Field(description="0 spoof, 1 real, 2 unknown.")
    estimations: LivenessEstimations


class LivenessImage(Body):
    """One ``/6/liveness`` input image."""

    filename: str
    status: Literal[0, 1]
    error: ErrorBody
    liveness: Liveness | None = None


class LivenessResponse(Body):
    """LUNA's shape; Selene answers 200005 instead until a liveness model is accepted (see the README)."""

    images: list[LivenessImage]


MAX_FACE_BOXES = 32  # per image: each box is redetected on its own


class ImageBoxes(Body):
    """LUNA's ``face_bounding_boxes`` of one image: the faces are looked for in these boxes only."""

    face_bounding_boxes: list[Rect] = Field(min_length=1, max_length=MAX_FACE_BOXES)


class JsonImage(Body):
    """One image of a JSON request body: Base64 ``image``, with its face boxes where known."""

    image: str = Field(description="Base64 of a JPEG, PNG, BMP, PPM or TIFF image.")
    filename: str | None = None
    mimetype: str | None = None
    face_bounding_boxes: list[Rect] | None = Field(default=None, min_length=1, max_length=MAX_FACE_BOXES,
                                                   description="Served by /6/detector; other endpoints refuse them.")


class JsonImages(Body):
    """A JSON request body: ``{"images": [{"image": "<Base64>", "filename": "..."}]}``."""

    images: list[JsonImage] = Field(min_length=1)

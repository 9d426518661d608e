"""Detection as a reusable step (``/6/detector``, handlers, verifiers): find faces and bodies in decoded
images under a detect policy, keep or filter them (head-pose thresholds, ``multiface_policy``), cut their
warps, shape LUNA's detection fields, and store the warps as samples.

Usage::

    detector = Detector(sdk, samples)
    results = await detector.detect(images, DetectPolicy(estimators=frozenset({"quality"})))
    await detector.store_samples(account_id, results)  # fills sample_id of every kept face and body
    samples = [sample_detection(person) for person in results[0].people]

An image with no face found is searched once more with a black margin around it: the detector misses a
face that fills its whole input, as in a portrait cropped tight. Face boxes given with an image (LUNA's ``face_bounding_boxes``) are redetected: the detector runs on the
box with a margin around it and keeps the face that overlaps the box best, so every face has the five
landmarks its warp needs. A box with no face in it yields nothing. Boxes given with a warp are ignored,
as LUNA does.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TypeVar
from uuid import UUID

import cv2
import numpy as np

from analytics.images.samples import SampleKind, SampleStore
from analytics.sdk.images import InputImage
from analytics.sdk.service import RemoteSdk, pair_people
from infra.media.jpeg import encode_jpeg
from schemas.detector import BodySample, FaceSample, SampleDetection
from schemas.errors import MULTIPLE_BODIES, MULTIPLE_FACES, WARP_SIZE_INVALID, ErrorCode, SeleneError
from schemas.sdk import BodyDetection, FaceDetection, Rect
from streams.models.estimators.detect import FaceBox
from streams.models.estimators.engine import (
    BODY_ESTIMATORS,
    BodyEstimation,
    FaceEstimation,
    ImageEstimation,
    Wanted,
)
from streams.models.estimators.registry import require
from streams.models.estimators.warp import FACE_WARP_SIZE

SAMPLE_QUALITY = 95  # JPEG quality of stored samples
BOX_MARGIN = 0.5  # a given face box is searched with this share of its size added on every side
CANVAS_MARGIN = 0.5  # a portrait with no face found is searched again with this share of its size around it
MIN_BOX_OVERLAP = 0.2  # IoU below which a redetected face is not the box's face
ANGLE_NAMES = ("pitch_threshold", "roll_threshold", "yaw_threshold")
T = TypeVar("T")


@dataclass(frozen=True)
class DetectPolicy:
    """What to detect and estimate (LUNA's ``detect_policy`` and ``/detector`` query): ``estimators`` are
    registry names shown with each face or body (``head_pose``, ``quality``, ``landmarks68``...);
    ``max_angles`` the pitch, roll and yaw thresholds (180: no filter); ``image_type`` 0 raw image,
    1 face warp, 2 body warp."""

    detect_face: bool = True
    detect_body: bool = False
    multiface_policy: int = 1
    estimators: frozenset[str] = frozenset()
    max_angles: tuple[float, float, float] = (180.0, 180.0, 180.0)
    image_type: int = 0
    use_exif: bool = True

    @property
    def filters_pose(self) -> bool:
        return any(a < 180 for a in self.max_angles)

    def shown(self) -> frozenset[str]:
        """The estimations a detection shows: those asked for, and landmarks5 (LUNA always returns them)."""
        return self.estimators | ({"landmarks5"} if self.image_type == 0 else set())

    def wanted(self) -> Wanted:
        """What the engine must run: the shown estimations, the warps of the samples, the head pose of a filter."""
        faces = self.detect_face and self.image_type != 2
        bodies = self.detect_body and self.image_type != 1
        names = set(self.estimators)
        if faces:
            names |= {"face_warp"} | ({"head_pose"} if self.filters_pose else set())
        if bodies:
            names |= {"body_warp"}
        return Wanted(frozenset(names), detect_face=faces, detect_body=bodies, image_type=self.image_type)


@dataclass
class FaceFound:
    """A face: the engine's estimation, LUNA's ``detection`` fields, the JPEG sample, its id once stored."""

    estimation: FaceEstimation
    detection: FaceDetection
    warp: bytes
    sample_id: UUID | None = None


@dataclass
class BodyFound:
    """A body: the engine's estimation, LUNA's ``detection`` fields, the JPEG sample, its id once stored."""

    estimation: BodyEstimation
    detection: BodyDetection
    warp: bytes
    sample_id: UUID | None = None


@dataclass
class Person:
    """One person of an image: a face, a body, or both (a body holding the face)."""

    face: FaceFound | None = None
    body: BodyFound | None = None


@dataclass
class Filtered:
    """A face a filter left out, and the thresholds it exceeded."""

    face: FaceFound
    reasons: list[str]


@dataclass
class ImageResult:
    """One input image: ``error`` set when it failed as a whole (undecodable, several faces under
    ``multiface_policy`` 0), else the people kept and the faces filtered out."""

    image: InputImage
    error: SeleneError | None = None
    people: list[Person] = field(default_factory=list)
    filtered: list[Filtered] = field(default_factory=list)


def sample_detection(person: Person) -> SampleDetection:
    """LUNA's ``samples[]`` entry of a person whose samples are stored."""
    face = body = None
    if person.face is not None:
        assert person.face.sample_id is not None, "store the samples first"
        face = FaceSample(detection=person.face.detection, sample_id=person.face.sample_id,
                          url=sample_url("faces", person.face.sample_id))
    if person.body is not None:
        assert person.body.sample_id is not None, "store the samples first"
        body = BodySample(detection=person.body.detection, sample_id=person.body.sample_id,
                          url=sample_url("bodies", person.body.sample_id))
    return SampleDetection(face=face, body=body)


def sample_url(kind: SampleKind, sample_id: UUID) -> str:
    return f"/6/samples/{kind}/{sample_id}"


class Detector:
    """Detection over the Remote SDK's engine (its inference thread), samples into the samples store."""

    def __init__(self, sdk: RemoteSdk, samples: SampleStore | None = None) -> None:
        self.sdk = sdk
        self.samples = samples

    async def detect(self, images: list[InputImage], policy: DetectPolicy) -> list[ImageResult]:
        """Every image's people and filtered faces, in order. 200005 for an estimator Selene lacks."""
        wanted = policy.wanted()
        require(wanted.estimators)
        decoded = self.sdk.decode(images, policy.use_exif)
        results = [ImageResult(d.image, d.error) for d in decoded]
        for result, item in zip(results, decoded):
            if item.pixels is not None and policy.image_type == 1 and item.pixels.shape[:2] != (FACE_WARP_SIZE,) * 2:
                result.error = SeleneError(WARP_SIZE_INVALID, "250x250")
        boxed = [i for i, (r, d) in enumerate(zip(results, decoded))
                 if r.error is None and d.image.face_boxes is not None and policy.image_type == 0 and wanted.faces]
        whole = [i for i, r in enumerate(results) if r.error is None and i not in boxed]
        estimations: dict[int, ImageEstimation] = dict(zip(whole, await self.sdk.estimate(
            [decoded[i].pixels for i in whole if decoded[i].pixels is not None], wanted)))
        tight = [i for i in whole if wanted.faces and policy.image_type == 0 and not estimations[i].faces]
        for i, faces in zip(tight, await self._on_canvas([decoded[i].pixels for i in tight], wanted)):
            estimations[i].faces = faces
        for i in boxed:
            pixels = decoded[i].pixels
            assert pixels is not None and decoded[i].image.face_boxes is not None
            estimations[i] = await self._in_boxes(pixels, decoded[i].image.face_boxes, wanted)
        for i, estimation in estimations.items():
            try:
                self._sort(results[i], estimation, policy)
            except SeleneError as exc:
                results[i].error, results[i].people, results[i].filtered = exc, [], []
        return results

    async def store_samples(self, account_id: UUID, results: list[ImageResult]) -> None:
        """Store the warp of every kept face and body as the account's sample; sets their ``sample_id``."""
        if self.samples is None:
            raise RuntimeError("this detector has no samples store")
        store = self.samples
        found: list[tuple[SampleKind, FaceFound | BodyFound]] = [
            (kind, item) for result in results for person in result.people
            for kind, item in (("faces", person.face), ("bodies", person.body)) if item is not None
        ]
        ids = await asyncio.gather(*(store.put(account_id, kind, item.warp) for kind, item in found))
        for (_, item), sample_id in zip(found, ids):
            item.sample_id = sample_id

    # -- portraits cut tight around the face ------------------------------------------------------
    async def _on_canvas(self, images: list[np.ndarray | None], wanted: Wanted) -> list[list[FaceEstimation]]:
        """Faces of images where none was found, looked for again with a black margin around the image:
        the detector misses a face that fills its whole input (a cropped portrait)."""
        canvases, shifts = [], []
        for pixels in images:
            assert pixels is not None
            dy, dx = int(pixels.shape[0] * CANVAS_MARGIN), int(pixels.shape[1] * CANVAS_MARGIN)
            canvases.append(cv2.copyMakeBorder(pixels, dy, dy, dx, dx, cv2.BORDER_CONSTANT, value=(0, 0, 0)))
            shifts.append((dx, dy))
        faces_only = Wanted(wanted.estimators - BODY_ESTIMATORS, detect_face=True)
        return [[_shifted(f, -dx, -dy) for f in e.faces]
                for (dx, dy), e in zip(shifts, await self.sdk.estimate(canvases, faces_only))]

    # -- given face boxes ------------------------------------------------------------------------
    async def _in_boxes(self, pixels: np.ndarray, boxes: tuple[Rect, ...], wanted: Wanted) -> ImageEstimation:
        """The face of each box (redetected in the box with a margin) and, when asked, the image's bodies."""
        h, w = pixels.shape[:2]
        regions = [r for r in (_region(box, w, h) for box in boxes) if r is not None]
        faces_only = Wanted(wanted.estimators - BODY_ESTIMATORS, detect_face=True)
        crops = [pixels[y1:y2, x1:x2] for (x1, y1, x2, y2), _ in regions]
        found = []
        for ((x1, y1, _, _), box), estimation in zip(regions, await self.sdk.estimate(crops, faces_only)):
            target = np.array([box.x - x1, box.y - y1, box.x + box.width - x1, box.y + box.height - y1], np.float32)
            best = max(estimation.faces, key=lambda f: _iou(f.face.box, target), default=None)
            if best is not None and _iou(best.face.box, target) >= MIN_BOX_OVERLAP:
                found.append(_shifted(best, x1, y1))
        bodies: list[BodyEstimation] = []
        if wanted.bodies:
            bodies_only = Wanted(wanted.estimators & BODY_ESTIMATORS, detect_body=True)
            [whole] = await self.sdk.estimate([pixels], bodies_only)
            bodies = whole.bodies
        return ImageEstimation(faces=found, bodies=bodies)

    # -- keeping, filtering, shaping ---------------------------------------------------------------
    def _sort(self, result: ImageResult, estimation: ImageEstimation, policy: DetectPolicy) -> None:
        kept: list[FaceEstimation] = []
        for face in estimation.faces:
            reasons = _exceeded(face, policy.max_angles) if policy.filters_pose else []
            if reasons:
                result.filtered.append(Filtered(self._face(face, policy), reasons))
            else:
                kept.append(face)
        kept = _by_policy(kept, policy.multiface_policy, result.image.filename, MULTIPLE_FACES,
                          lambda f: _area(f.face.box))
        bodies = _by_policy(list(estimation.bodies), policy.multiface_policy, result.image.filename, MULTIPLE_BODIES,
                            lambda b: _area(b.body.box))
        result.people = [Person(self._face(f, policy) if f else None, self._body(b) if b else None)
                         for f, b in pair_people(kept, bodies)]

    def _face(self, face: FaceEstimation, policy: DetectPolicy) -> FaceFound:
        assert face.warp is not None
        entry = self.sdk.face_entry(replace(face, warp=None), policy.shown())
        return FaceFound(face, entry.detection, encode_jpeg(face.warp, SAMPLE_QUALITY))

    def _body(self, body: BodyEstimation) -> BodyFound:
        assert body.warp is not None
        entry = self.sdk.body_entry(replace(body, warp=None))
        return BodyFound(body, entry.detection, encode_jpeg(body.warp, SAMPLE_QUALITY))


def _by_policy(items: list[T], policy: int, filename: str, error: ErrorCode, size: Callable[[T], float]) -> list[T]:
    """LUNA's ``multiface_policy``: 0 several are an error, 1 all, 2 the largest only."""
    if len(items) > 1 and policy == 0:
        raise SeleneError(error, filename, len(items))
    if len(items) > 1 and policy == 2:
        return [max(items, key=size)]
    return items


def _exceeded(face: FaceEstimation, limits: tuple[float, float, float]) -> list[str]:
    pose = face.head_pose
    assert pose is not None, "a pose filter needs the head pose"
    angles = (pose.pitch, pose.roll, pose.yaw)
    return [name for name, angle, limit in zip(ANGLE_NAMES, angles, limits) if abs(angle) > limit]


def _region(box: Rect, width: int, height: int) -> tuple[tuple[int, int, int, int], Rect] | None:
    """The box with its margin, clipped to the image; None when nothing of it is inside."""
    mx, my = box.width * BOX_MARGIN, box.height * BOX_MARGIN
    x1, y1 = max(0, math.floor(box.x - mx)), max(0, math.floor(box.y - my))
    x2 = min(width, math.ceil(box.x + box.width + mx))
    y2 = min(height, math.ceil(box.y + box.height + my))
    if x2 - x1 < 8 or y2 - y1 < 8 or box.width <= 0 or box.height <= 0:
        return None
    return (x1, y1, x2, y2), box


def _area(box: np.ndarray) -> float:
    return float(max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1]))


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    inter = _area(np.array([max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])]))
    union = _area(a) + _area(b) - inter
    return inter / union if union > 0 else 0.0


def _shifted(face: FaceEstimation, dx: int, dy: int) -> FaceEstimation:
    """A face found in a crop, in the whole image's pixels."""
    shift = np.array([dx, dy], np.float32)
    box = FaceBox(face.face.box + np.tile(shift, 2), face.face.score, face.face.landmarks5 + shift)
    return replace(face, face=box, landmarks68=None if face.landmarks68 is None else face.landmarks68 + shift)

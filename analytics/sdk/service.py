"""The Remote SDK service: decodes each image on its own (a broken one fails alone), runs the estimator
engine on the good ones as one batch in the service's inference thread, and shapes LUNA's answers."""

from __future__ import annotations

import asyncio
import base64
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from analytics.sdk.images import InputImage
from analytics.sdk.iso import ESTIMATORS as ISO_ESTIMATORS
from analytics.sdk.iso import Measured, iso
from infra.media.image import decode_image, image_format
from infra.media.jpeg import encode_jpeg
from schemas.descriptor_formats import b64_bytes, encode_sdk
from schemas.descriptors import BODY_MOBILENETV2_1280, FACE_DLIB_RESNET_128
from schemas.errors import (
    MULTIPLE_FACES,
    NO_FACES_FOUND,
    SUCCESS,
    ErrorBody,
    SeleneError,
)
from schemas.sdk import (
    AggregatedAttributes,
    AggregatedObject,
    AggregateEstimations,
    BodyAttributes,
    BodyDetection,
    BodyEntry,
    Estimation,
    EyesAttributes,
    EyeState,
    FaceAttributes,
    FaceDetection,
    FaceEntry,
    HeadPose,
    ImageLevelEstimations,
    IsoDetection,
    IsoEstimation,
    IsoFace,
    IsoImage,
    IsoResponse,
    MouthAttributes,
    People,
    Quality,
    Rect,
    SdkDescriptorOut,
    SdkImage,
    SdkPoint,
    SdkResponse,
)
from streams.models.estimators.detect import BodyBox
from streams.models.estimators.engine import (
    BodyEstimation,
    EstimatorEngine,
    FaceEstimation,
    ImageEstimation,
    Wanted,
)
from streams.models.estimators.registry import require

_OK = SUCCESS.body()
_WARP_QUALITY = 95


@dataclass(frozen=True)
class SdkRequest:
    """What ``/6/sdk`` was asked: registry names, LUNA's switches and filters."""

    wanted: Wanted
    multiface_policy: int = 1
    aggregate: bool = False
    people_coordinates: bool = False
    use_exif: bool = True
    max_angles: tuple[float, float, float] = (180.0, 180.0, 180.0)  # pitch, roll, yaw thresholds

    @property
    def filters_pose(self) -> bool:
        return any(a < 180 for a in self.max_angles)


@dataclass
class Decoded:
    image: InputImage
    pixels: np.ndarray | None = None
    raw: bytes = b""
    error: SeleneError | None = None


def _rect(box: np.ndarray) -> Rect:
    x1, y1, x2, y2 = (float(v) for v in box)
    return Rect(x=round(x1, 1), y=round(y1, 1), width=round(max(0.0, x2 - x1), 1), height=round(max(0.0, y2 - y1), 1))


def _points(points: np.ndarray) -> list[SdkPoint]:
    return [SdkPoint(x=round(float(x), 1), y=round(float(y), 1)) for x, y in points]


def _jpeg(image: np.ndarray) -> str:
    return base64.b64encode(encode_jpeg(image, _WARP_QUALITY)).decode("ascii")


def _error(exc: SeleneError) -> ErrorBody:
    return exc.body


def pair_people(faces: list[FaceEstimation], bodies: list[BodyEstimation],
                ) -> list[tuple[FaceEstimation | None, BodyEstimation | None]]:
    """Faces and bodies as people: a body holding a face's centre in its upper half is that face's
    person; faces and bodies left over stand alone."""
    pairs: list[tuple[FaceEstimation | None, BodyEstimation | None]] = []
    free = list(bodies)
    for face in faces:
        cx, cy = (face.face.box[:2] + face.face.box[2:]) / 2
        owner = next((b for b in free if b.body.box[0] <= cx <= b.body.box[2]
                      and b.body.box[1] <= cy <= (b.body.box[1] + b.body.box[3]) / 2), None)
        if owner is not None:
            free.remove(owner)
        pairs.append((face, owner))
    return pairs + [(None, b) for b in free]


class RemoteSdk:
    """One inference thread (dlib is not thread-safe); the engine loads each model on first use."""

    def __init__(self, engine: EstimatorEngine | None = None) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="remote-sdk")
        self._engine = engine

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)

    def _run(self, images: list[np.ndarray], wanted: Wanted) -> list[ImageEstimation]:
        if self._engine is None:
            self._engine = EstimatorEngine()
        return self._engine.run(images, wanted)

    async def estimate(self, images: list[np.ndarray], wanted: Wanted) -> list[ImageEstimation]:
        """The engine's estimations of decoded BGR images, run in the service's inference thread."""
        if not images:
            return []
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._run, images, wanted)

    async def _estimate(self, decoded: list[Decoded], wanted: Wanted) -> list[ImageEstimation | None]:
        good = [d for d in decoded if d.pixels is not None]
        results = await self.estimate([d.pixels for d in good if d.pixels is not None], wanted)
        by_image = {id(d): r for d, r in zip(good, results)}
        return [by_image.get(id(d)) for d in decoded]

    @staticmethod
    def decode(images: list[InputImage], use_exif: bool) -> list[Decoded]:
        """Each image's pixels, or the error that decoding it raised (one broken image fails alone)."""
        decoded = []
        for image in images:
            item = Decoded(image)
            try:
                item.raw = b64_bytes(image.data) if isinstance(image.data, str) else image.data
                item.pixels = decode_image(item.raw, use_exif)
            except SeleneError as exc:
                item.error = exc
            decoded.append(item)
        return decoded

    # -- /6/sdk ------------------------------------------------------------------------------------
    async def sdk(self, images: list[InputImage], request: SdkRequest) -> SdkResponse:
        require(request.wanted.estimators)
        wanted = request.wanted
        if request.filters_pose and "head_pose" not in wanted.estimators:
            wanted = Wanted(wanted.estimators | {"head_pose"}, wanted.detect_face, wanted.detect_body, wanted.image_type)
        decoded = self.decode(images, request.use_exif)
        results = await self._estimate(decoded, wanted)
        answers, faces, bodies = [], [], []
        for item, result in zip(decoded, results):
            if result is None:
                assert item.error is not None
                answers.append(SdkImage(filename=item.image.filename, status=0, error=_error(item.error)))
                continue
            try:
                kept = self._faces_kept(result.faces, request)
            except SeleneError as exc:
                answers.append(SdkImage(filename=item.image.filename, status=0, error=_error(exc)))
                continue
            faces += kept
            bodies += result.bodies
            answers.append(SdkImage(
                filename=item.image.filename, status=1, error=_OK,
                estimations=self._estimations(kept, result.bodies, request.wanted.estimators),
                image_estimations=ImageLevelEstimations(people=self._people(result.people, request)),
            ))
        aggregate = self._aggregate(faces, bodies) if request.aggregate else None
        return SdkResponse(images_estimations=answers, aggregate_estimations=aggregate)

    @staticmethod
    def _faces_kept(faces: list[FaceEstimation], request: SdkRequest) -> list[FaceEstimation]:
        if request.filters_pose:
            limits = request.max_angles
            faces = [f for f in faces if f.head_pose is not None and all(
                abs(a) <= m for a, m in zip((f.head_pose.pitch, f.head_pose.roll, f.head_pose.yaw), limits))]
        if len(faces) > 1 and request.multiface_policy == 0:
            raise SeleneError(MULTIPLE_FACES, "", f"{len(faces)} faces")
        if len(faces) > 1 and request.multiface_policy == 2:
            faces = [max(faces, key=lambda f: float((f.face.box[2] - f.face.box[0]) * (f.face.box[3] - f.face.box[1])))]
        return faces

    @staticmethod
    def _people(people: list[BodyBox] | None, request: SdkRequest) -> People | None:
        if people is None:
            return None
        return People(count=len(people),
                      coordinates=[_rect(p.box) for p in people] if request.people_coordinates else None)

    def _estimations(self, faces: list[FaceEstimation], bodies: list[BodyEstimation],
                     wanted: frozenset[str]) -> list[Estimation]:
        return [Estimation(face=self.face_entry(f, wanted) if f else None, body=self.body_entry(b) if b else None)
                for f, b in pair_people(faces, bodies)]

    @staticmethod
    def face_entry(e: FaceEstimation, wanted: frozenset[str]) -> FaceEntry:
        """LUNA's ``face`` of an estimation: the detection and the estimations in ``wanted``."""
        attributes = FaceAttributes(
            head_pose=HeadPose(**{k: round(v, 2) for k, v in vars(e.head_pose).items()})
            if e.head_pose is not None and "head_pose" in wanted else None,
            eyes_attributes=EyesAttributes(left_eye=EyeState(state=e.eyes.left), right_eye=EyeState(state=e.eyes.right))
            if e.eyes is not None else None,
            mouth_attributes=MouthAttributes(opened=round(e.mouth_opened, 4)) if e.mouth_opened is not None else None,
            descriptor=SdkDescriptorOut(sdk_descriptor=encode_sdk(e.descriptor, FACE_DLIB_RESNET_128))
            if e.descriptor is not None else None,
        )
        return FaceEntry(detection=FaceDetection(
            rect=_rect(e.face.box), score=round(min(1.0, e.face.score), 4),
            landmarks5=_points(e.face.landmarks5) if "landmarks5" in wanted else None,
            landmarks68=_points(e.landmarks68) if e.landmarks68 is not None else None,
            quality=Quality(**{k: round(v, 4) for k, v in vars(e.quality).items()}) if e.quality is not None else None,
            warp=_jpeg(e.warp) if e.warp is not None else None,
            attributes=attributes,
        ))

    @staticmethod
    def body_entry(e: BodyEstimation) -> BodyEntry:
        """LUNA's ``body`` of an estimation."""
        descriptor = (SdkDescriptorOut(sdk_descriptor=encode_sdk(e.descriptor, BODY_MOBILENETV2_1280))
                      if e.descriptor is not None else None)
        return BodyEntry(detection=BodyDetection(
            rect=_rect(e.body.box), score=round(min(1.0, e.body.score), 4),
            warp=_jpeg(e.warp) if e.warp is not None else None, attributes=BodyAttributes(descriptor=descriptor),
        ))

    @staticmethod
    def _aggregate(faces: list[FaceEstimation], bodies: list[BodyEstimation]) -> AggregateEstimations:
        """The mean descriptor of all images' faces (dlib: a plain mean, Euclidean space) and bodies (the
        mean, L2-normalised as each body vector is)."""
        face_vectors = [f.descriptor for f in faces if f.descriptor is not None]
        body_vectors = [b.descriptor for b in bodies if b.descriptor is not None]
        face = body = None
        if face_vectors:
            mean = np.mean(face_vectors, axis=0)
            face = AggregatedObject(attributes=AggregatedAttributes(
                descriptor=SdkDescriptorOut(sdk_descriptor=encode_sdk(mean, FACE_DLIB_RESNET_128))))
        if body_vectors:
            mean = np.mean(body_vectors, axis=0)
            mean /= max(float(np.linalg.norm(mean)), 1e-12)
            body = AggregatedObject(attributes=AggregatedAttributes(
                descriptor=SdkDescriptorOut(sdk_descriptor=encode_sdk(mean, BODY_MOBILENETV2_1280))))
        return AggregateEstimations(face=face, body=body)

    # -- /6/iso ------------------------------------------------------------------------------------
    async def iso(self, images: list[InputImage], multiface_policy: int = 0, image_type: int = 0) -> IsoResponse:
        decoded = self.decode(images, use_exif=True)
        results = await self._estimate(decoded, Wanted(ISO_ESTIMATORS, image_type=image_type))
        answers = []
        for item, result in zip(decoded, results):
            if result is None:
                assert item.error is not None
                answers.append(IsoImage(filename=item.image.filename, status=0, error=_error(item.error)))
                continue
            try:
                if not result.faces:
                    raise SeleneError(NO_FACES_FOUND)
                faces = self._faces_kept(result.faces, SdkRequest(Wanted(frozenset()), multiface_policy))
            except SeleneError as exc:
                answers.append(IsoImage(filename=item.image.filename, status=0, error=_error(exc)))
                continue
            assert item.pixels is not None
            size = None if image_type == 1 else (item.pixels.shape[1], item.pixels.shape[0])
            estimations = [IsoEstimation(face=IsoFace(detection=IsoDetection(
                iso=iso(Measured(face, size, image_format(item.raw))), rect=_rect(face.face.box))))
                for face in faces]
            answers.append(IsoImage(filename=item.image.filename, status=1, error=_OK, estimations=estimations))
        return IsoResponse(images=answers)

"""Runs the estimators a request asks for over a batch of images: detection once for the whole batch,
then each face's and body's estimations. Synchronous and not thread-safe (dlib): callers run one engine
in one worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from infra.settings import InferenceSettings
from streams.models.body_descriptor import BodyExtractor
from streams.models.estimators.color_type import ColorType, face_color_type
from streams.models.estimators.detect import BodyBox, Detectors, FaceBox
from streams.models.estimators.eyes import Eyes, eyes
from streams.models.estimators.head_pose import HeadPose, head_pose
from streams.models.estimators.landmarks68 import Landmarks68
from streams.models.estimators.mouth import mouth_opened
from streams.models.estimators.quality import Quality, quality
from streams.models.estimators.registry import require
from streams.models.estimators.warp import (
    FACE_TEMPLATE,
    FACE_TEMPLATE_BOX,
    FACE_WARP_SIZE,
    body_warp,
    face_warp,
)
from streams.models.face_descriptor import FaceExtractor

FACE_ESTIMATORS = frozenset({"landmarks5", "landmarks68", "head_pose", "face_warp", "quality", "image_color_type",
                             "eyes", "mouth_attributes", "face_descriptor"})
BODY_ESTIMATORS = frozenset({"body_warp", "body_descriptor"})
_NEED_LANDMARKS68 = frozenset({"landmarks68", "head_pose", "eyes", "mouth_attributes"})
_NEED_WARP = frozenset({"face_warp", "quality", "image_color_type"})


@dataclass
class FaceEstimation:
    """One face and what was asked of it; a field stays None when not asked for."""

    face: FaceBox
    landmarks68: np.ndarray | None = None
    head_pose: HeadPose | None = None
    quality: Quality | None = None
    color_type: ColorType | None = None
    eyes: Eyes | None = None
    mouth_opened: float | None = None
    warp: np.ndarray | None = None
    descriptor: np.ndarray | None = None


@dataclass
class BodyEstimation:
    body: BodyBox
    warp: np.ndarray | None = None
    descriptor: np.ndarray | None = None


@dataclass
class ImageEstimation:
    faces: list[FaceEstimation] = field(default_factory=list)
    bodies: list[BodyEstimation] = field(default_factory=list)
    people: list[BodyBox] | None = None  # people_count: every person found


@dataclass(frozen=True)
class Wanted:
    """What one request asks for: ``estimators`` by registry name; ``image_type`` 0 raw image, 1 face warp,
    2 body warp (LUNA's); ``detect_face`` / ``detect_body`` also return detections with no estimator."""

    estimators: frozenset[str]
    detect_face: bool = False
    detect_body: bool = False
    image_type: int = 0

    @property
    def faces(self) -> bool:
        return self.image_type != 2 and (self.detect_face or bool(self.estimators & FACE_ESTIMATORS))

    @property
    def bodies(self) -> bool:
        return self.image_type != 1 and (self.detect_body or bool(self.estimators & BODY_ESTIMATORS))


class EstimatorEngine:
    """Every model is loaded on first use, so a deployment that never asks for bodies never loads NanoDet."""

    def __init__(self, settings: InferenceSettings | None = None) -> None:
        self.settings = settings or InferenceSettings()
        self.detectors = Detectors(self.settings)
        self._landmarks68: Landmarks68 | None = None
        self._faces: FaceExtractor | None = None
        self._bodies: BodyExtractor | None = None

    def run(self, images: list[np.ndarray], wanted: Wanted) -> list[ImageEstimation]:
        """Estimations per BGR image, in order. Raises ``SeleneError`` 200005 for an unavailable estimator."""
        require(wanted.estimators)
        results = [ImageEstimation() for _ in images]
        if wanted.faces:
            for result, image, faces in zip(results, images, self._find_faces(images, wanted.image_type)):
                result.faces = self._estimate_faces(image, faces, wanted.estimators, wanted.image_type)
        if wanted.bodies or "people_count" in wanted.estimators:
            bodies = ([[BodyBox(np.array([0, 0, i.shape[1], i.shape[0]], np.float32), 1.0)] for i in images]
                      if wanted.image_type == 2 else self.detectors.bodies(images))
            for result, found in zip(results, bodies):
                if "people_count" in wanted.estimators:
                    result.people = found
                if wanted.bodies:
                    result.bodies = [BodyEstimation(b) for b in found]
            self._estimate_bodies(images, results, wanted.estimators)
        return results

    def _find_faces(self, images: list[np.ndarray], image_type: int) -> list[list[FaceBox]]:
        if image_type != 1:
            return self.detectors.faces(images)
        # A face warp is one face already aligned: its landmarks are the template's, scaled to its size.
        found = []
        for image in images:
            scale = np.array([image.shape[1], image.shape[0]], np.float32) / FACE_WARP_SIZE
            found.append([FaceBox(np.array([0, 0, image.shape[1], image.shape[0]], np.float32), 1.0,
                                  FACE_TEMPLATE * scale)])
        return found

    def _estimate_faces(self, image: np.ndarray, faces: list[FaceBox], wanted: frozenset[str],
                        image_type: int = 0) -> list[FaceEstimation]:
        estimations = [FaceEstimation(face) for face in faces]
        if not faces:
            return estimations
        rgb = np.ascontiguousarray(image[:, :, ::-1])
        size = (image.shape[1], image.shape[0])
        for e in estimations:
            if wanted & _NEED_LANDMARKS68:
                if self._landmarks68 is None:
                    self._landmarks68 = Landmarks68(self.settings)
                points = self._landmarks68(rgb, e.face.box, e.face.landmarks5)
                e.landmarks68 = points if "landmarks68" in wanted else None
                e.head_pose = head_pose(points, size) if "head_pose" in wanted else None
                e.eyes = eyes(points) if "eyes" in wanted else None
                e.mouth_opened = mouth_opened(points) if "mouth_attributes" in wanted else None
            if wanted & _NEED_WARP:
                warp = face_warp(image, e.face.landmarks5)
                e.warp = warp if "face_warp" in wanted else None
                e.quality = quality(warp) if "quality" in wanted else None
                e.color_type = face_color_type(warp) if "image_color_type" in wanted else None
        if "face_descriptor" in wanted:
            if self._faces is None:
                self._faces = FaceExtractor(self.settings)
            if image_type == 1:  # a warp's box is the whole warp; the descriptor wants the face's own
                scale = np.tile(np.array([image.shape[1], image.shape[0]], np.float32) / FACE_WARP_SIZE, 2)
                boxes = np.stack([FACE_TEMPLATE_BOX * scale for _ in faces])
            else:
                boxes = np.stack([f.box for f in faces])
            points5 = np.stack([f.landmarks5 for f in faces])
            for e, vector in zip(estimations, self._faces.describe(image, boxes, points5)):
                e.descriptor = vector
        return estimations

    def _estimate_bodies(self, images: list[np.ndarray], results: list[ImageEstimation], wanted: frozenset[str]) -> None:
        if not wanted & BODY_ESTIMATORS:
            return
        everyone = [(image, e) for image, result in zip(images, results) for e in result.bodies]
        warps = [body_warp(image, e.body.box) for image, e in everyone]
        if "body_warp" in wanted:
            for (_, e), warp in zip(everyone, warps):
                e.warp = warp
        if "body_descriptor" in wanted and warps:
            if self._bodies is None:
                self._bodies = BodyExtractor(self.settings)
            for (_, e), vector in zip(everyone, self._bodies.describe(warps)):  # one batch for every image
                e.descriptor = vector


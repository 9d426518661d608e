"""Face descriptors: SCRFD finds the face, dlib's 5-point shape predictor aligns it, dlib's ResNet (CC0)
turns the 150 px aligned chip into 128 floats.

Descriptors compare by Euclidean distance; dlib's usual same-person threshold is 0.6 (matching lives
elsewhere). dlib's objects are not safe to share between threads: one extractor serves one thread (the
worker's inference thread).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import dlib
import numpy as np

from infra.settings import InferenceSettings
from schemas.descriptors import FACE_DLIB_RESNET_128
from schemas.detections import Detections
from streams.models.faces import face_detector
from streams.models.registry import REGISTRY, verify

CHIP_SIZE = 150
CHIP_PADDING = 0.25
# dlib's shape predictor was trained on its HOG detector's boxes: square and a little wider than
# SCRFD's, which also reach up to the forehead.
_BOX_WIDEN = 1.1
# A best-shot crop is cut tight around the face; SCRFD misses faces filling its whole input, so the
# crop goes on a canvas this many times its size, and is upscaled to at least _CROP_MIN pixels first.
_CROP_CANVAS = 2.0
_CROP_MIN = 160


@dataclass(frozen=True)
class FaceSample:
    """One face: ``box`` x1, y1, x2, y2 in image pixels; ``landmarks`` [5, 2] from SCRFD (eyes, nose,
    mouth corners); ``descriptor`` float32[128]."""

    box: tuple[float, float, float, float]
    score: float
    landmarks: np.ndarray
    descriptor: np.ndarray

    @property
    def area(self) -> float:
        return (self.box[2] - self.box[0]) * (self.box[3] - self.box[1])


class FaceExtractor:
    """Face detection plus dlib ResNet descriptors. Not thread-safe: one instance per thread."""

    descriptor_version = FACE_DLIB_RESNET_128

    def __init__(self, settings: InferenceSettings | None = None) -> None:
        self.settings = settings or InferenceSettings()
        self.detector = face_detector(self.settings)
        self._shapes = dlib.shape_predictor(str(verify(REGISTRY["dlib-shape-predictor-5"], self.settings)))
        self._net = dlib.face_recognition_model_v1(str(verify(REGISTRY["dlib-resnet-v1"], self.settings)))

    def extract(self, image_bgr: np.ndarray) -> list[FaceSample]:
        """Every face scoring at least the settings' ``face_score_threshold``, best first."""
        [found] = self.detector.detect([image_bgr])
        return self.samples(image_bgr, found)

    def describe_crop(self, crop_bgr: np.ndarray) -> FaceSample | None:
        """The best face of a best-shot crop (cut around one face), in the crop's pixels; None if none."""
        h, w = crop_bgr.shape[:2]
        scale = max(1.0, _CROP_MIN / max(h, w))
        crop = cv2.resize(crop_bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC) if scale > 1 else crop_bgr
        ch, cw = crop.shape[:2]
        top, left = int(ch * (_CROP_CANVAS - 1) / 2), int(cw * (_CROP_CANVAS - 1) / 2)
        canvas = cv2.copyMakeBorder(crop, top, top, left, left, cv2.BORDER_CONSTANT, value=(0, 0, 0))
        faces = self.extract(canvas)
        if not faces:
            return None
        best, shift = faces[0], np.array([left, top], np.float32)
        box = (np.array(best.box, np.float32) - np.tile(shift, 2)) / scale
        return FaceSample(tuple(float(v) for v in box), best.score, (best.landmarks - shift) / scale,
                          best.descriptor)

    def samples(self, image_bgr: np.ndarray, found: Detections) -> list[FaceSample]:
        """Descriptors for faces SCRFD already found on ``image_bgr`` (its NMS leaves them best first)."""
        landmarks = found.data["landmarks"]
        descriptors = self.describe(image_bgr, found.xyxy, landmarks)
        return [FaceSample(tuple(float(v) for v in box), float(score), points.astype(np.float32), d)
                for box, score, points, d in zip(found.xyxy, found.scores, landmarks, descriptors)]

    def describe(self, image_bgr: np.ndarray, boxes: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """[N, 128] float32 descriptors of the faces at SCRFD ``boxes`` [N, 4] with ``landmarks`` [N, 5, 2]."""
        if len(boxes) == 0:
            return np.zeros((0, 128), np.float32)
        rgb = np.ascontiguousarray(image_bgr[:, :, ::-1])
        chips = []
        for box, points in zip(boxes, landmarks):
            half = (box[2] - box[0]) * _BOX_WIDEN / 2
            cx, cy = points.mean(0)
            rect = dlib.rectangle(int(cx - half), int(cy - half), int(cx + half), int(cy + half))
            chips.append(dlib.get_face_chip(rgb, self._shapes(rgb, rect), CHIP_SIZE, CHIP_PADDING))
        return np.array(self._net.compute_face_descriptor(chips), np.float32).reshape(-1, 128)

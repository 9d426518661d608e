"""dlib's HOG frontal-face detector: the license-clean alternative to SCRFD (whose weights are for
non-commercial research only). Slower and frontal-only, but Boost-licensed and shipped in ``dlib-bin``.

Landmarks come from dlib's 5-point shape predictor (CC0), mapped to SCRFD's order (left eye, right eye,
nose, left and right mouth corner). That predictor has no mouth points: the mouth corners are placed at
twice the nose's drop below the eyes, so head-pose filters see roll and yaw but always a pitch of 0.
"""

from __future__ import annotations

import dlib
import numpy as np

from infra import metrics
from infra.settings import InferenceSettings
from schemas.detections import Detections
from streams.models.detectors import face_detections
from streams.models.registry import REGISTRY, verify


class HogFaceDetector:
    name = "dlib-hog"

    def __init__(self, settings: InferenceSettings | None = None) -> None:
        self.settings = settings or InferenceSettings()
        self._detector = dlib.get_frontal_face_detector()
        self._landmarks = dlib.shape_predictor(str(verify(REGISTRY["dlib-shape-predictor-5"], self.settings)))

    def detect(self, images: list[np.ndarray], threshold: float | None = None) -> list[Detections]:
        """Faces per BGR image. HOG scores are SVM margins, not probabilities: they are squashed into
        (0, 1) so that ``face_score_threshold`` keeps one meaning (0.5 is a margin of 0)."""
        threshold = self.settings.face_score_threshold if threshold is None else threshold
        with metrics.INFERENCE_SECONDS.labels("dlib-hog").time():
            return [self._detect(image, threshold) for image in images]

    def _detect(self, image: np.ndarray, threshold: float) -> Detections:
        rgb = np.ascontiguousarray(image[:, :, ::-1])
        rects, margins, _ = self._detector.run(rgb, 1, -1.0)
        boxes, scores, points = [], [], []
        for rect, margin in zip(rects, margins):
            score = float(1 / (1 + np.exp(-margin)))
            if score < threshold:
                continue
            shape = self._landmarks(rgb, rect)
            p = np.array([[shape.part(i).x, shape.part(i).y] for i in range(5)], np.float32)
            # dlib's 5 points: right eye corners (0, 1), left eye corners (2, 3), nose base (4), image left/right.
            left_eye, right_eye, nose = p[2:4].mean(0), p[0:2].mean(0), p[4]
            left_eye, right_eye = sorted((left_eye, right_eye), key=lambda e: e[0])
            across = (right_eye - left_eye) / max(float(np.linalg.norm(right_eye - left_eye)), 1e-6)
            down = np.array([-across[1], across[0]])
            drop = 2 * float(np.dot(nose - (left_eye + right_eye) / 2, down)) * down
            points.append([left_eye, right_eye, nose, left_eye + drop, right_eye + drop])
            boxes.append([rect.left(), rect.top(), rect.right(), rect.bottom()])
            scores.append(score)
        return face_detections(np.array(boxes, np.float32).reshape(-1, 4), np.array(scores, np.float32),
                     np.array(points, np.float32).reshape(-1, 5, 2))

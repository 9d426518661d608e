"""Body descriptors: ImageNet MobileNetV2 bottleneck features (1280-D, L2-normalised, cosine).

Generic image features, NOT trained for re-identification: similarity between them is weak evidence of
the same person (``trained_for_reid`` is False on every descriptor they make).
"""

from __future__ import annotations

import cv2
import numpy as np

from infra.settings import InferenceSettings
from schemas.descriptors import BODY_MOBILENETV2_1280
from streams.models.registry import REGISTRY, load


class BodyExtractor:
    """Person crops to 1280-D unit vectors; the graph's batch axis is dynamic, so a batch runs at once."""

    name = "mobilenetv2-bottleneck"
    descriptor_version = BODY_MOBILENETV2_1280
    trained_for_reid = False
    _MEAN = np.array([0.485, 0.456, 0.406], np.float32) * 255
    _STD = np.array([0.229, 0.224, 0.225], np.float32) * 255

    def __init__(self, settings: InferenceSettings | None = None) -> None:
        self.settings = settings or InferenceSettings()
        self.session = load(self.name, self.settings)
        self.width, self.height = REGISTRY[self.name].input_size

    def describe(self, crops_bgr: list[np.ndarray]) -> np.ndarray:
        """[N, 1280] float32, each row of unit length."""
        if not crops_bgr:
            return np.zeros((0, 1280), np.float32)
        batch = np.empty((len(crops_bgr), 3, self.height, self.width), np.float32)
        for i, crop in enumerate(crops_bgr):
            rgb = cv2.cvtColor(cv2.resize(crop, (self.width, self.height), interpolation=cv2.INTER_LINEAR),
                               cv2.COLOR_BGR2RGB)
            batch[i] = ((rgb.astype(np.float32) - self._MEAN) / self._STD).transpose(2, 0, 1)
        [emb] = self.session.run(batch)
        return (emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)).astype(np.float32)

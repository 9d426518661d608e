"""Person (NanoDet-m) and face (SCRFD) detectors: batched pre-processing, inference and decoding.

Both take BGR images of any size and return boxes in that image's pixels. They hold no per-stream
state, so one instance serves every stream of a worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from infra.settings import InferenceSettings
from streams.models.registry import REGISTRY, load

PERSON_CLASS = 0  # COCO


@dataclass(frozen=True)
class Found:
    """One image's detections: ``boxes`` [N, 4] x1, y1, x2, y2; ``scores`` [N]; ``landmarks`` [N, 5, 2]."""

    boxes: np.ndarray
    scores: np.ndarray
    landmarks: np.ndarray | None = field(default=None)

    def __len__(self) -> int:
        return len(self.scores)


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> np.ndarray:
    """Indices of the boxes NMS keeps, best first."""
    if len(boxes) == 0:
        return np.zeros(0, dtype=int)
    xywh = np.column_stack([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]]).tolist()
    keep = cv2.dnn.NMSBoxes(xywh, scores.tolist(), 0.0, iou)
    return np.asarray(keep, dtype=int).reshape(-1)


class PersonDetector:
    """NanoDet-m (COCO), keeping the person class; GFL decode as in ``models/README.md``."""

    name = "nanodet-m"
    _MEAN = np.array([103.53, 116.28, 123.675], np.float32)
    _STD = np.array([57.375, 57.12, 58.395], np.float32)
    _BINS = 11

    def __init__(self, settings: InferenceSettings | None = None) -> None:
        self.settings = settings or InferenceSettings()
        self.session = load(self.name, self.settings)
        self.width, self.height = REGISTRY[self.name].input_size
        # Outputs come in no stable order: tell them apart by cell count and channel count.
        self._grids = {}
        for stride in (8, 16, 32):
            cells = (self.width // stride) * (self.height // stride)
            ys, xs = np.divmod(np.arange(cells), self.width // stride)
            self._grids[cells] = (stride, (xs + 0.5) * stride, (ys + 0.5) * stride)

    def preprocess(self, images: list[np.ndarray]) -> np.ndarray:
        batch = np.empty((len(images), 3, self.height, self.width), np.float32)
        for i, image in enumerate(images):
            resized = cv2.resize(image, (self.width, self.height), interpolation=cv2.INTER_LINEAR)
            batch[i] = ((resized.astype(np.float32) - self._MEAN) / self._STD).transpose(2, 0, 1)
        return batch

    def detect(self, images: list[np.ndarray], threshold: float | None = None) -> list[Found]:
        """People on each image with a score of at least ``threshold`` (default: the settings')."""
        if not images:
            return []
        threshold = self.settings.person_score_threshold if threshold is None else threshold
        outputs = self.session.run(self.preprocess(images))
        heads: dict[int, dict[int, np.ndarray]] = {}
        for out in outputs:
            heads.setdefault(out.shape[1], {})[out.shape[2]] = out
        return [
            self._decode({cells: (h[80][i], h[4 * self._BINS][i]) for cells, h in heads.items()},
                         images[i].shape, threshold)
            for i in range(len(images))
        ]

    def _decode(self, heads: dict[int, tuple[np.ndarray, np.ndarray]], shape: tuple[int, ...],
                threshold: float) -> Found:
        boxes, scores = [], []
        for cells, (classes, regression) in heads.items():
            stride, cx, cy = self._grids[cells]
            score = classes[:, PERSON_CLASS]
            mask = score >= threshold
            if not mask.any():
                continue
            reg = regression[mask].reshape(-1, 4, self._BINS)
            prob = np.exp(reg - reg.max(-1, keepdims=True))
            prob /= prob.sum(-1, keepdims=True)
            dist = (prob * np.arange(self._BINS, dtype=np.float32)).sum(-1) * stride  # left, top, right, bottom
            x, y = cx[mask], cy[mask]
            boxes.append(np.column_stack([x - dist[:, 0], y - dist[:, 1], x + dist[:, 2], y + dist[:, 3]]))
            scores.append(score[mask])
        if not boxes:
            return Found(np.zeros((0, 4), np.float32), np.zeros(0, np.float32))
        box, score = np.concatenate(boxes), np.concatenate(scores)
        h, w = shape[:2]
        box *= np.array([w / self.width, h / self.height] * 2, np.float32)
        np.clip(box, 0, [w, h, w, h], out=box)
        keep = nms(box, score, self.settings.nms_iou)
        return Found(box[keep], score[keep])


class FaceDetector:
    """SCRFD with 5 landmarks (eyes, nose, mouth corners). Weights: non-commercial research use only."""

    name = "scrfd"
    _ANCHORS = 2

    def __init__(self, settings: InferenceSettings | None = None) -> None:
        self.settings = settings or InferenceSettings()
        self.session = load(self.name, self.settings)
        self.size = REGISTRY[self.name].input_size[0]
        self._centres = {}
        for stride in (8, 16, 32):
            g = self.size // stride
            ys, xs = np.mgrid[:g, :g]
            centres = np.stack([xs, ys], -1).reshape(-1, 2).astype(np.float32) * stride
            self._centres[stride] = np.repeat(centres, self._ANCHORS, axis=0)
        names = self.session.output_names
        self._index = {(kind, stride): names.index(f"{kind}_{stride}")
                       for kind in ("score", "bbox", "kps") for stride in (8, 16, 32)}

    def preprocess(self, images: list[np.ndarray]) -> tuple[np.ndarray, list[float]]:
        """Letterboxed batch (image at the top-left, aspect kept) and each image's scale back to pixels."""
        batch = np.zeros((len(images), 3, self.size, self.size), np.float32)
        scales = []
        for i, image in enumerate(images):
            h, w = image.shape[:2]
            scale = self.size / max(h, w)
            nw, nh = max(1, int(w * scale)), max(1, int(h * scale))
            rgb = cv2.cvtColor(cv2.resize(image, (nw, nh)), cv2.COLOR_BGR2RGB)
            batch[i, :, :nh, :nw] = ((rgb.astype(np.float32) - 127.5) / 128).transpose(2, 0, 1)
            scales.append(1 / scale)
        return batch, scales

    def detect(self, images: list[np.ndarray], threshold: float | None = None) -> list[Found]:
        if not images:
            return []
        threshold = self.settings.face_score_threshold if threshold is None else threshold
        batch, scales = self.preprocess(images)
        outputs = self.session.run(batch)
        found = []
        for i, scale in enumerate(scales):
            boxes, scores, points = [], [], []
            for stride, centres in self._centres.items():
                score = outputs[self._index["score", stride]][i].reshape(-1)
                mask = score >= threshold
                if not mask.any():
                    continue
                c = centres[mask]
                d = outputs[self._index["bbox", stride]][i].reshape(-1, 4)[mask] * stride
                k = outputs[self._index["kps", stride]][i].reshape(-1, 5, 2)[mask] * stride
                boxes.append(np.column_stack([c - d[:, :2], c + d[:, 2:]]))
                points.append(k + c[:, None, :])
                scores.append(score[mask])
            if not boxes:
                found.append(Found(np.zeros((0, 4), np.float32), np.zeros(0, np.float32),
                                   np.zeros((0, 5, 2), np.float32)))
                continue
            box, score, pts = np.concatenate(boxes) * scale, np.concatenate(scores), np.concatenate(points) * scale
            keep = nms(box, score, 0.4)
            found.append(Found(box[keep], score[keep], pts[keep]))
        return found

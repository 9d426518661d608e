"""Person (NanoDet-m) and face (SCRFD) detectors: batched pre-processing, inference and decoding.

Both take BGR images of any size and return, per image, ``Detections`` in that image's pixels (faces
with their five landmarks in ``data["landmarks"]``, (N, 5, 2)). They hold no per-stream state, so one
instance serves every stream of a worker.
"""

from __future__ import annotations

import cv2
import numpy as np

from infra.settings import InferenceSettings
from schemas.detections import Detections
from streams.models.registry import REGISTRY, load

PERSON_CLASS = 0  # COCO


def face_detections(boxes: np.ndarray, scores: np.ndarray, landmarks: np.ndarray) -> Detections:
    """One image's faces: boxes [N, 4] x1, y1, x2, y2, scores [N], landmarks [N, 5, 2]."""
    return Detections(boxes, scores, "face", data={"landmarks": np.asarray(landmarks, np.float32).reshape(-1, 5, 2)})


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> np.ndarray:
    """Indices of the boxes NMS keeps, best first."""
    if len(boxes) == 0:
        return np.zeros(0, dtype=int)
    xywh = np.column_stack([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]]).tolist()
    keep = cv2.dnn.NMSBoxes(xywh, scores.tolist(), 0.0, iou)
    return np.asarray(keep, dtype=int).reshape(-1)


class PersonDetector:
    """NanoDet-m (COCO), keeping the person class; GFL decode as in ``models/README.md``.

    With ``person_tiles`` >= 2 each frame is seen as square tiles of side min(width, height) spread evenly
    along its longer side (a 768x576 frame: x 0-576 and 192-768), each scaled to 416x416: the aspect ratio
    is kept and small people get 1.33x the pixels of the whole frame squeezed into 416x416, for one
    inference per tile. A box touching a tile's inner border is dropped when another tile holds it whole;
    the tiles' boxes then go through one NMS. ``person_tiles`` 1: the whole frame stretched to 416x416.
    """

    name = "nanodet-m"
    _MEAN = np.array([103.53, 116.28, 123.675], np.float32)
    _STD = np.array([57.375, 57.12, 58.395], np.float32)
    _BINS = 11
    _EDGE = 4  # px (frame): a box this close to a tile's inner border is cut by it

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

    def tiles(self, shape: tuple[int, ...]) -> list[tuple[int, int, int, int]]:
        """The regions (x1, y1, x2, y2, frame pixels) NanoDet sees of a frame of this shape."""
        h, w = shape[:2]
        wanted = self.settings.person_tiles
        if wanted <= 1 or h == w:
            return [(0, 0, w, h)]
        side, long = min(h, w), max(h, w)
        count = max(wanted, -(-long // side))
        starts = np.linspace(0, long - side, count).round().astype(int).tolist()
        return [(s, 0, s + side, h) if w > h else (0, s, w, s + side) for s in starts]

    def preprocess(self, images: list[np.ndarray]) -> np.ndarray:
        """One 416x416 view per tile of each image, images in order."""
        views = [image[y1:y2, x1:x2] for image in images for x1, y1, x2, y2 in self.tiles(image.shape)]
        batch = np.empty((len(views), 3, self.height, self.width), np.float32)
        for i, view in enumerate(views):
            resized = cv2.resize(view, (self.width, self.height), interpolation=cv2.INTER_LINEAR)
            batch[i] = ((resized.astype(np.float32) - self._MEAN) / self._STD).transpose(2, 0, 1)
        return batch

    def detect(self, images: list[np.ndarray], threshold: float | None = None) -> list[Detections]:
        """People on each image with a score of at least ``threshold`` (default: the settings')."""
        if not images:
            return []
        threshold = self.settings.person_score_threshold if threshold is None else threshold
        outputs = self.session.run(self.preprocess(images))
        heads: dict[int, dict[int, np.ndarray]] = {}
        for out in outputs:
            heads.setdefault(out.shape[1], {})[out.shape[2]] = out
        found, view = [], 0
        for image in images:
            tiles = self.tiles(image.shape)
            boxes, scores = [], []
            for tile in tiles:
                box, score = self._decode({cells: (h[80][view], h[4 * self._BINS][view]) for cells, h in heads.items()},
                                          tile, threshold)
                keep = self._whole_here(box, tile, tiles, image.shape)
                boxes.append(box[keep])
                scores.append(score[keep])
                view += 1
            box, score = np.concatenate(boxes), np.concatenate(scores)
            keep = nms(box, score, self.settings.nms_iou)
            found.append(Detections(box[keep], score[keep], "person"))
        return found

    def _whole_here(self, box: np.ndarray, tile: tuple[int, int, int, int],
                    tiles: list[tuple[int, int, int, int]], shape: tuple[int, ...]) -> np.ndarray:
        """Mask of the boxes to keep: not cut by an inner border of the tile, or held whole by no other tile."""
        keep = np.ones(len(box), bool)
        if len(tiles) == 1:
            return keep
        h, w = shape[:2]
        x1, y1, x2, y2 = tile
        cut = np.zeros(len(box), bool)
        for side, edge, inner in ((0, x1, x1 > 0), (1, y1, y1 > 0)):
            if inner:
                cut |= box[:, side] <= edge + self._EDGE
        for side, edge, inner in ((2, x2, x2 < w), (3, y2, y2 < h)):
            if inner:
                cut |= box[:, side] >= edge - self._EDGE
        for i in np.flatnonzero(cut):
            b = box[i]
            keep[i] = not any(
                other != tile and (b[0] > other[0] + self._EDGE or other[0] == 0)
                and (b[2] < other[2] - self._EDGE or other[2] == w)
                and (b[1] > other[1] + self._EDGE or other[1] == 0)
                and (b[3] < other[3] - self._EDGE or other[3] == h)
                for other in tiles
            )
        return keep

    def _decode(self, heads: dict[int, tuple[np.ndarray, np.ndarray]], tile: tuple[int, int, int, int],
                threshold: float) -> tuple[np.ndarray, np.ndarray]:
        """One view's boxes (frame pixels, clipped to its tile) and scores, before NMS."""
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
            return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
        box, score = np.concatenate(boxes).astype(np.float32), np.concatenate(scores).astype(np.float32)
        x1, y1, x2, y2 = tile
        box *= np.array([(x2 - x1) / self.width, (y2 - y1) / self.height] * 2, np.float32)
        box += np.array([x1, y1, x1, y1], np.float32)
        np.clip(box, [x1, y1, x1, y1], [x2, y2, x2, y2], out=box)
        return box, score


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

    def detect(self, images: list[np.ndarray], threshold: float | None = None) -> list[Detections]:
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
                found.append(face_detections(np.zeros((0, 4)), np.zeros(0), np.zeros((0, 5, 2))))
                continue
            box, score, pts = np.concatenate(boxes) * scale, np.concatenate(scores), np.concatenate(points) * scale
            keep = nms(box, score, 0.4)
            found.append(face_detections(box[keep], score[keep], pts[keep]))
        return found

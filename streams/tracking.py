"""Processor detections -> tracks: ByteTrack-style association, one tracker per stream and object kind.

Association follows ByteTrack: confident detections are matched first (Hungarian on a similarity of
predicted box and detection), weak ones (between the low and high score thresholds) only extend tracks
left unmatched, and only confident ones start tracks, so a weak false positive never becomes an object.
The similarity is IoU, falling back to centre distance so that tracks survive the low processing rates
of people counting (every 10th frame), where a walker's boxes on consecutive processed frames barely
overlap. Motion is a damped constant velocity per processed frame.

A track whose box never moves more than ``static_shift`` box heights over ``static_frames`` processed
frames is flagged ``moving=False`` (a sign post seen as a person); analytics skip such tracks.

Detections come in and tracks go out as ``Detections``; a track carries the data columns of the
detection it last matched (``detection_id``, ``landmarks``, ``crop``) as the tracks schema says.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import faust
import numpy as np

from infra.logs import for_stream
from infra.settings import InferenceSettings, TrackingSettings
from schemas.detections import DetectionBatch, Detections, objects
from schemas.topics import DETECTIONS, TRACKS
from schemas.tracks import TrackUpdate
from streams.configs import PerStream
from streams.processor import Publish, each, processor

PROCESSOR = "tracking"
CONFIRM_HITS = 2  # ByteTrack activates a track on its second detection

log = logging.getLogger(__name__)


CARRIED = ("detection_id", "landmarks", "crop")  # columns a track takes from its matched detection


def similarity(tracks: np.ndarray, dets: np.ndarray) -> np.ndarray:
    """[T, D] similarity: IoU where boxes overlap, else up to 0.5 falling with centre distance
    (0 at one track-box height apart)."""
    if len(tracks) == 0 or len(dets) == 0:
        return np.zeros((len(tracks), len(dets)))
    t, d = tracks[:, None, :], dets[None, :, :]
    w = np.clip(np.minimum(t[..., 2], d[..., 2]) - np.maximum(t[..., 0], d[..., 0]), 0, None)
    h = np.clip(np.minimum(t[..., 3], d[..., 3]) - np.maximum(t[..., 1], d[..., 1]), 0, None)
    inter = w * h
    area_t = (t[..., 2] - t[..., 0]) * (t[..., 3] - t[..., 1])
    area_d = (d[..., 2] - d[..., 0]) * (d[..., 3] - d[..., 1])
    iou = inter / np.maximum(area_t + area_d - inter, 1e-9)
    centre_t = (t[..., :2] + t[..., 2:]) / 2
    centre_d = (d[..., :2] + d[..., 2:]) / 2
    dist = np.linalg.norm(centre_t - centre_d, axis=-1) / np.maximum(t[..., 3] - t[..., 1], 1e-9)
    return np.where(iou > 0, np.maximum(iou, 0.5 * np.clip(1 - dist, 0, None)), 0.5 * np.clip(1 - dist, 0, None))


def _match(sim: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    if sim.size == 0:
        return []
    from scipy.optimize import linear_sum_assignment  # here: SciPy takes ~1 s to import, and the API seldom tracks

    rows, cols = linear_sum_assignment(-sim)
    return [(r, c) for r, c in zip(rows, cols) if sim[r, c] >= threshold]


@dataclass
class _Track:
    track_id: str
    kind: str
    box: np.ndarray
    score: float
    origin: np.ndarray
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(4))
    hits: int = 1
    age: int = 0
    missed: int = 0
    moved: bool = False
    detection: dict[str, Any] | None = None  # the matched detection's data columns, while it is current

    def predicted(self) -> np.ndarray:
        return self.box + self.velocity * (self.missed + 1)

    def update(self, box: np.ndarray, score: float, detection: dict[str, Any], shift: float) -> None:
        self.velocity = 0.5 * self.velocity + 0.5 * (box - self.box) / (self.missed + 1)
        self.box, self.score, self.detection = box, score, detection
        self.hits += 1
        self.missed = 0
        centre = (box[:2] + box[2:]) / 2
        height = max(box[3] - box[1], 1.0)
        if np.linalg.norm(centre - self.origin) / height >= shift:
            self.moved = True


class KindTracker:
    """Tracks of one object kind on one stream."""

    def __init__(self, kind: str, high_score: float, settings: TrackingSettings) -> None:
        self.kind = kind
        self.high_score = high_score
        self.settings = settings
        self.tracks: list[_Track] = []

    def end(self) -> Detections:
        """The video is over: every confirmed track ends here, and the tentative ones are dropped."""
        ended = self._rows([(t, "ended") for t in self.tracks if t.hits >= CONFIRM_HITS])
        self.tracks = []
        return ended

    def update(self, detections: Detections) -> Detections:
        s = self.settings
        dets = detections[detections.kinds == self.kind]
        boxes = dets.xyxy.astype(np.float64)
        scores = dets.scores.astype(np.float64)
        high = np.flatnonzero(scores >= self.high_score)
        low = np.flatnonzero(scores < self.high_score)
        for t in self.tracks:
            t.age += 1
            t.detection = None
        predicted = np.array([t.predicted() for t in self.tracks]).reshape(-1, 4)
        matched: set[int] = set()

        def take(ti: int, di: int) -> None:
            row = {k: dets.data[k][di] for k in CARRIED if k in dets.data}
            self.tracks[ti].update(boxes[di], float(scores[di]), row, s.static_shift)
            matched.add(ti)

        first = _match(similarity(predicted, boxes[high]), s.match_threshold)
        for ti, hi in first:
            take(ti, high[hi])
        rest = [i for i in range(len(self.tracks)) if i not in matched and self.tracks[i].hits >= CONFIRM_HITS]
        second = _match(similarity(predicted[rest], boxes[low]), max(s.match_threshold, 0.5))
        for ri, li in second:
            take(rest[ri], low[li])
        used = {hi for _, hi in first}
        out: list[tuple[_Track, str]] = []
        kept: list[_Track] = []
        for i, t in enumerate(self.tracks):
            if i not in matched:
                t.missed += 1
                # A tentative track that misses a frame was noise; a confirmed one is awaited a while.
                if t.hits < CONFIRM_HITS or t.missed > s.lost_frames:
                    if t.hits >= CONFIRM_HITS:
                        out.append((t, "ended"))
                    continue
            kept.append(t)
        for hi, di in enumerate(high):
            if hi not in used:
                box = boxes[di]
                kept.append(_Track(str(uuid.uuid4()), self.kind, box, float(scores[di]), (box[:2] + box[2:]) / 2,
                                   detection={k: dets.data[k][di] for k in CARRIED if k in dets.data}))
        self.tracks = kept
        for t in kept:
            out.append((t, "lost" if t.missed else ("confirmed" if t.hits >= CONFIRM_HITS else "tentative")))
        return self._rows(out)

    def _rows(self, tracks: list[tuple[_Track, str]]) -> Detections:
        carried = {k: objects(t.detection.get(k) if t.detection else None for t, _ in tracks) for k in CARRIED}
        return Detections(
            [t.box if t.detection is not None else t.predicted() for t, _ in tracks],
            [t.score for t, _ in tracks], [t.kind for t, _ in tracks], [t.track_id for t, _ in tracks],
            {"state": objects(state for _, state in tracks),
             "age_frames": np.array([t.age for t, _ in tracks], np.int64),
             "moving": np.array([t.moved or t.age < self.settings.static_frames for t, _ in tracks], bool),
             **carried},
        )


class StreamTracker:
    """All tracks of one stream version: people and faces tracked apart."""

    def __init__(self, settings: TrackingSettings, inference: InferenceSettings) -> None:
        self.kinds = {
            "person": KindTracker("person", inference.person_score_threshold, settings),
            "face": KindTracker("face", inference.face_score_threshold, settings),
        }

    def update(self, batch: DetectionBatch) -> TrackUpdate:
        if batch.end_of_stream:
            tracks = Detections.merge(tracker.end() for tracker in self.kinds.values())
        else:
            tracks = Detections.merge(tracker.update(batch.detections) for tracker in self.kinds.values())
        return TrackUpdate.for_frame(batch, tracks=tracks, end_of_stream=batch.end_of_stream, overview=batch.overview)


class Trackers:
    """Per-stream trackers of one worker; a new stream version starts from no tracks."""

    def __init__(self, settings: TrackingSettings | None = None, inference: InferenceSettings | None = None):
        self.settings = settings or TrackingSettings()
        self.inference = inference or InferenceSettings()
        self.streams: PerStream[None, StreamTracker] = PerStream(self._build)  # tracks depend on no setup

    def _build(self, stream_id: UUID, version: int, _: None) -> StreamTracker:
        for_stream(log, stream_id, version=version).info("tracking started")
        return StreamTracker(self.settings, self.inference)

    def update(self, batch: DetectionBatch) -> TrackUpdate | None:
        """The stream's tracks on this frame; None for a frame of an older stream version (dropped)."""
        tracker, _ = self.streams.get(batch, None)
        return tracker.update(batch) if tracker is not None else None


def register(app: faust.App, settings: TrackingSettings | None = None,
             inference: InferenceSettings | None = None) -> None:
    trackers = Trackers(settings, inference)

    def logic(batch: DetectionBatch) -> list[Publish]:
        update = trackers.update(batch)
        return [] if update is None else [Publish(TRACKS, update.stream_id, update)]

    processor(app, PROCESSOR, DETECTIONS, DetectionBatch, each(logic), outputs=(TRACKS,))

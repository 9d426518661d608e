"""Processor detections -> tracks: ByteTrack-style association, one tracker per stream and object kind.

Association follows ByteTrack: confident detections are matched first (Hungarian on a similarity of
predicted box and detection), weak ones (between the low and high score thresholds) only extend tracks
left unmatched, and only confident ones start tracks, so a weak false positive never becomes an object.
The similarity is IoU, falling back to centre distance so that tracks survive the low processing rates
of people counting (every 10th frame), where a walker's boxes on consecutive processed frames barely
overlap. Motion is a damped constant velocity per processed frame.

A track whose box never moves more than ``static_shift`` box heights over ``static_frames`` processed
frames is flagged ``moving=False`` (a sign post seen as a person); analytics skip such tracks.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from uuid import UUID

import faust
import numpy as np
from scipy.optimize import linear_sum_assignment

from infra.dead_letter import validated
from infra.logs import for_stream
from infra.settings import InferenceSettings, TrackingSettings
from schemas.detections import BoundingBox, Detection, DetectionBatch
from schemas.topics import DETECTIONS, TRACKS
from schemas.tracks import TrackedObject, TrackUpdate
from streams.app import dead_letter_topic, topic

PROCESSOR = "tracking"
CONFIRM_HITS = 2  # ByteTrack activates a track on its second detection

log = logging.getLogger(__name__)


def _xyxy(box: BoundingBox) -> np.ndarray:
    return np.array([box.x, box.y, box.x2, box.y2], dtype=np.float64)


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
    detection: Detection | None = None

    def predicted(self) -> np.ndarray:
        return self.box + self.velocity * (self.missed + 1)

    def update(self, detection: Detection, shift: float) -> None:
        box = _xyxy(detection.bbox)
        self.velocity = 0.5 * self.velocity + 0.5 * (box - self.box) / (self.missed + 1)
        self.box, self.score, self.detection = box, detection.score, detection
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

    def end(self) -> list[TrackedObject]:
        """The video is over: every confirmed track ends here, and the tentative ones are dropped."""
        ended = [self._object(t, "ended") for t in self.tracks if t.hits >= CONFIRM_HITS]
        self.tracks = []
        return ended

    def update(self, detections: list[Detection]) -> list[TrackedObject]:
        s = self.settings
        dets = [d for d in detections if d.kind == self.kind]
        high = [d for d in dets if d.score >= self.high_score]
        low = [d for d in dets if d.score < self.high_score]
        for t in self.tracks:
            t.age += 1
            t.detection = None
        predicted = np.array([t.predicted() for t in self.tracks]).reshape(-1, 4)
        matched: set[int] = set()
        first = _match(similarity(predicted, np.array([_xyxy(d.bbox) for d in high]).reshape(-1, 4)),
                       s.match_threshold)
        for ti, di in first:
            self.tracks[ti].update(high[di], s.static_shift)
            matched.add(ti)
        rest = [i for i in range(len(self.tracks)) if i not in matched and self.tracks[i].hits >= CONFIRM_HITS]
        second = _match(similarity(predicted[rest], np.array([_xyxy(d.bbox) for d in low]).reshape(-1, 4)),
                        max(s.match_threshold, 0.5))
        for ri, di in second:
            self.tracks[rest[ri]].update(low[di], s.static_shift)
            matched.add(rest[ri])
        used = {di for _, di in first}
        out: list[TrackedObject] = []
        kept: list[_Track] = []
        for i, t in enumerate(self.tracks):
            if i not in matched:
                t.missed += 1
                # A tentative track that misses a frame was noise; a confirmed one is awaited a while.
                if t.hits < CONFIRM_HITS or t.missed > s.lost_frames:
                    if t.hits >= CONFIRM_HITS:
                        out.append(self._object(t, "ended"))
                    continue
            kept.append(t)
        for di, d in enumerate(high):
            if di not in used:
                box = _xyxy(d.bbox)
                kept.append(_Track(str(uuid.uuid4()), self.kind, box, d.score, (box[:2] + box[2:]) / 2,
                                   detection=d))
        self.tracks = kept
        for t in kept:
            state = "lost" if t.missed else ("confirmed" if t.hits >= CONFIRM_HITS else "tentative")
            out.append(self._object(t, state))
        return out

    def _object(self, t: _Track, state: str) -> TrackedObject:
        box = t.box if t.detection is not None else t.predicted()
        d = t.detection
        return TrackedObject(
            track_id=t.track_id,
            kind=t.kind,
            bbox=BoundingBox.from_xyxy(*box),
            score=t.score,
            state=state,
            age_frames=t.age,
            moving=t.moved or t.age < self.settings.static_frames,
            detection_id=d.detection_id if d else None,
            landmarks=d.landmarks if d else [],
            crop=d.crop if d else None,
        )


class StreamTracker:
    """All tracks of one stream version: people and faces tracked apart."""

    def __init__(self, version: int, settings: TrackingSettings, inference: InferenceSettings) -> None:
        self.version = version
        self.kinds = {
            "person": KindTracker("person", inference.person_score_threshold, settings),
            "face": KindTracker("face", inference.face_score_threshold, settings),
        }

    def update(self, batch: DetectionBatch) -> TrackUpdate:
        if batch.end_of_stream:
            tracks = [obj for tracker in self.kinds.values() for obj in tracker.end()]
        else:
            tracks = [obj for tracker in self.kinds.values() for obj in tracker.update(batch.detections)]
        return TrackUpdate(
            stream_id=batch.stream_id, version=batch.version, frame_number=batch.frame_number,
            time_offset=batch.time_offset, timestamp=batch.timestamp, width=batch.width, height=batch.height,
            tracks=tracks, end_of_stream=batch.end_of_stream, overview=batch.overview,
        )


class Trackers:
    """Per-stream trackers of one worker; a new stream version starts from no tracks."""

    def __init__(self, settings: TrackingSettings | None = None, inference: InferenceSettings | None = None):
        self.settings = settings or TrackingSettings()
        self.inference = inference or InferenceSettings()
        self.streams: dict[UUID, StreamTracker] = {}

    def update(self, batch: DetectionBatch) -> TrackUpdate | None:
        """The stream's tracks on this frame; None for a frame of an older stream version (dropped)."""
        tracker = self.streams.get(batch.stream_id)
        if tracker is not None and batch.version < tracker.version:
            return None
        if tracker is None or batch.version > tracker.version:
            tracker = self.streams[batch.stream_id] = StreamTracker(batch.version, self.settings, self.inference)
            for_stream(log, batch.stream_id, version=batch.version).info("tracking started")
        return tracker.update(batch)


def register(app: faust.App, settings: TrackingSettings | None = None,
             inference: InferenceSettings | None = None) -> None:
    tracks_topic = topic(app, TRACKS)
    dead_letters = dead_letter_topic(app)
    trackers = Trackers(settings, inference)

    @app.agent(topic(app, DETECTIONS), name=PROCESSOR)
    async def tracking(stream: faust.StreamT) -> None:
        async for event in stream.events():
            batch = await validated(dead_letters, event, DetectionBatch, PROCESSOR)
            if batch is None:
                continue
            update = trackers.update(batch)
            if update is not None:
                await tracks_topic.send(key=str(update.stream_id).encode(), value=update.model_dump_json().encode())

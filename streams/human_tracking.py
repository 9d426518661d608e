"""Processor tracks -> human-tracking events: LUNA's track lifecycle, best shots, one event per track.

A LUNA track starts when its object is detected on ``probe_count`` consecutive processed frames (on the
last of them; detections on 2 frames then none on the 3rd, with probe 3, start nothing) and ends when
detections stop, i.e. when the tracker gives the track up after its lost period (TrackEngine's
``skip_frames``). The event is published when the track starts and again, complete, when it ends.

Best shots are the ``face_samples`` / ``body_samples`` ``count`` highest-scoring detections of the track
that pass ``best_shot_filters``: a minimum score and, for faces, head-pose limits estimated from the five
landmarks (a rough geometric estimate, good enough to drop profiles and tilted heads).

When the stream wants descriptors (``face_descriptor``/``body_descriptor`` targets or a ``match_policy``),
an ended track's best shots also go, with their JPEG crops, to the best-shots topic for extraction; the
analytics event carries the crops only with the ``best_shot_images`` target.

When the time offsets go backwards (``streams.timeline``), every started track ends at its last offset
before the jump; a track still in view starts a new event on the new timeline after ``probe_count``
frames.
"""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

import faust
import numpy as np

from infra.logs import for_stream
from schemas.analytics import BestShotFilters, HumanTrackingParameters
from schemas.events import (
    AnalyticsEventMessage,
    BestShot,
    HumanTrackingEvent,
    HumanTrackingFrameEstimation,
    VideoSegment,
)
from schemas.rate import RateGate
from schemas.recognition import BestShotsMessage
from schemas.topics import ANALYTICS_EVENTS, BEST_SHOTS, TRACKS
from schemas.tracks import TrackUpdate, detected
from streams.configs import PerStream, StreamSetup, stream_configs
from streams.geometry import Regions
from streams.processor import Publish, each, processor
from streams.timeline import Timeline

PROCESSOR = "human_tracking"
ANALYTIC = "human_tracking"
KINDS = {"body": {"person"}, "face": {"face"}, "face_body": {"person", "face"}}

log = logging.getLogger(__name__)


def head_pose(landmarks: np.ndarray) -> tuple[float, float, float]:
    """(pitch, roll, yaw) in degrees from eyes, nose and mouth corners ([5, 2]: x, y); 0 is a frontal,
    upright face."""
    (lex, ley), (rex, rey), (nx, ny), (_, lmy), (_, rmy) = np.asarray(landmarks, float)[:5].tolist()
    dx, dy = rex - lex, rey - ley
    eye_distance = max(math.hypot(dx, dy), 1e-6)
    roll = math.degrees(math.atan2(dy, dx))
    eyes_x, eyes_y = (lex + rex) / 2, (ley + rey) / 2
    mouth_y = (lmy + rmy) / 2
    yaw = math.degrees(math.asin(max(-1.0, min(1.0, 2 * (nx - eyes_x) / eye_distance))))
    ratio = (ny - eyes_y) / max(mouth_y - eyes_y, 1e-6)  # about 0.5 on a frontal face
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, 2 * (ratio - 0.5)))))
    return pitch, roll, yaw


def passes(kind: str, score: float, landmarks: np.ndarray | None, filters: BestShotFilters) -> bool:
    if filters.score is not None and score < filters.score:
        return False
    limits = (filters.head_pitch, filters.head_roll, filters.head_yaw)
    if kind != "face" or all(limit is None for limit in limits):
        return True
    if landmarks is None or len(landmarks) < 5:
        return False
    return all(limit is None or abs(angle) <= limit for angle, limit in zip(head_pose(landmarks), limits))


@dataclass
class _Track:
    kind: str
    streak: int = 0
    event: HumanTrackingEvent | None = None
    create_time: datetime | None = None
    estimations: list[HumanTrackingFrameEstimation] = field(default_factory=list)
    shots: list[BestShot] = field(default_factory=list)


class HumanTracker:
    """One ``human_tracking`` analytic of one stream version."""

    def __init__(self, stream_id: UUID, account_id: UUID, version: int, index: int,
                 params: HumanTrackingParameters) -> None:
        self.stream_id, self.account_id, self.version, self.index = stream_id, account_id, version, index
        self.params = params
        self.kinds = KINDS[params.detector_type]
        self.gate = RateGate(params.rate)
        self.regions = Regions(params.roi, params.droi)
        self.tracks: dict[str, _Track] = {}
        self.track_count = 0
        self.keep_images = "best_shot_images" in params.targets
        self.extracts = params.extracts_face_descriptor or "body_descriptor" in params.targets
        self.timeline = Timeline()

    def _public(self, event: HumanTrackingEvent) -> HumanTrackingEvent:
        """The event as the stream asked for it: crops only with the best_shot_images target."""
        if self.keep_images:
            return event
        shots = [shot.model_copy(update={"image": None}) for shot in event.best_shots]
        return event.model_copy(update={"best_shots": shots})

    def _message(self, event: HumanTrackingEvent, create_time: datetime,
                 end_time: datetime | None) -> AnalyticsEventMessage:
        return AnalyticsEventMessage(
            event_id=event.event_id, stream_id=self.stream_id, account_id=self.account_id, version=self.version,
            analytic_name=ANALYTIC, analytic_index=self.index, event_type="human_tracking",
            create_time=create_time, end_time=end_time, event=self._public(event),
        )

    def _best_shot(self, state: _Track, update: TrackUpdate, i: int) -> None:
        objects, score = update.tracks, float(update.tracks.scores[i])
        kind = "face" if objects.kinds[i] == "face" else "body"
        if not passes(objects.kinds[i], score, objects.data["landmarks"][i], self.params.best_shot_filters):
            return
        samples = self.params.face_samples if kind == "face" else self.params.body_samples
        image = objects.data["crop"][i] if self.keep_images or self.extracts else None
        state.shots.append(BestShot(kind=kind, time_offset=update.time_offset, bbox=objects.box(i), score=score,
                                    image=image))
        state.shots = sorted(state.shots, key=lambda s: -s.score)[: samples.count]

    def process(self, update: TrackUpdate) -> list[AnalyticsEventMessage | BestShotsMessage]:
        if update.end_of_stream:
            return self.finish(update.time_offset, update.timestamp)
        last = self.timeline.jumped_back(update.time_offset)
        messages = self.finish(last, update.timestamp) if last is not None else []
        if not self.gate.due(update.frame_number, update.time_offset):
            return messages
        tracks = update.tracks
        seen = detected(tracks) & tracks.data["moving"] & self.regions.inside(tracks, update.width, update.height)
        for i, (track_id, kind, track_state) in enumerate(zip(tracks.track_ids, tracks.kinds, tracks.data["state"])):
            if kind not in self.kinds:
                continue
            if track_state == "ended":
                state = self.tracks.pop(track_id, None)
                if state is not None and state.event is not None:
                    messages += self._end(state, update.time_offset, update.timestamp)
                continue
            state = self.tracks.setdefault(track_id, _Track(kind))
            if not seen[i]:
                if state.event is None:
                    state.streak, state.estimations, state.shots = 0, [], []
                continue
            state.streak += 1
            state.estimations.append(HumanTrackingFrameEstimation(
                time_offset=update.time_offset, bbox=tracks.box(i), score=float(tracks.scores[i])))
            self._best_shot(state, update, i)
            if state.event is None and state.streak >= self.params.probe_count:
                self.track_count += 1
                state.create_time = update.timestamp
                state.event = HumanTrackingEvent(
                    event_id=uuid.uuid4(), track_id=track_id,
                    video_segment=VideoSegment(start_time_offset=state.estimations[0].time_offset,
                                               end_time_offset=update.time_offset),
                    frames_estimations=list(state.estimations), best_shots=list(state.shots),
                    track_count=self.track_count, event_status="started",
                )
                messages.append(self._message(state.event, update.timestamp, None))
        # Tracks the tracker no longer reports (never confirmed) are forgotten.
        present = set(tracks.track_ids)
        for track_id in [t for t, s in self.tracks.items() if t not in present and s.event is None]:
            del self.tracks[track_id]
        return messages

    def _end(self, state: _Track, time_offset: float, timestamp: datetime) -> list[AnalyticsEventMessage | BestShotsMessage]:
        assert state.event is not None and state.create_time is not None
        last = state.estimations[-1].time_offset if state.estimations else time_offset
        event = state.event.model_copy(update={
            "video_segment": VideoSegment(start_time_offset=state.event.video_segment.start_time_offset,
                                          end_time_offset=last),
            "frames_estimations": state.estimations, "best_shots": state.shots,
            "track_count": self.track_count, "event_status": "ended",
        })
        ended: list[AnalyticsEventMessage | BestShotsMessage] = [self._message(event, state.create_time, timestamp)]
        if self.extracts and any(shot.image for shot in event.best_shots):
            with_crops = ended[0].model_copy(update={"event": event})
            ended.append(BestShotsMessage(
                stream_id=self.stream_id, event=with_crops, keep_images=self.keep_images,
                face_descriptor=self.params.extracts_face_descriptor,
                body_descriptor="body_descriptor" in self.params.targets, match_policy=self.params.match_policy,
            ))
        return ended

    def finish(self, time_offset: float, timestamp: datetime) -> list[AnalyticsEventMessage | BestShotsMessage]:
        """End every started track: the video is over or the stream version changed."""
        ended = [m for s in self.tracks.values() if s.event is not None for m in self._end(s, time_offset, timestamp)]
        self.tracks.clear()
        return ended


class HumanTrackers:
    """The human-tracking analytics of every stream a worker sees, built again when a stream's setup or
    version changes (ending the tracks the old ones had started)."""

    def __init__(self) -> None:
        self.streams: PerStream[StreamSetup, list[HumanTracker]] = PerStream(self._build)

    @staticmethod
    def _build(stream_id: UUID, version: int, setup: StreamSetup) -> list[HumanTracker]:
        trackers = [HumanTracker(stream_id, setup.account_id, version, i, p)
                    for i, p in setup.of(HumanTrackingParameters)]
        for_stream(log, stream_id, version=version).info(
            "human tracking configured", extra={"analytics": [t.index for t in trackers]})
        return trackers

    def process(self, update: TrackUpdate, setup: StreamSetup) -> list[AnalyticsEventMessage | BestShotsMessage]:
        trackers, replaced = self.streams.get(update, setup)
        messages = [m for tracker in replaced or () for m in tracker.finish(update.time_offset, update.timestamp)]
        for tracker in trackers or ():
            messages += tracker.process(update)
        return messages


def register(app: faust.App) -> None:
    configs = stream_configs(app)
    trackers = HumanTrackers()

    def logic(update: TrackUpdate) -> list[Publish]:
        return [Publish(BEST_SHOTS if isinstance(m, BestShotsMessage) else ANALYTICS_EVENTS, update.stream_id, m)
                for m in trackers.process(update, configs.get(update.stream_id))]

    processor(app, PROCESSOR, TRACKS, TrackUpdate, each(logic), outputs=(ANALYTICS_EVENTS, BEST_SHOTS),
              configs=configs)

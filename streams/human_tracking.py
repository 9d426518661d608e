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
"""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

import faust

from infra.dead_letter import validated
from infra.logs import for_stream
from schemas.analytics import BestShotFilters, HumanTrackingParameters
from schemas.detections import Landmark
from schemas.events import (
    AnalyticsEventMessage,
    BestShot,
    HumanTrackingEvent,
    HumanTrackingFrameEstimation,
    VideoSegment,
)
from schemas.rate import RateGate
from schemas.recognition import BestShotsMessage
from schemas.streams import StreamConfig
from schemas.topics import ANALYTICS_EVENTS, BEST_SHOTS, TRACKS
from schemas.tracks import TrackedObject, TrackUpdate
from streams.app import dead_letter_topic, topic
from streams.configs import NO_ACCOUNT, human_tracking_analytics, stream_configs
from streams.geometry import in_droi, in_roi

PROCESSOR = "human_tracking"
ANALYTIC = "human_tracking"
KINDS = {"body": {"person"}, "face": {"face"}, "face_body": {"person", "face"}}

log = logging.getLogger(__name__)


def head_pose(landmarks: list[Landmark]) -> tuple[float, float, float]:
    """(pitch, roll, yaw) in degrees from eyes, nose and mouth corners; 0 is a frontal, upright face."""
    left_eye, right_eye, nose, left_mouth, right_mouth = landmarks[:5]
    dx, dy = right_eye.x - left_eye.x, right_eye.y - left_eye.y
    eye_distance = max(math.hypot(dx, dy), 1e-6)
    roll = math.degrees(math.atan2(dy, dx))
    eyes_x, eyes_y = (left_eye.x + right_eye.x) / 2, (left_eye.y + right_eye.y) / 2
    mouth_y = (left_mouth.y + right_mouth.y) / 2
    yaw = math.degrees(math.asin(max(-1.0, min(1.0, 2 * (nose.x - eyes_x) / eye_distance))))
    ratio = (nose.y - eyes_y) / max(mouth_y - eyes_y, 1e-6)  # about 0.5 on a frontal face
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, 2 * (ratio - 0.5)))))
    return pitch, roll, yaw


def passes(track: TrackedObject, filters: BestShotFilters) -> bool:
    if filters.score is not None and track.score < filters.score:
        return False
    limits = (filters.head_pitch, filters.head_roll, filters.head_yaw)
    if track.kind != "face" or all(limit is None for limit in limits):
        return True
    if len(track.landmarks) < 5:
        return False
    return all(limit is None or abs(angle) <= limit for angle, limit in zip(head_pose(track.landmarks), limits))


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
        self.tracks: dict[str, _Track] = {}
        self.track_count = 0
        self.keep_images = "best_shot_images" in params.targets
        self.extracts = params.extracts_face_descriptor or "body_descriptor" in params.targets

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

    def _best_shot(self, state: _Track, obj: TrackedObject, time_offset: float) -> None:
        if not passes(obj, self.params.best_shot_filters):
            return
        kind = "face" if obj.kind == "face" else "body"
        samples = self.params.face_samples if kind == "face" else self.params.body_samples
        image = obj.crop if self.keep_images or self.extracts else None
        state.shots.append(BestShot(kind=kind, time_offset=time_offset, bbox=obj.bbox, score=obj.score, image=image))
        state.shots = sorted(state.shots, key=lambda s: -s.score)[: samples.count]

    def process(self, update: TrackUpdate) -> list[AnalyticsEventMessage | BestShotsMessage]:
        if update.end_of_stream:
            return self.finish(update.time_offset, update.timestamp)
        if not self.gate.due(update.frame_number, update.time_offset):
            return []
        messages: list[AnalyticsEventMessage | BestShotsMessage] = []
        for obj in update.tracks:
            if obj.kind not in self.kinds:
                continue
            if obj.state == "ended":
                state = self.tracks.pop(obj.track_id, None)
                if state is not None and state.event is not None:
                    messages += self._end(state, update.time_offset, update.timestamp)
                continue
            state = self.tracks.setdefault(obj.track_id, _Track(obj.kind))
            seen = (obj.detection_id is not None and obj.moving
                    and in_roi(obj.bbox, self.params.roi, update.width, update.height)
                    and in_droi(obj.bbox, self.params.droi, update.width, update.height))
            if not seen:
                if state.event is None:
                    state.streak, state.estimations, state.shots = 0, [], []
                continue
            state.streak += 1
            state.estimations.append(HumanTrackingFrameEstimation(
                time_offset=update.time_offset, bbox=obj.bbox, score=obj.score))
            self._best_shot(state, obj, update.time_offset)
            if state.event is None and state.streak >= self.params.probe_count:
                self.track_count += 1
                state.create_time = update.timestamp
                state.event = HumanTrackingEvent(
                    event_id=uuid.uuid4(), track_id=obj.track_id,
                    video_segment=VideoSegment(start_time_offset=state.estimations[0].time_offset,
                                               end_time_offset=update.time_offset),
                    frames_estimations=list(state.estimations), best_shots=list(state.shots),
                    track_count=self.track_count, event_status="started",
                )
                messages.append(self._message(state.event, update.timestamp, None))
        # Tracks the tracker no longer reports (never confirmed) are forgotten.
        present = {o.track_id for o in update.tracks}
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
    """The human-tracking analytics of every stream a worker sees, rebuilt when a stream's config changes."""

    def __init__(self) -> None:
        self.streams: dict[UUID, tuple[tuple, list[HumanTracker]]] = {}

    def process(self, update: TrackUpdate, config: StreamConfig | None) -> list[AnalyticsEventMessage | BestShotsMessage]:
        analytics = human_tracking_analytics(config)
        key = (update.version, config.version if config else None,
               tuple((i, p.model_dump_json()) for i, p in analytics))
        current = self.streams.get(update.stream_id)
        if current is not None and current[0][0] > update.version:
            return []
        messages: list[AnalyticsEventMessage | BestShotsMessage] = []
        if current is None or current[0] != key:
            if current is not None:
                for tracker in current[1]:
                    messages += tracker.finish(update.time_offset, update.timestamp)
            account = config.account_id if config else NO_ACCOUNT
            trackers = [HumanTracker(update.stream_id, account, update.version, i, p) for i, p in analytics]
            self.streams[update.stream_id] = (key, trackers)
            for_stream(log, update.stream_id, version=update.version).info(
                "human tracking configured", extra={"analytics": [t.index for t in trackers]})
        for tracker in self.streams[update.stream_id][1]:
            messages += tracker.process(update)
        return messages


def register(app: faust.App) -> None:
    events_topic = topic(app, ANALYTICS_EVENTS)
    best_shots_topic = topic(app, BEST_SHOTS)
    dead_letters = dead_letter_topic(app)
    configs = stream_configs(app)
    trackers = HumanTrackers()

    @app.agent(topic(app, TRACKS), name=PROCESSOR)
    async def human_tracking(stream: faust.StreamT) -> None:
        await configs.loaded.wait()  # a registered stream must not be processed with the defaults
        async for event in stream.events():
            update = await validated(dead_letters, event, TrackUpdate, PROCESSOR)
            if update is None:
                continue
            key = str(update.stream_id).encode()
            for message in trackers.process(update, configs.get(update.stream_id)):
                target = best_shots_topic if isinstance(message, BestShotsMessage) else events_topic
                await target.send(key=key, value=message.model_dump_json().encode())

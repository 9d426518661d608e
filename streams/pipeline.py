"""The processors' logic chained in-process, without Kafka: ``selene analyze`` and the benchmarks.

Each stage is the very object its Faust processor uses (``Scheduler`` and ``Detector`` of detection,
``Trackers`` of tracking, ``PeopleCounters``, ``HumanTrackers``); only the topics between them are gone.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import av
import numpy as np

from infra.media.decode import DecodedFrame, iter_frames
from infra.settings import InferenceSettings, TrackingSettings
from schemas.events import AnalyticsEventMessage, CountSample
from schemas.frames import FrameHeader
from schemas.rate import RateGate, sampling_rate
from schemas.recognition import BestShotsMessage
from schemas.streams import StreamConfig, StreamConfigAnalytic, StreamData
from streams.configs import NO_ACCOUNT, setup_for
from streams.detection import Detector, Scheduler
from streams.human_tracking import HumanTrackers
from streams.people_count import PeopleCounters
from streams.tracking import Trackers

RESULT_KEYS = {"people_count": "crowd", "human_tracking": "human_tracking"}


@dataclass
class Results:
    events: list[AnalyticsEventMessage] = field(default_factory=list)
    samples: list[CountSample] = field(default_factory=list)


class Pipeline:
    """detection -> tracking -> people count and human tracking, for one stream."""

    def __init__(self, config: StreamConfig, detector: Detector | None = None,
                 tracking: TrackingSettings | None = None, inference: InferenceSettings | None = None) -> None:
        self.config = config
        self.setup = setup_for(config)
        self.detector = detector or Detector(inference)
        self.scheduler = Scheduler()
        self.trackers = Trackers(tracking, self.detector.settings)
        self.counters = PeopleCounters(tracking)
        self.humans = HumanTrackers()
        self.results = Results()
        self.last: FrameHeader | None = None

    def process(self, frames: list[tuple[FrameHeader, np.ndarray]]) -> Results:
        """Run a batch of frames (in order); returns what they produced and keeps it in ``results``."""
        due = [(h, image, plan) for h, image in frames
               if (plan := self.scheduler.plan(h, self.setup)) is not None]
        out = Results()
        for batch in self.detector.detect(due):
            update = self.trackers.update(batch)
            if update is None:
                continue
            counted = self.counters.process(update, self.setup)
            out.events += counted.events + _events(self.humans.process(update, self.setup))
            out.samples += counted.samples
        if frames:
            self.last = frames[-1][0]
        self.results.events += out.events
        self.results.samples += out.samples
        return out

    def finish(self) -> Results:
        """End the events still open, as when a video ends."""
        out = Results()
        if self.last is not None:
            for counters in self.counters.streams.states():
                for counter in counters:
                    out.events += counter.finish(self.last.timestamp)
            for trackers in self.humans.streams.states():
                for tracker in trackers:
                    out.events += _events(tracker.finish(self.last.time_offset, self.last.timestamp))
        self.results.events += out.events
        return out


def _events(messages: list[AnalyticsEventMessage | BestShotsMessage]) -> list[AnalyticsEventMessage]:
    """Offline analysis has no extraction stage: best shots bound for it are dropped."""
    return [m for m in messages if isinstance(m, AnalyticsEventMessage)]


def offline_config(reference: str, analytics: list[tuple[str, dict[str, Any]]]) -> StreamConfig:
    """A stream config for a video analysed offline; raises ValidationError or KeyError for bad analytics."""
    config = StreamConfig(
        stream_id=uuid.uuid4(), account_id=NO_ACCOUNT, version=1,
        data=StreamData(type="videofile", reference=reference),
        analytics=[StreamConfigAnalytic(index=i, analytic_name=name, parameters=params)
                   for i, (name, params) in enumerate(analytics)],
    )
    for analytic in config.analytics:
        analytic.parsed()
    return config


def video_info(reference: str) -> tuple[int, float, float]:
    """(frames, frame rate, duration in seconds) from the container."""
    with av.open(reference) as container:
        stream = container.streams.video[0]
        rate = float(stream.average_rate or stream.guessed_rate or 25)
        frames = stream.frames
        duration = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else 0.0
        if not duration and container.duration:
            duration = container.duration / 1_000_000
        return frames or int(round(duration * rate)), rate, duration or (frames / rate if frames else 0.0)


def headers_for(frames: Iterable[DecodedFrame], stream_id: uuid.UUID, start: datetime
                ) -> Iterator[tuple[FrameHeader, np.ndarray]]:
    for frame in frames:
        height, width = frame.image.shape[:2]
        yield FrameHeader(
            stream_id=stream_id, version=1, frame_number=frame.frame_number, time_offset=frame.time_offset,
            timestamp=start + timedelta(seconds=frame.time_offset), width=width, height=height, size=0,
        ), frame.image


def analyze(reference: str, analytics: list[tuple[str, dict[str, Any]]],
            progress: Callable[[int, int], None] | None = None, detector: Detector | None = None,
            batch_size: int | None = None) -> dict[str, Any]:
    """LUNA's ``/videosdk`` response for a video: ``analytics[].result.<key>.events[]`` and ``video_data``."""
    config = offline_config(reference, analytics)
    pipeline = Pipeline(config, detector)
    frames_count, frame_rate, duration = video_info(reference)
    size = batch_size or pipeline.detector.settings.batch_size
    batch: list[tuple[FrameHeader, np.ndarray]] = []
    last = 0.0
    # Decode-side sampling as the agent does it: one rate that still gives every analytic its due frames.
    sampler = RateGate(sampling_rate([p.rate for _, p in pipeline.setup.analytics], frame_rate))
    decoded = iter_frames(reference, take=sampler.due)
    for item in headers_for(decoded, config.stream_id, datetime.now(UTC)):
        batch.append(item)
        last = item[0].time_offset
        if len(batch) >= size:
            pipeline.process(batch)
            if progress:
                progress(item[0].frame_number + 1, frames_count)
            batch = []
    pipeline.process(batch)
    pipeline.finish()
    if progress:
        progress(frames_count, frames_count)
    result = []
    for analytic in config.analytics:
        events = [m.event.model_dump(mode="json", exclude_none=True) for m in pipeline.results.events
                  if m.analytic_index == analytic.index and m.event.event_status == "ended"
                  and m.event_type in ("crowd", "human_tracking")]
        key = RESULT_KEYS[analytic.analytic_name]
        body: dict[str, Any] = {"events": events}
        if analytic.analytic_name == "human_tracking":
            body["track_count"] = len(events)
        result.append({"name": analytic.analytic_name, "result": {key: body}})
    return {
        "analytics": result,
        "video_data": {
            "duration": duration, "error_count": 0, "frame_rate": frame_rate, "frames_count": frames_count,
            "processed_parts": [{"start_offset": 0, "end_offset": max(last, duration)}], "rotation": 0,
        },
    }

"""Processor tracks -> people-count (``crowd``) events, line crossings, zone occupancy and the count series.

LUNA's rule: an event starts on the last of ``probe_count`` consecutive processed frames that each show
at least ``people_count_threshold`` people (10, 10, 9 with threshold 10 and probe 3 starts nothing), and
ends, symmetrically, on the last of ``probe_count`` consecutive frames below the threshold. An event
is published when it starts and again when it ends (same ``event_id``). People are the person tracks
detected on the frame, moving (see ``streams.tracking``), centred in ``roi`` and standing in ``droi``.

Every processed frame also yields a ``CountSample`` for the dashboards.

When the time offsets go backwards (``streams.timeline``), the open crowd event ends at the last offset
before the jump and the open zone stays end there and start again, with new ids, at the new offset; the
probe window counts processed frames, which a jump does not interrupt, so a crowd still there starts a
new event on the frame after the jump.
"""

from __future__ import annotations

import logging
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import faust

from infra.logs import for_stream
from infra.settings import TrackingSettings
from schemas.analytics import PeopleCountParameters
from schemas.detections import Detections
from schemas.events import (
    AnalyticsEventMessage,
    CountSample,
    LineCrossingEvent,
    PeopleCountEvent,
    PeopleCountFrameEstimation,
    VideoSegment,
    ZoneOccupancyEvent,
)
from schemas.rate import RateGate
from schemas.topics import ANALYTICS_EVENTS, COUNTS, TRACKS
from schemas.tracks import TrackUpdate, detected
from streams.configs import PerStream, StreamSetup, stream_configs
from streams.crossing import LineCounter, ZoneCounter
from streams.geometry import Regions
from streams.processor import Publish, each, processor
from streams.timeline import Timeline

PROCESSOR = "people_count"
ANALYTIC = "people_count"

log = logging.getLogger(__name__)


def people_on_frame(update: TrackUpdate, regions: Regions) -> Detections:
    """The people this frame counts."""
    tracks = update.tracks
    counted = ((tracks.kinds == "person") & detected(tracks) & tracks.data["moving"]
               & regions.inside(tracks, update.width, update.height))
    return tracks[counted]


@dataclass
class _Event:
    event: PeopleCountEvent
    create_time: datetime


@dataclass
class Output:
    events: list[AnalyticsEventMessage]
    samples: list[CountSample]


class PeopleCounter:
    """One ``people_count`` analytic of one stream version."""

    def __init__(self, stream_id: UUID, account_id: UUID, version: int, index: int,
                 params: PeopleCountParameters, debounce: int = 2) -> None:
        self.stream_id, self.account_id, self.version, self.index = stream_id, account_id, version, index
        self.params = params
        self.gate = RateGate(params.rate)
        self.regions = Regions(params.roi, params.droi)
        self.recent: deque[bool] = deque(maxlen=params.probe_count)
        self.open: _Event | None = None
        self.lines = [LineCounter(line, debounce) for line in params.lines]
        self.zones = [ZoneCounter(zone) for zone in params.zones]
        self.zone_stays: dict[tuple[str, str], tuple[UUID, float]] = {}
        self.timeline = Timeline()

    def _envelope(self, event: object, event_type: str, create_time: datetime,
                  end_time: datetime | None) -> AnalyticsEventMessage:
        return AnalyticsEventMessage(
            event_id=event.event_id, stream_id=self.stream_id, account_id=self.account_id, version=self.version,
            analytic_name=ANALYTIC, analytic_index=self.index, event_type=event_type,
            create_time=create_time, end_time=end_time, event=event,
        )

    def process(self, update: TrackUpdate) -> Output:
        if update.end_of_stream:
            return Output(self.finish(update.timestamp), [])
        last = self.timeline.jumped_back(update.time_offset)
        restarted = self._restart(update, last) if last is not None else []
        if not self.gate.due(update.frame_number, update.time_offset):
            return Output(restarted, [])
        people = people_on_frame(update, self.regions)
        count = len(people)
        estimation = PeopleCountFrameEstimation(
            people_count=count, time_offset=update.time_offset,
            people_coordinates=[people.box(i) for i in range(count)] if "coordinates" in self.params.targets else None,
        )
        events = restarted + self._crowd(count, estimation, update)
        events += self._lines(update) + self._zones(update)
        sample = CountSample(
            stream_id=self.stream_id, account_id=self.account_id, version=self.version, run=update.run,
            analytic_index=self.index, frame_number=update.frame_number, time_offset=update.time_offset, timestamp=update.timestamp,
            people_count=count,
            zone_counts={z.zone.zone_id: len(z.inside) for z in self.zones},
            zone_entries={z.zone.zone_id: z.entries for z in self.zones},
            line_in={c.line.line_id: c.in_count for c in self.lines},
            line_out={c.line.line_id: c.out_count for c in self.lines},
        )
        return Output(events, [sample])

    def _overview(self, update: TrackUpdate) -> bytes | None:
        """The frame's JPEG with the ``overview`` target: the event keeps the frame with the most people."""
        return update.overview if "overview" in self.params.targets else None

    def _crowd(self, count: int, estimation: PeopleCountFrameEstimation,
               update: TrackUpdate) -> list[AnalyticsEventMessage]:
        self.recent.append(count >= self.params.people_count_threshold)
        full = len(self.recent) == self.params.probe_count
        if self.open is None:
            if full and all(self.recent):
                event = PeopleCountEvent(
                    event_id=uuid.uuid4(), track_id=str(uuid.uuid4()), people_count=count,
                    video_segment=VideoSegment(start_time_offset=update.time_offset,
                                               end_time_offset=update.time_offset),
                    frames_estimations=[estimation], event_status="started", overview=self._overview(update),
                )
                self.open = _Event(event, update.timestamp)
                # A copy: the open event goes on changing, the started message must not.
                return [self._envelope(event.model_copy(deep=True), "crowd", update.timestamp, None)]
            return []
        event = self.open.event
        event.frames_estimations.append(estimation)
        if count > event.people_count:
            event.overview = self._overview(update) or event.overview
        event.people_count = max(event.people_count, count)
        event.video_segment = VideoSegment(start_time_offset=event.video_segment.start_time_offset,
                                           end_time_offset=update.time_offset)
        if full and not any(self.recent):
            return [self._end(update.timestamp)]
        return []

    def _end(self, timestamp: datetime) -> AnalyticsEventMessage:
        assert self.open is not None
        ended = self.open.event.model_copy(update={"event_status": "ended"})
        message = self._envelope(ended, "crowd", self.open.create_time, timestamp)
        self.open = None
        return message

    def _restart(self, update: TrackUpdate, last: float) -> list[AnalyticsEventMessage]:
        """Time went back from ``last``: end the crowd event and the zone stays there; the people still in
        a zone start a new stay at ``update``'s offset."""
        events = self.finish(update.timestamp)
        occupancy = {z.zone.zone_id: len(z.inside) for z in self.zones}
        for (zone_id, track_id), (event_id, start) in sorted(self.zone_stays.items()):
            again, now = uuid.uuid4(), update.time_offset
            events += [self._stay(event_id, zone_id, track_id, (start, max(start, last)), occupancy[zone_id],
                                  update.timestamp, ended=True),
                       self._stay(again, zone_id, track_id, (now, now), occupancy[zone_id], update.timestamp,
                                  ended=False)]
            self.zone_stays[zone_id, track_id] = (again, now)
        return events

    def finish(self, timestamp: datetime) -> list[AnalyticsEventMessage]:
        """End what is open: the video is over or the stream version changed."""
        return [self._end(timestamp)] if self.open is not None else []

    def _lines(self, update: TrackUpdate) -> list[AnalyticsEventMessage]:
        events = []
        for counter in self.lines:
            for c in counter.update(update.tracks, update.width, update.height):
                event = LineCrossingEvent(
                    event_id=uuid.uuid4(), line_id=c.line_id, track_id=c.track_id, direction=c.direction,
                    time_offset=update.time_offset, bbox=c.bbox,
                    in_count=counter.in_count, out_count=counter.out_count,
                )
                events.append(self._envelope(event, "line_crossing", update.timestamp, update.timestamp))
        return events

    def _zones(self, update: TrackUpdate) -> list[AnalyticsEventMessage]:
        persons = update.tracks[update.tracks.kinds == "person"]
        events = []
        for counter in self.zones:
            for change in counter.update(persons, update.width, update.height):
                key = (change.zone_id, change.track_id)
                if change.entered:
                    self.zone_stays[key] = (uuid.uuid4(), update.time_offset)
                    event_id, start = self.zone_stays[key]
                else:
                    event_id, start = self.zone_stays.pop(key, (uuid.uuid4(), update.time_offset))
                events.append(self._stay(event_id, change.zone_id, change.track_id, (start, update.time_offset),
                                         change.occupancy, update.timestamp, ended=not change.entered))
        return events

    def _stay(self, event_id: UUID, zone_id: str, track_id: str, segment: tuple[float, float], occupancy: int,
              timestamp: datetime, *, ended: bool) -> AnalyticsEventMessage:
        """A zone-occupancy event: one person's stay in one zone over ``segment`` (start, end offsets)."""
        event = ZoneOccupancyEvent(
            event_id=event_id, zone_id=zone_id, track_id=track_id,
            video_segment=VideoSegment(start_time_offset=segment[0], end_time_offset=segment[1]),
            people_count=occupancy, event_status="ended" if ended else "started",
        )
        return self._envelope(event, "zone_occupancy", timestamp, timestamp if ended else None)


class PeopleCounters:
    """The people-count analytics of every stream a worker sees, built again when a stream's setup or
    version changes (ending what the old ones had open)."""

    def __init__(self, settings: TrackingSettings | None = None) -> None:
        self.debounce = (settings or TrackingSettings()).line_debounce
        self.streams: PerStream[StreamSetup, list[PeopleCounter]] = PerStream(self._build)

    def _build(self, stream_id: UUID, version: int, setup: StreamSetup) -> list[PeopleCounter]:
        counters = [PeopleCounter(stream_id, setup.account_id, version, i, p, self.debounce)
                    for i, p in setup.of(PeopleCountParameters)]
        for_stream(log, stream_id, version=version).info(
            "people counting configured", extra={"analytics": [c.index for c in counters]})
        return counters

    def process(self, update: TrackUpdate, setup: StreamSetup) -> Output:
        """Events and samples of every people-count analytic of the stream."""
        counters, replaced = self.streams.get(update, setup)
        events = [m for counter in replaced or () for m in counter.finish(update.timestamp)]
        samples: list[CountSample] = []
        for counter in counters or ():
            out = counter.process(update)
            events += out.events
            samples += out.samples
        return Output(events, samples)


def register(app: faust.App, settings: TrackingSettings | None = None) -> None:
    configs = stream_configs(app)
    counters = PeopleCounters(settings)

    def logic(update: TrackUpdate) -> list[Publish]:
        out = counters.process(update, configs.get(update.stream_id))
        return ([Publish(ANALYTICS_EVENTS, update.stream_id, m) for m in out.events]
                + [Publish(COUNTS, update.stream_id, s) for s in out.samples])

    processor(app, PROCESSOR, TRACKS, TrackUpdate, each(logic), outputs=(ANALYTICS_EVENTS, COUNTS), configs=configs)

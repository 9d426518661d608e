"""Analytics events in LUNA's shapes, the per-frame count series, and LUNA general events.

``AnalyticsEventMessage`` (topic ``selene.analytics-events``) wraps one event. Which event class the
``event`` field holds is decided by the envelope's ``event_type`` (``crowd`` → PeopleCountEvent, as
LUNA's people-count result key; ``human_tracking``, ``line_crossing``, ``zone_occupancy``), so the
event objects themselves keep LUNA's keys with no added type tag.

An event is published when it starts (``event_status: "started"``) and again when it ends, with the
same ``event_id``; the ended message supersedes the started one in idempotent sinks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from schemas.base import Body, Message
from schemas.descriptors import SdkDescriptor
from schemas.detections import B64Bytes, BoundingBox, TrackId
from schemas.streams import Location

EventStatus = Literal["started", "ended"]
EventType = Literal["crowd", "human_tracking", "line_crossing", "zone_occupancy"]


class VideoSegment(Message):
    """LUNA's ``video_segment``: seconds since the stream start."""

    start_time_offset: float = Field(ge=0)
    end_time_offset: float = Field(ge=0)

    @model_validator(mode="after")
    def _order(self) -> VideoSegment:
        if self.end_time_offset < self.start_time_offset:
            raise ValueError("end_time_offset is before start_time_offset")
        return self


class PeopleCountFrameEstimation(Message):
    """LUNA's people-count ``frames_estimations`` item.

    ``people_coordinates`` (with the ``coordinates`` target) are person boxes in source-frame pixels:
    Selene counts with a person detector, where LUNA's crowd estimator gives points.
    """

    people_count: int = Field(ge=0)
    time_offset: float = Field(ge=0)
    people_coordinates: list[BoundingBox] | None = None


class PeopleCountEvent(Message):
    """A LUNA people-count (``crowd``) event: a period with at least ``people_count_threshold`` people."""

    event_id: UUID
    track_id: TrackId
    people_count: int = Field(ge=0, description="Most people on one frame of the segment.")
    video_segment: VideoSegment
    frames_estimations: list[PeopleCountFrameEstimation] = Field(default_factory=list)
    overview: B64Bytes | None = Field(default=None, description="JPEG of the frame with the most people.")
    event_status: EventStatus


class HumanTrackingFrameEstimation(Message):
    """LUNA's human-tracking ``frames_estimations`` item: where the tracked object was."""

    time_offset: float = Field(ge=0)
    bbox: BoundingBox
    score: float = Field(ge=0, le=1)


class BestShot(Message):
    """One of a track's best images (chosen by score and head pose), with its descriptor if extracted."""

    kind: Literal["face", "body"]
    time_offset: float = Field(ge=0)
    bbox: BoundingBox
    score: float = Field(ge=0, le=1)
    image: B64Bytes | None = Field(default=None, description="JPEG crop, with the `best_shot_images` target.")
    descriptor_id: UUID | None = None


class ListMatch(Message):
    """A watch-list hit: the track's face is similar to ``face_id`` of ``list_id``."""

    list_id: UUID
    face_id: UUID
    similarity: float = Field(ge=0, le=1)


class HumanTrackingEvent(Message):
    """A LUNA human-tracking event: one per track."""

    event_id: UUID
    track_id: TrackId
    video_segment: VideoSegment
    frames_estimations: list[HumanTrackingFrameEstimation] = Field(default_factory=list)
    best_shots: list[BestShot] = Field(default_factory=list)
    aggregated_estimations: dict[str, Any] = Field(
        default_factory=dict, description="Estimations over the track's best shots (LUNA's key)."
    )
    track_count: int | None = Field(default=None, ge=0)
    event_status: EventStatus


class LineCrossingEvent(Message):
    """A track crossed a counting line (Selene extension); ``in``/``out`` as in ``LineCrossing``."""

    event_id: UUID
    line_id: str
    track_id: TrackId
    direction: Literal["in", "out"]
    time_offset: float = Field(ge=0)
    bbox: BoundingBox | None = None
    in_count: int = Field(default=0, ge=0, description="Crossings in since the stream version started.")
    out_count: int = Field(default=0, ge=0)


class ZoneOccupancyEvent(Message):
    """A track's stay in a zone (Selene extension): ``started`` on entry, ``ended`` on exit.

    ``people_count`` is the zone's occupancy at the time of the message.
    """

    event_id: UUID
    zone_id: str
    track_id: TrackId
    video_segment: VideoSegment
    people_count: int = Field(ge=0)
    event_status: EventStatus


EVENT_CLASSES: dict[str, type[Message]] = {
    "crowd": PeopleCountEvent,
    "human_tracking": HumanTrackingEvent,
    "line_crossing": LineCrossingEvent,
    "zone_occupancy": ZoneOccupancyEvent,
}
_EVENT_TYPE_OF: dict[type[Message], str] = {cls: name for name, cls in EVENT_CLASSES.items()}
_TAG = "__event_type"  # set from the envelope's event_type before validation; ignored by the models


def _event_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get(_TAG)
    return _EVENT_TYPE_OF.get(type(value))


AnalyticsEvent = Annotated[
    Annotated[PeopleCountEvent, Tag("crowd")]
    | Annotated[HumanTrackingEvent, Tag("human_tracking")]
    | Annotated[LineCrossingEvent, Tag("line_crossing")]
    | Annotated[ZoneOccupancyEvent, Tag("zone_occupancy")],
    Discriminator(_event_tag),
]


class AnalyticsEventMessage(Message):
    """The envelope of one analytics event on ``selene.analytics-events`` (key ``stream_id``)."""

    event_id: UUID = Field(description="The event's `event_id`.")
    stream_id: UUID
    account_id: UUID
    version: int = Field(ge=1)
    analytic_name: str
    analytic_index: int = Field(ge=0)
    event_type: EventType
    create_time: datetime = Field(description="When the event started (wall clock, UTC).")
    end_time: datetime | None = Field(default=None, description="When it ended; null while it goes on.")
    event: AnalyticsEvent

    @model_validator(mode="before")
    @classmethod
    def _event_class(cls, value: Any) -> Any:
        if isinstance(value, dict) and isinstance(value.get("event"), dict):
            value = {**value, "event": {**value["event"], _TAG: value.get("event_type")}}
        return value

    @model_validator(mode="after")
    def _consistent(self) -> AnalyticsEventMessage:
        expected = EVENT_CLASSES[self.event_type]
        if type(self.event) is not expected:
            raise ValueError(f"event_type {self.event_type!r} needs a {expected.__name__}")
        if self.event.event_id != self.event_id:
            raise ValueError("event_id differs from event.event_id")
        return self

    def to_general_event(
        self, *, source: str | None = None, location: Location | None = None
    ) -> GeneralEventMessage:
        """The LUNA general event a ``luna-event`` callback stores (ids live in columns, not in ``event``)."""
        content = self.event.model_dump(mode="json", exclude={"event_id", "track_id"})
        return GeneralEventMessage(
            event_id=self.event_id,
            event_type=self.event_type,
            account_id=self.account_id,
            event_create_time=self.create_time,
            event_end_time=self.end_time,
            stream_id=self.stream_id,
            track_id=getattr(self.event, "track_id", None),
            location=location,
            source=source,
            event=content,
        )


class CountSample(Message):
    """One processed frame's counts on ``selene.counts`` (key ``stream_id``): the people-count series."""

    stream_id: UUID
    account_id: UUID
    version: int = Field(default=1, ge=1)
    run: int = Field(default=0, ge=0, description="The agent run of the frame (see `FrameEnvelope.run`).")
    analytic_index: int = Field(default=0, ge=0)
    frame_number: int | None = Field(default=None, ge=0)
    time_offset: float = Field(ge=0)
    timestamp: datetime
    people_count: int = Field(ge=0)
    zone_counts: dict[str, int] = Field(default_factory=dict, description="zone_id -> people in the zone.")
    zone_entries: dict[str, int] = Field(default_factory=dict, description="zone_id -> entries so far.")
    line_in: dict[str, int] = Field(default_factory=dict, description="line_id -> crossings in so far.")
    line_out: dict[str, int] = Field(default_factory=dict, description="line_id -> crossings out so far.")


class _GeneralEventFields(BaseModel):
    """The fields of a LUNA general event; GeneralEvent (REST) and GeneralEventMessage (Kafka) share them."""

    event_id: UUID
    event_type: str = Field(min_length=1, max_length=128, description="E.g. `crowd`.")
    account_id: UUID
    event_create_time: datetime
    event_end_time: datetime | None = None
    insert_time: datetime | None = Field(default=None, description="Set by the server when stored.")
    stream_id: UUID | None = None
    track_id: TrackId | None = None
    source: str | None = Field(default=None, max_length=128)
    location: Location | None = None
    descriptors: list[SdkDescriptor] | None = None
    event: dict[str, Any] = Field(default_factory=dict, description="The event's own content.")


class GeneralEvent(Body, _GeneralEventFields):
    """A LUNA general event (LUNA v5.86+): a REST body, so unknown fields are rejected."""

    model_config = ConfigDict(**Body.model_config)


class GeneralEventMessage(Message, _GeneralEventFields):
    """A LUNA general event on ``selene.general-events`` (key ``event_id``); unknown fields are ignored.

    Its ``location`` and ``descriptors`` are REST value types and still reject unknown nested fields.
    """

    model_config = ConfigDict(**Message.model_config)

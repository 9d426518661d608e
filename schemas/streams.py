"""The stream registry: LUNA's stream, group and analytic objects, and the stream-configs topic.

Field names are LUNA PLATFORM 5's (the ``luna3`` client's ``getStream`` sample and ``createStream``
arguments). The create/replace body is LUNA's stored shape: stream source settings under ``data``,
everything else at the top level (``{"data": {"type", "reference", ...}, "analytics": [...], "name",
...}``). Because LUNA's client takes ``type``, ``reference`` and the rest as flat arguments, a flat body
(``{"type", "reference", "analytics", ...}``) is accepted too and moved under ``data``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BeforeValidator, Field, model_validator

from schemas.analytics import AnalyticParameters, HttpCallback, parameters_for
from schemas.base import Body, Message
from schemas.errors import ErrorBody
from schemas.status import AutorestartStatus, StreamStatus

Flag = Literal[0, 1]


def _status(value: Any) -> Any:
    # LUNA stores integers; external agents may send LUNA's words ("in_progress").
    if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
        try:
            return StreamStatus.from_luna(value)
        except KeyError:
            raise ValueError(f"unknown stream status {value!r}") from None
    return value


Status = Annotated[StreamStatus, BeforeValidator(_status)]
"""A stream status: LUNA's integer, or its word on input."""


class GeoPosition(Body):
    """``location.geo_position``."""

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class Location(Body):
    """LUNA's ``location`` of a stream or event; every part optional."""

    area: str | None = Field(default=None, max_length=36)
    city: str | None = Field(default=None, max_length=36)
    district: str | None = Field(default=None, max_length=36)
    geo_position: GeoPosition | None = None
    house_number: str | None = Field(default=None, max_length=36)
    street: str | None = Field(default=None, max_length=128)


class VideoPTS(Body):
    """LUNA's ``pts``: a PTS offset so that the parts of a split video continue one timeline."""

    start_time: float = Field(default=0.0, ge=0, description="Seconds added to every frame's PTS.")


class StreamData(Body):
    """LUNA's ``data`` of a stream: where the video comes from and how to decode it."""

    type: Literal["stream", "videofile"] = Field(description="A live stream (RTSP...) or a video file.")
    reference: str = Field(min_length=1, description="Stream URL, or video file URL or path.")
    downloadable: bool = Field(default=False, description="Download the file before decoding it.")
    timestamp_source: Literal["pts", "server", "frame_rate", "auto"] = "auto"
    orientation_strategy: Literal["static", "video_info"] = "static"
    rotation: Literal[0, 90, 180, 270] = Field(default=0, description="Camera rotation in degrees.")
    pts: VideoPTS = Field(default_factory=VideoPTS)
    fps: float | None = Field(default=None, gt=0, description="Decoder fps.")
    timeout: int | None = Field(
        default=None,
        ge=1,
        description="Read timeout in ms: per segment of a stream (3000 if absent), in all for a file.",
    )
    ffmpeg_kwargs: dict[str, str] | None = Field(default=None, description="Extra FFmpeg (PyAV) options.")
    behavior_parameters: dict[str, Any] | None = None


class Restart(Body):
    """LUNA's ``restart``: the auto-restart configuration given at creation."""

    restart: Flag = 0
    attempt_count: int = Field(default=10, ge=0)
    delay: int = Field(default=60, ge=0, description="Seconds between attempts.")


class Autorestart(Body):
    """LUNA's ``analytics[].autorestart``: restart configuration and its state, per analytic."""

    attempt_count: int = Field(default=10, ge=0)
    current_attempt: int = Field(default=0, ge=0)
    delay: int = Field(default=60, ge=0)
    last_attempt_time: datetime | None = None
    restart: Flag = 0
    status: AutorestartStatus = AutorestartStatus.DISABLED

    @classmethod
    def from_restart(cls, restart: Restart | None) -> Autorestart:
        if restart is None:
            return cls()
        status = AutorestartStatus.ENABLED if restart.restart else AutorestartStatus.DISABLED
        return cls(
            attempt_count=restart.attempt_count, delay=restart.delay, restart=restart.restart, status=status
        )


class WorkingInterval(Body):
    """LUNA's ``Interval(startTime, endTime)``: when an analytic runs."""

    start_time: datetime
    end_time: datetime

    @model_validator(mode="after")
    def _order(self) -> WorkingInterval:
        if self.end_time <= self.start_time:
            raise ValueError("end_time must be after start_time")
        return self


class AnalyticSchedule(Body):
    """LUNA's analytic ``Schedule``: a schedule template id, or a list of intervals."""

    schedule_id: UUID | None = None
    intervals: list[WorkingInterval] | None = None

    @model_validator(mode="after")
    def _one(self) -> AnalyticSchedule:
        if (self.schedule_id is None) == (self.intervals is None):
            raise ValueError("give either schedule_id or intervals")
        return self


class StreamAnalyticRequest(Body):
    """One analytic of a create/replace request (LUNA client's ``StreamAnalytic(name, ...)``).

    ``parameters`` are validated against the registered analytic and merged with its defaults by the
    video manager, so they stay a dict here.
    """

    name: str = Field(min_length=1, max_length=128)
    parameters: dict[str, Any] = Field(default_factory=dict)
    schedules: list[AnalyticSchedule] = Field(default_factory=list)


class StreamAnalytic(Body):
    """One analytic of a stored stream (keys as in LUNA's stream object)."""

    analytic_name: str
    autorestart: Autorestart = Field(default_factory=Autorestart)
    parameters: dict[str, Any] = Field(default_factory=dict)
    schedules: list[AnalyticSchedule] = Field(
        default_factory=list, exclude_if=lambda schedules: not schedules,  # absent, as in LUNA's object, when none
        description="Working intervals; none: always. The stream pauses outside all of them.",
    )
    status: Status = StreamStatus.PENDING


class TelegramCallback(Body):
    """A Telegram stream-status notification (LUNA v5.95)."""

    type: Literal["telegram"] = "telegram"
    enable: Flag = 1
    chat_id: str = Field(min_length=1)
    token: str = Field(min_length=1)


StreamCallback = Annotated[HttpCallback | TelegramCallback, Field(discriminator="type")]


class NotificationPolicy(Body):
    """LUNA's ``notification_policy``: notify on stream status changes (pending → in_progress → done...)."""

    enable: Flag = 0
    stream_callbacks: list[StreamCallback] = Field(default_factory=list)


_DATA_FIELDS = frozenset(StreamData.model_fields)


class StreamCreate(Body):
    """The body of create (POST) and replace (PUT) stream; see the module docstring for its shape."""

    data: StreamData
    analytics: list[StreamAnalyticRequest] = Field(min_length=1)
    name: str | None = Field(default=None, max_length=128)
    description: str | None = Field(default=None, max_length=512)
    location: Location | None = None
    source: str | None = Field(default=None, max_length=128)
    restart: Restart | None = None
    group_name: str | None = Field(default=None, max_length=128)
    group_id: UUID | None = None
    notification_policy: NotificationPolicy | None = None
    splittable: Flag = 0

    @model_validator(mode="before")
    @classmethod
    def _flat(cls, value: Any) -> Any:
        if isinstance(value, dict) and "data" not in value and ("type" in value or "reference" in value):
            value = dict(value)
            value["data"] = {k: value.pop(k) for k in list(value) if k in _DATA_FIELDS}
        return value


class StreamCreated(Body):
    """Answer to create/replace: the stream id and its (new) version."""

    stream_id: UUID
    version: int = Field(ge=1)


class FramesDropped(Body):
    """Frames of a stream that were never analysed, by who dropped them (Selene's addition to LUNA's stream)."""

    agent: int = Field(default=0, ge=0, description=(
        "Dropped by the agent in its current run of the stream: its queue was full (live sources) or a frame "
        "was not delivered to the broker."))
    processing: int = Field(default=0, ge=0, description=(
        "Live frames the workers skipped as stale: their turn came later than the stale-frame age "
        "(`SELENE_WORKER_STALE_FRAME_SECONDS`). Files never lose frames this way."))


class Stream(Body):
    """A stored stream, exactly LUNA's stream object (client ``getStream`` sample)."""

    account_id: UUID
    analytics: list[StreamAnalytic]
    create_time: datetime
    data: StreamData
    description: str | None = None
    groups: list[UUID] = Field(default_factory=list, description="Ids of the groups the stream is in.")
    last_error: ErrorBody | None = None
    location: Location = Field(default_factory=Location)
    name: str | None = None
    notification_policy: NotificationPolicy = Field(default_factory=NotificationPolicy)
    source: str | None = None
    splittable: Flag = 0
    status: Status = StreamStatus.PENDING
    stream_id: UUID
    version: int = Field(default=1, ge=1)


class StreamsPage(Body):
    """LUNA ``getStreams``: ``{"streams": [...]}``."""

    streams: list[Stream]


class ShownStream(Stream):
    """A stream as GET shows it: LUNA's object plus what was dropped of it so far (kept apart from the
    stored record, so a count changes neither its revision nor its config)."""

    frames_dropped: FramesDropped = Field(default_factory=FramesDropped)


class ShownStreamsPage(Body):
    """``getStreams`` as Selene answers it: LUNA's page, each stream with its ``frames_dropped``."""

    streams: list[ShownStream]


class StreamsCount(Body):
    """LUNA ``countStreams``: ``{"streams_count": N}``."""

    streams_count: int = Field(ge=0)


StreamAction = Literal["pause", "resume", "stop", "start"]
_LUNA_ACTION: dict[str, Literal["pause", "resume"]] = {
    "pause": "pause",
    "stop": "pause",
    "resume": "resume",
    "start": "resume",
}


class StreamPatch(Body):
    """PATCH a stream: LUNA's client says ``pause``/``resume``, its release notes ``stop``/``start``;
    both are accepted and mean the same."""

    action: StreamAction

    @property
    def luna_action(self) -> Literal["pause", "resume"]:
        return _LUNA_ACTION[self.action]


class StreamIds(Body):
    """LUNA ``deleteStreams``: the ids of the streams to delete."""

    stream_ids: list[UUID] = Field(min_length=1, max_length=1000)


class StreamLog(Body):
    """One entry of a stream's status history (LUNA ``getStreamsLogs``)."""

    stream_id: UUID
    account_id: UUID | None = None
    version: int = Field(ge=1)
    analytic_index: int | None = Field(default=None, ge=0, description="Absent: the stream as a whole.")
    analytic_name: str | None = None
    status: Status
    error: ErrorBody | None = None
    log_time: datetime
    last_processed_frame_time: float | None = Field(
        default=None, description="Time since the stream start of the last processed frame (s); null if none."
    )


class StreamLogsPage(Body):
    """LUNA ``getStreamsLogs``: ``{"logs": [...]}``."""

    logs: list[StreamLog]


class DeletedCount(Body):
    """LUNA ``deleteStreamsLogs``: ``{"deleted_count": N}``."""

    deleted_count: int = Field(ge=0)


class GroupCreate(Body):
    """Create a stream group (LUNA ``createGroup``)."""

    group_name: str = Field(min_length=1, max_length=128)
    description: str | None = Field(default=None, max_length=512)


class GroupCreated(Body):
    """LUNA ``createGroup``: 201 ``{"group_id"}``."""

    group_id: UUID


class Group(Body):
    """A stream group (LUNA ``getGroup`` keys)."""

    account_id: UUID
    create_time: datetime
    description: str | None = None
    group_id: UUID
    group_name: str


class GroupsPage(Body):
    """LUNA ``getGroups``: ``{"groups": [...]}``."""

    groups: list[Group]


class GroupsCount(Body):
    """LUNA ``countGroups``: ``{"groups_count": N}``."""

    groups_count: int = Field(ge=0)


class GroupPatch(Body):
    """LUNA's group patch changes the description only."""

    description: str = Field(max_length=512)


class GroupStreamsPatch(Body):
    """Bring all streams of a group to a state (LUNA ``patchGroupStreams``); same actions as StreamPatch."""

    action: StreamAction

    @property
    def luna_action(self) -> Literal["pause", "resume"]:
        return _LUNA_ACTION[self.action]


class AnalyticCreate(Body):
    """Register an analytic (LUNA ``createAnalytic``)."""

    analytic_name: str = Field(min_length=1, max_length=128)
    analytic_version: int = Field(default=1, ge=1)
    description: str = ""
    default_parameters: dict[str, Any] = Field(default_factory=dict)
    validation_schema: dict[str, Any] = Field(default_factory=dict, description="JSON Schema of parameters.")


class AnalyticIds(Body):
    """LUNA ``deleteAnalytics``: the ids of the analytics to delete."""

    analytic_ids: list[UUID] = Field(min_length=1, max_length=1000)


class AnalyticCreated(Body):
    """LUNA: 201 ``{"analytic_id"}``."""

    analytic_id: UUID


class Analytic(Body):
    """A registered analytic (LUNA ``getAnalytic`` keys)."""

    account_id: UUID | None = None
    analytic_id: UUID
    analytic_name: str
    analytic_version: int = Field(ge=1)
    create_time: datetime
    default_parameters: dict[str, Any] = Field(default_factory=dict)
    description: str = ""
    last_update_time: datetime
    validation_schema: dict[str, Any] = Field(default_factory=dict)


class AnalyticsPage(Body):
    """LUNA ``getAnalytics``: ``{"analytics": [...]}``."""

    analytics: list[Analytic]


class StreamConfigAnalytic(Message):
    """One analytic of a stream as processors see it; ``parameters`` already validated and merged."""

    index: int = Field(ge=0, description="Position in the stream's `analytics` (LUNA's analytic index).")
    analytic_name: str
    parameters: dict[str, Any] = Field(default_factory=dict)

    def parsed(self) -> AnalyticParameters:
        """The parameters as a model, for the built-in analytics (``KeyError`` for others)."""
        return parameters_for(self.analytic_name, self.parameters)


class StreamConfig(Message):
    """A stream's current configuration on the compacted topic ``selene.stream-configs`` (key stream_id).

    Processors read the topic as a table. A deleted stream is written once with ``deleted=True`` (so
    consumers that see it can drop state) and then as a null value, Kafka's tombstone, which compaction
    uses to forget the key.
    """

    stream_id: UUID
    account_id: UUID
    version: int = Field(ge=1)
    data: StreamData
    analytics: list[StreamConfigAnalytic] = Field(default_factory=list)
    status: Status = StreamStatus.PENDING
    name: str | None = None
    source: str | None = None
    location: Location | None = None
    deleted: bool = False

    def analytics_named(self, name: str) -> list[StreamConfigAnalytic]:
        return [a for a in self.analytics if a.analytic_name == name]

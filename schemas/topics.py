"""The topic catalogue: every Kafka topic Selene uses, its key, value type, partitions and retention.

Processors meet only here. Topics keyed by ``stream_id`` share one partition count so that Faust can
co-partition them (a stream's frames, detections and config land on the same partition number).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from schemas.agents import AgentMessage
from schemas.commands import StreamCommand
from schemas.deadletter import DeadLetter
from schemas.recognition import BestShotsMessage, TrackDescriptors, TrackMatches
from schemas.detections import DetectionBatch
from schemas.events import AnalyticsEventMessage, CountSample, GeneralEventMessage
from schemas.frames import FrameHeader, FrameStat
from schemas.notifications import EventNotification
from schemas.streams import StreamConfig
from schemas.tasks import SubtaskMessage
from schemas.tracks import TrackUpdate

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
STREAM_PARTITIONS = 8
CONTROL_PARTITIONS = 4  # control-plane topics keyed by agent_id: few agents, little traffic


@dataclass(frozen=True)
class TopicSpec:
    name: str
    key: str
    value_type: type[BaseModel] | None
    partitions: int
    retention_ms: int | None
    description: str
    compacted: bool = False
    header_type: type[BaseModel] | None = None

    @property
    def config(self) -> dict[str, str]:
        """Kafka topic configs to create the topic with."""
        if self.compacted:
            return {"cleanup.policy": "compact"}
        return {"cleanup.policy": "delete", "retention.ms": str(self.retention_ms)}


FRAMES = TopicSpec(
    name="selene.frames",
    key="stream_id",
    value_type=None,
    header_type=FrameHeader,
    partitions=STREAM_PARTITIONS,
    retention_ms=HOUR_MS,
    description="JPEG frames sampled by video agents; the value is the JPEG, the headers a FrameHeader.",
)
FRAME_STATS = TopicSpec(
    name="selene.frame-stats",
    key="stream_id",
    value_type=FrameStat,
    partitions=STREAM_PARTITIONS,
    retention_ms=DAY_MS,
    description="One record per processed frame: stream health (fps, lag, sizes) for the warehouse.",
)
DEAD_LETTER = TopicSpec(
    name="selene.dead-letter",
    key="topic",
    value_type=DeadLetter,
    partitions=1,
    retention_ms=14 * DAY_MS,
    description="Messages that failed validation or processing, with the reason.",
)
DETECTIONS = TopicSpec(
    name="selene.detections",
    key="stream_id",
    value_type=DetectionBatch,
    partitions=STREAM_PARTITIONS,
    retention_ms=DAY_MS,
    description="Detections of one frame (boxes, scores, landmarks, small crops) from the detection stage.",
)
TRACKS = TopicSpec(
    name="selene.tracks",
    key="stream_id",
    value_type=TrackUpdate,
    partitions=STREAM_PARTITIONS,
    retention_ms=DAY_MS,
    description="Every track of a stream on one processed frame, from the tracking stage.",
)
ANALYTICS_EVENTS = TopicSpec(
    name="selene.analytics-events",
    key="stream_id",
    value_type=AnalyticsEventMessage,
    partitions=STREAM_PARTITIONS,
    retention_ms=7 * DAY_MS,
    description="Analytics events in LUNA's shapes (crowd, human_tracking) and Selene's line/zone events.",
)
COUNTS = TopicSpec(
    name="selene.counts",
    key="stream_id",
    value_type=CountSample,
    partitions=STREAM_PARTITIONS,
    retention_ms=7 * DAY_MS,
    description="Per-frame people, zone and line counts: the people-count time series.",
)
BEST_SHOTS = TopicSpec(
    name="selene.best-shots",
    key="stream_id",
    value_type=BestShotsMessage,
    partitions=STREAM_PARTITIONS,
    retention_ms=DAY_MS,
    description="Ended human tracks whose best shots carry JPEG crops, for descriptor extraction.",
)
DESCRIPTORS = TopicSpec(
    name="selene.descriptors",
    key="stream_id",
    value_type=TrackDescriptors,
    partitions=STREAM_PARTITIONS,
    retention_ms=7 * DAY_MS,
    description="Each track's face and body descriptors with its event and match policy, for the matcher.",
)
MATCHES = TopicSpec(
    name="selene.matches",
    key="stream_id",
    value_type=TrackMatches,
    partitions=STREAM_PARTITIONS,
    retention_ms=7 * DAY_MS,
    description="The watch-list matcher's hits per ended track, for the stream websocket and callbacks.",
)
GENERAL_EVENTS = TopicSpec(
    name="selene.general-events",
    key="event_id",
    value_type=GeneralEventMessage,
    partitions=STREAM_PARTITIONS,
    retention_ms=7 * DAY_MS,
    description="LUNA general events (luna-event callbacks, REST, apps); many have no stream_id.",
)
EVENT_NOTIFICATIONS = TopicSpec(
    name="selene.event-notifications",
    key="account_id",
    value_type=EventNotification,
    partitions=CONTROL_PARTITIONS,
    retention_ms=DAY_MS,
    description="Every event a handler generates (saved or not), for /6/ws subscribers and handler callbacks.",
)
AGENT_FEEDBACK = TopicSpec(
    name="selene.agent-feedback",
    key="agent_id",
    value_type=AgentMessage,
    partitions=CONTROL_PARTITIONS,
    retention_ms=DAY_MS,
    description="Agents' registrations, heartbeats with stream reports, and goodbyes, for the manager.",
)
STREAM_COMMANDS = TopicSpec(
    name="selene.stream-commands",
    key="agent_id",
    value_type=StreamCommand,
    partitions=CONTROL_PARTITIONS,
    retention_ms=DAY_MS,
    description="The manager's start/stop/registered commands, one agent per key.",
)
STREAM_CONFIGS = TopicSpec(
    name="selene.stream-configs",
    key="stream_id",
    value_type=StreamConfig,
    partitions=STREAM_PARTITIONS,
    retention_ms=None,
    compacted=True,
    description="Each stream's latest configuration (compacted; null value = deleted), read as a table.",
)
TASKS = TopicSpec(
    name="selene.tasks",
    key="subtask_id",
    value_type=SubtaskMessage,
    partitions=STREAM_PARTITIONS,
    retention_ms=DAY_MS,
    description="Subtasks of LUNA tasks for the task workers' consumer group; a task's content is in Redis.",
)

CATALOGUE: tuple[TopicSpec, ...] = (
    FRAMES,
    FRAME_STATS,
    DETECTIONS,
    TRACKS,
    ANALYTICS_EVENTS,
    COUNTS,
    BEST_SHOTS,
    DESCRIPTORS,
    MATCHES,
    GENERAL_EVENTS,
    EVENT_NOTIFICATIONS,
    AGENT_FEEDBACK,
    STREAM_COMMANDS,
    STREAM_CONFIGS,
    DEAD_LETTER,
    TASKS,
)
BY_NAME: dict[str, TopicSpec] = {t.name: t for t in CATALOGUE}

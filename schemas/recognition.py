"""Messages of the watch-list path: a finished track's best shots (with pixels) to the extraction
processor, then the track's descriptors to the matcher, which owns the face store.

best-shots -> extraction (worker) -> descriptors -> matcher (API process, Milvus) -> analytics-events
(the track event with ``matches``) + general-events (``match``).
"""

from __future__ import annotations

from uuid import UUID

from pydantic import Field, model_validator

from schemas.analytics import MatchPolicy
from schemas.base import Message
from schemas.descriptors import Descriptor
from schemas.events import AnalyticsEventMessage

DEFAULT_MATCH_THRESHOLD = 0.5  # similarity; dlib's usual same-person distance 0.6 (schemas.descriptors.similarity)
MATCH_EVENT_TYPE = "match"


class _OfOneStream(Message):
    """A message keyed by the stream of the event it carries."""

    @model_validator(mode="after")
    def _same_stream(self) -> _OfOneStream:
        if self.stream_id != self.event.stream_id:  # type: ignore[attr-defined]
            raise ValueError("stream_id differs from event.stream_id")
        return self


class BestShotsMessage(_OfOneStream):
    """An ended human-tracking event whose best shots carry their JPEG crops, and what to do with them."""

    stream_id: UUID = Field(description="The topic's key: the event's stream.")
    event: AnalyticsEventMessage
    face_descriptor: bool = False
    body_descriptor: bool = False
    keep_images: bool = Field(False, description="The stream asked for best_shot_images: keep the crops.")
    match_policy: MatchPolicy | None = None


class TrackDescriptors(_OfOneStream):
    """A track's descriptors (``best_shots[].descriptor_id`` points at them) and its event, for matching."""

    stream_id: UUID = Field(description="The topic's key: the event's stream.")
    event: AnalyticsEventMessage
    descriptors: list[Descriptor] = Field(default_factory=list)
    match_policy: MatchPolicy | None = None

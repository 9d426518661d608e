"""Messages of the watch-list path: a finished track's best shots (with pixels) to the extraction
processor, then the track's descriptors to the matcher, which owns the face store, then its result.

best-shots -> extraction (worker) -> descriptors -> matcher (API process, Milvus) -> matches
(``TrackMatches``, for the websocket and callbacks) + general-events (``match``, stored).
The track event itself is published once, by the tracker, and never again.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field, model_validator

from schemas.analytics import MatchPolicy
from schemas.base import Message
from schemas.descriptors import Descriptor
from schemas.detections import TrackId
from schemas.events import AnalyticsEventMessage, ListMatch

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


class TrackMatches(Message):
    """The watch-list matcher's result for one ended human track: the faces of the stream's
    ``match_policy`` lists its best face resembles. Published only when there is a hit; replays are
    identical (``match_id`` is derived from ``event_id``, ``time`` is the track's end)."""

    match_id: UUID = Field(description="uuid5(event_id, 'match'): also the id of the stored `match` general event.")
    stream_id: UUID = Field(description="The topic's key.")
    account_id: UUID
    version: int = Field(ge=1, description="The stream version whose analytic made the track event.")
    analytic_index: int = Field(ge=0, description="Index of that analytic in the stream (its callbacks get the result).")
    event_id: UUID = Field(description="The matched human-tracking event.")
    track_id: TrackId
    time: datetime = Field(description="When the matched track ended.")
    matches: list[ListMatch] = Field(min_length=1, description="The hits, most similar first.")

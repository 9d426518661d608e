"""Tracks: the tracker's view of a frame, on topic ``selene.tracks``."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from schemas.base import Message
from schemas.detections import B64Bytes, BoundingBox, Landmark, TrackId

TrackState = Literal["tentative", "confirmed", "lost", "ended"]


class TrackedObject(Message):
    """One object's track on one frame.

    ``tentative`` until seen on ``probe_count`` frames, then ``confirmed``; ``lost`` while missing but
    still awaited; ``ended`` once, when the tracker gives it up. ``crop`` and ``landmarks`` are carried
    forward from the matched detection (absent on frames where the object was not detected).
    """

    track_id: TrackId
    kind: Literal["person", "face"]
    bbox: BoundingBox
    score: float = Field(ge=0, le=1)
    state: TrackState
    age_frames: int = Field(ge=0, description="Processed frames since the track started.")
    moving: bool = Field(description="False for objects that have not moved (a sign post seen as a person).")
    detection_id: UUID | None = Field(default=None, description="The detection matched on this frame.")
    landmarks: list[Landmark] = Field(default_factory=list)
    crop: B64Bytes | None = None


class TrackUpdate(Message):
    """All tracks of one stream on one processed frame (key ``stream_id``)."""

    stream_id: UUID
    version: int = Field(ge=1)
    frame_number: int = Field(ge=0)
    time_offset: float = Field(ge=0)
    timestamp: datetime
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    tracks: list[TrackedObject] = Field(default_factory=list)
    end_of_stream: bool = Field(False, description="The video is over: every track here is ended; close events.")
    overview: B64Bytes | None = Field(default=None, description="The frame's overview JPEG, passed on from detection.")

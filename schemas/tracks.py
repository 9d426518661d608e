"""Tracks: the tracker's view of a frame, on topic ``selene.tracks``.

A frame's tracks are ``Detections`` with a track id on every row and these data columns (``TRACK_COLUMNS``):
``state``, ``age_frames``, ``moving``, and, from the detection matched on this frame, ``detection_id``
(None when the object was not detected on it), ``landmarks`` and ``crop``.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

import numpy as np
from pydantic import Field

from schemas.base import Message
from schemas.detections import (
    AsRows,
    B64Bytes,
    BoundingBox,
    Detections,
    Landmark,
    TrackId,
)
from schemas.frames import FrameEnvelope

TrackState = Literal["tentative", "confirmed", "lost", "ended"]
TRACK_COLUMNS = ("state", "age_frames", "moving", "detection_id", "landmarks", "crop")


class TrackedObject(Message):
    """One object's track on one frame: a row of ``TrackUpdate.tracks`` on the wire.

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


def no_tracks() -> Detections:
    """A frame without tracks, with every track column (empty)."""
    return AsRows(TrackedObject).from_rows([])


def detected(tracks: Detections) -> np.ndarray:
    """Mask of the tracks whose object was detected on this frame (the others' boxes are predictions)."""
    return np.array([d is not None for d in tracks.data["detection_id"]], bool)


class TrackUpdate(FrameEnvelope):
    """All tracks of one stream on one processed frame (key ``stream_id``)."""

    tracks: Annotated[Detections, AsRows(TrackedObject)] = Field(
        default_factory=no_tracks,
        description="The frame's tracks, one JSON object per track.")
    end_of_stream: bool = Field(False, description="The video is over: every track here is ended; close events.")
    overview: B64Bytes | None = Field(default=None, description="The frame's overview JPEG, passed on from detection.")

"""The frames topic: one JPEG-encoded frame per message, described by Kafka headers.

The value is the JPEG bytes alone (raw pixels never go on Kafka); everything about the frame rides
in headers so that a consumer can route or drop a frame without decoding it. ``FrameEnvelope`` is the
part of that description every later per-frame message (detections, tracks, frame stats) repeats.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Self
from uuid import UUID

from pydantic import Field

from schemas.base import Message

MAX_FRAME_BYTES = 1024 * 1024  # Kafka's default message.max.bytes; the agent keeps JPEGs under it


class FrameEnvelope(Message):
    """What every per-frame message says about its frame: the stream, its version and run, where the frame sits
    in it, when it was taken, its width and height. Declared once; each later message about the frame inherits it
    (the wire stays flat) and is built with ``for_frame``, which carries the envelope forward."""

    stream_id: UUID
    version: int = Field(ge=1, description="Stream version (LUNA's `version`); stale versions are dropped.")
    run: int = Field(default=0, ge=0, description=(
        "The agent's run of this stream version: when it started playing it (Unix ms). An agent restart or "
        "a restarted stream is a new run whose frame numbers start again at 0, so a frame is known by "
        "(version, run, frame_number); a run older than one already seen is stale."))
    frame_number: int = Field(ge=0, description="Index of the frame in the decoded stream.")
    time_offset: float = Field(ge=0, description="Seconds since the stream start (PTS plus `pts.start_time`).")
    timestamp: datetime = Field(description="Wall-clock time of the frame (UTC).")
    width: int = Field(gt=0, description="Source frame width in pixels.")
    height: int = Field(gt=0, description="Source frame height in pixels.")

    @classmethod
    def for_frame(cls, frame: FrameEnvelope, **fields: Any) -> Self:
        """A message of this type about ``frame``'s frame: its envelope, plus ``fields``."""
        return cls(**{name: getattr(frame, name) for name in FrameEnvelope.model_fields}, **fields)


class FrameHeader(FrameEnvelope):
    """A frame on the frames topic, as Kafka headers."""

    size: int = Field(ge=0, description="Bytes of the encoded frame, or of the claim-checked pixels.")
    encoding: Literal["jpeg", "claim-check", "end"] = Field(
        "jpeg", description="`end`: no pixels; the video is over (or its source failed): end open tracks and events."
    )
    claim_key: str | None = Field(
        default=None, description="Redis key holding the pixels when `encoding` is `claim-check`."
    )
    live: bool = Field(default=False, description=(
        "From a live source (a camera, not a file): a processor that falls behind may drop it once stale, "
        "where a file's frames are all kept."))

    def to_kafka_headers(self) -> list[tuple[str, bytes]]:
        return [(k, str(v).encode()) for k, v in self.model_dump(mode="json").items() if v is not None]

    @classmethod
    def from_kafka_headers(cls, headers: dict[str, bytes] | list[tuple[str, bytes]]) -> FrameHeader:
        items = headers.items() if isinstance(headers, dict) else headers
        return cls.model_validate({k: v.decode() if isinstance(v, bytes) else v for k, v in items})


class FrameStat(FrameEnvelope):
    """One processed frame, as the frame-stats processor saw it: the pulse of a stream."""

    received_at: datetime = Field(description="When the processor took the frame off Kafka (UTC).")
    size: int

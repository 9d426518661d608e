"""Processor frames -> frame-stats: one record per frame, the pulse of each stream.

It reads only the frame's headers, never its pixels, so it costs next to nothing per frame.
"""

from __future__ import annotations

from datetime import UTC, datetime

import faust

from schemas.frames import FrameHeader, FrameStat
from schemas.topics import FRAME_STATS, FRAMES
from streams.processor import Publish, each, processor

PROCESSOR = "frame_stats"


def frame_stats(header: FrameHeader) -> list[Publish]:
    """The frame's stat; nothing for the end-of-video marker."""
    if header.encoding == "end":
        return []
    stat = FrameStat.for_frame(header, received_at=datetime.now(UTC), size=header.size)
    return [Publish(FRAME_STATS, stat.stream_id, stat)]


def register(app: faust.App) -> None:
    processor(app, PROCESSOR, FRAMES, FrameHeader, each(frame_stats), outputs=(FRAME_STATS,))

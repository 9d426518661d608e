"""Processor frames -> frame-stats: one record per frame, the pulse of each stream.

It reads only the frame's headers, never its pixels, so it costs next to nothing per frame.
"""

from __future__ import annotations

from datetime import UTC, datetime

import faust

from infra.dead_letter import validated
from schemas.frames import FrameHeader, FrameStat
from schemas.topics import FRAME_STATS, FRAMES
from streams.app import dead_letter_topic, topic

PROCESSOR = "frame_stats"


def frame_stat(header: FrameHeader, received_at: datetime) -> FrameStat:
    return FrameStat(
        stream_id=header.stream_id,
        version=header.version,
        frame_number=header.frame_number,
        time_offset=header.time_offset,
        timestamp=header.timestamp,
        received_at=received_at,
        width=header.width,
        height=header.height,
        size=header.size,
    )


def register(app: faust.App) -> None:
    stats = topic(app, FRAME_STATS)
    dead_letters = dead_letter_topic(app)

    @app.agent(topic(app, FRAMES), name=PROCESSOR)
    async def frame_stats(stream: faust.StreamT) -> None:
        async for event in stream.events():
            header = await validated(dead_letters, event, FrameHeader, PROCESSOR)
            if header is None or header.encoding == "end":
                continue
            stat = frame_stat(header, datetime.now(UTC))
            await stats.send(key=str(stat.stream_id).encode(), value=stat.model_dump_json().encode())

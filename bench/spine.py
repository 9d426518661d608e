"""The frame path, stage by stage, against the bare decoder in the same run.

Stages on the sample clip (H.264, 768x576, 300 frames):
  decode       PyAV decode of every frame, no pixel conversion (the baseline)
  + convert    to BGR arrays, as the agent does for sampled frames
  + jpeg       encoded at the agent's default quality
  + publish    through the Tansu broker to selene.frames
  + warehouse  processed by the frame-stats processor and written by the sink into chdb
Run: `make bench` (or `python -m bench.spine`).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import av

from agents.video_agent.publisher import FramePublisher
from analytics.events import sink
from analytics.events.chdb_warehouse import ChdbWarehouse
from analytics.events.migrate import migrate
from bench.common import record, scratch_broker, table
from infra.media.decode import iter_frames
from infra.media.jpeg import encode_jpeg
from infra.root.stack import SAMPLE_CLIP
from infra.settings import AgentSettings, SinkSettings, WorkerSettings
from schemas.frames import FrameHeader
from streams import frame_stats
from streams.app import create_app
from streams.runner import running

CLIP = str(SAMPLE_CLIP)
QUALITY = AgentSettings().jpeg_quality


def bare_decode() -> int:
    with av.open(CLIP) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        return sum(1 for _ in container.decode(stream))


def decode_convert() -> int:
    return sum(1 for _ in iter_frames(CLIP))


def decode_jpeg() -> list[tuple[int, float, bytes, int, int]]:
    out = []
    for frame in iter_frames(CLIP):
        height, width = frame.image.shape[:2]
        out.append((frame.frame_number, frame.time_offset, encode_jpeg(frame.image, QUALITY), width, height))
    return out


def timed(fn):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


async def pipeline(frames: list[tuple[int, float, bytes, int, int]], workdir: Path) -> tuple[float, float]:
    """Seconds to publish every frame, and seconds until the last row is in ClickHouse."""
    warehouse = ChdbWarehouse(workdir / "clickhouse", "selene_bench")
    async with scratch_broker(workdir) as broker:
        try:
            await warehouse.start()
            await migrate(warehouse)
            worker = create_app("bench-worker", broker, WorkerSettings())
            frame_stats.register(worker)
            sinker = sink.Sink(broker.bootstrap, "bench-sink", warehouse, SinkSettings(batch_seconds=0.2))
            await sinker.start()
            async with running(worker):
                stream_id = uuid.uuid4()
                publisher = FramePublisher(broker.bootstrap)
                await publisher.start()
                started = time.perf_counter()
                for number, offset, jpeg, width, height in frames:
                    header = FrameHeader(
                        stream_id=stream_id, version=1, frame_number=number, time_offset=offset,
                        timestamp=datetime.now(UTC), width=width, height=height, size=len(jpeg),
                    )
                    await publisher.publish(header, jpeg)
                await publisher.flush()
                published = time.perf_counter() - started
                await publisher.stop()
                sql = f"SELECT count() AS n FROM selene_bench.frame_stats WHERE stream_id = '{stream_id}'"
                while (await warehouse.query(sql))[0]["n"] < len(frames):
                    await asyncio.sleep(0.05)
                landed = time.perf_counter() - started
            await sinker.stop()
            return published, landed
        finally:
            await warehouse.stop()


def main() -> None:
    bare_decode()  # warm the codec and the page cache
    count, t_decode = timed(bare_decode)
    _, t_convert = timed(decode_convert)
    frames, t_jpeg = timed(decode_jpeg)
    with tempfile.TemporaryDirectory() as tmp:
        t_publish, t_land = asyncio.run(pipeline(frames, Path(tmp)))
    mean_kib = sum(len(f[2]) for f in frames) / len(frames) / 1024
    rows = [
        ["decode (baseline)", f"{count / t_decode:.0f}", "1.00"],
        ["decode + convert to BGR", f"{count / t_convert:.0f}", f"{t_convert / t_decode:.2f}"],
        [f"decode + convert + JPEG q{QUALITY}", f"{count / t_jpeg:.0f}", f"{t_jpeg / t_decode:.2f}"],
        ["publish to Kafka (Tansu), 32 in flight", f"{count / t_publish:.0f}", f"{t_publish / t_decode:.2f}"],
        ["publish until all rows in ClickHouse", f"{count / t_land:.0f}", f"{t_land / t_decode:.2f}"],
    ]
    body = table(["stage", "frames/s", "time vs bare decode"], rows)
    notes = (
        f"{count} frames of {CLIP.rsplit('/', 1)[-1]} (768x576 H.264); mean JPEG {mean_kib:.0f} KiB. "
        "Publish and warehouse rows time only the Kafka part (frames pre-encoded), so their ratios compare "
        "that cost with decoding the same frames."
    )
    record("Frame path (bench/spine.py)", body, notes)


if __name__ == "__main__":
    main()

"""Live 25 fps streams per worker at LUNA's default rate (every 10th frame: 2.5 frames/s a stream), without
growing lag, against what the bare detector alone would serve, in the same run.

  bare detector   JPEG decode + NanoDet over the same 720p frames, in the worker's batches (the baseline):
                  its frames/s / 2.5 is the most streams a worker could serve if Kafka, Faust, tracking and
                  counting cost nothing
  worker          one Faust worker (detection, tracking, people_count; default settings) in this process, fed
                  N live streams of 720p JPEGs (real footage, pre-encoded), each paced at 2.5 frames/s. A step
                  of N holds when, after a warm-up, no frame went stale, the count samples on selene.counts kept
                  up (>= 90% of the frames sent after the warm-up) and their lag (frame time to sample seen) did not grow
                  (median of the last third minus that of the first third < 0.5 s)

N goes 1, 2, 4, 6, ... until a step fails; the figure is the last N that held; ratio = figure / bare streams.
Run: ``python -m bench.live``.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client import REGISTRY

from agents.video_agent.publisher import FramePublisher
from bench.common import record, scratch_broker, summarize, table
from bench.processors import LUNA_STREAM_FPS, bare_detector
from infra.media.decode import iter_frames
from infra.media.jpeg import encode_jpeg
from infra.root.stack import SAMPLE_CLIP
from infra.settings import AgentSettings, BrokerSettings, InferenceSettings, WorkerSettings
from schemas.events import CountSample
from schemas.frames import FrameHeader
from schemas.streams import StreamConfig, StreamConfigAnalytic, StreamData
from schemas.topics import COUNTS, STREAM_CONFIGS
from streams import detection, people_count, tracking
from streams.app import create_app
from streams.runner import running

FPS, EVERY, SIZE = 25, 10, (1280, 720)
STEP_SECONDS, WARM_SECONDS, DRAIN_SECONDS, SETTLE_SECONDS = 12.0, 3.0, 2.0, 2.0
MAX_STREAMS = 40
Frame = tuple[int, float, bytes, int, int]


def live_frames() -> list[Frame]:
    """Every 10th frame of the sample clip (real footage) scaled to 720p, as the agent's JPEGs."""
    quality = AgentSettings().jpeg_quality
    return [(f.frame_number, f.time_offset, encode_jpeg(cv2.resize(f.image, SIZE), quality), *SIZE)
            for f in iter_frames(str(SAMPLE_CLIP), EVERY)]


async def publish_configs(bootstrap: str, stream_ids: list[uuid.UUID]) -> None:
    """The manager's part: people_count at its defaults (LUNA's rate, every 10th frame) for each stream."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for stream_id in stream_ids:
            config = StreamConfig(stream_id=stream_id, account_id=uuid.uuid4(), version=1,
                                  data=StreamData(type="stream", reference=f"rtsp://camera/{stream_id}"),
                                  analytics=[StreamConfigAnalytic(index=0, analytic_name="people_count")])
            await producer.send_and_wait(STREAM_CONFIGS.name, config.model_dump_json().encode(),
                                         key=str(stream_id).encode())
    finally:
        await producer.stop()


async def camera(publisher: FramePublisher, stream_id: uuid.UUID, frames: list[Frame], phase: float,
                 until: float) -> int:
    """One live stream: every 10th frame of 25 fps, on time, stamped when sent, as the agent does."""
    period, sent = EVERY / FPS, 0
    start = time.monotonic() + phase
    while (due := start + sent * period) < until:
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        _, _, jpeg, width, height = frames[sent % len(frames)]
        await publisher.publish(FrameHeader(
            stream_id=stream_id, version=1, frame_number=sent * EVERY, time_offset=sent * period,
            timestamp=datetime.now(UTC), width=width, height=height, size=len(jpeg), live=True), jpeg)
        sent += 1
    return sent


async def step(broker: BrokerSettings, publisher: FramePublisher, frames: list[Frame], n: int) -> dict[str, float]:
    """N streams for STEP_SECONDS; what the count samples of the frames sent after the warm-up show."""
    stream_ids = [uuid.uuid4() for _ in range(n)]
    await publish_configs(broker.bootstrap, stream_ids)
    await asyncio.sleep(1)  # the worker's configs table takes them in
    counts = AIOKafkaConsumer(COUNTS.name, bootstrap_servers=broker.bootstrap, group_id=None,
                              auto_offset_reset="latest")
    await counts.start()
    lags: list[tuple[datetime, float]] = []  # (when the frame was sent, how late its sample came)
    wanted = set(stream_ids)
    started, warm = time.monotonic(), datetime.now(UTC) + timedelta(seconds=WARM_SECONDS)
    until = started + STEP_SECONDS
    cameras = [asyncio.create_task(camera(publisher, s, frames, i / n * EVERY / FPS, until))
               for i, s in enumerate(stream_ids)]
    while time.monotonic() < until + DRAIN_SECONDS:  # a sample of the last frames may come a little later
        for records in (await counts.getmany(timeout_ms=200)).values():
            now = datetime.now(UTC)
            for r in records:
                sample = CountSample.model_validate_json(r.value or b"")
                if sample.stream_id in wanted and sample.timestamp >= warm:
                    lags.append((sample.timestamp, (now - sample.timestamp).total_seconds()))
    sent = sum(await asyncio.gather(*cameras))
    await counts.stop()
    lags.sort()
    third = max(1, len(lags) // 3)
    growth = (statistics.median(lag for _, lag in lags[-third:]) - statistics.median(lag for _, lag in lags[:third])
              if lags else float("inf"))
    ordered = sorted(lag for _, lag in lags)
    stale = sum(REGISTRY.get_sample_value("selene_frames_stale_total", {"stream_id": str(s)}) or 0 for s in stream_ids)
    kept = len(lags) / (n * LUNA_STREAM_FPS * (STEP_SECONDS - WARM_SECONDS))
    return {
        "streams": n, "sent_fps": sent / STEP_SECONDS, "kept": kept, "stale": stale, "growth": growth,
        "p50": ordered[len(ordered) // 2] if ordered else float("inf"),
        "p95": ordered[int(len(ordered) * 0.95)] if ordered else float("inf"),
        "holds": float(stale == 0 and kept >= 0.9 and growth < 0.5),
    }


async def ladder(frames: list[Frame], workdir: Path) -> list[dict[str, float]]:
    async with scratch_broker(workdir) as broker:
        worker = create_app("bench-live", broker, WorkerSettings())
        settings = InferenceSettings()
        detection.register(worker, settings)
        tracking.register(worker, inference=settings)
        people_count.register(worker)
        publisher = FramePublisher(broker.bootstrap)
        await publisher.start()
        steps: list[dict[str, float]] = []
        try:
            async with running(worker):
                await asyncio.sleep(3)  # the worker joins its group and takes its partitions
                for n in (1, *range(2, MAX_STREAMS + 1, 2)):
                    result = await step(broker, publisher, frames, n)
                    steps.append(result)
                    print(result, flush=True)
                    if not result["holds"]:
                        break
                    await asyncio.sleep(SETTLE_SECONDS)  # what is still in flight drains before the next step
        finally:
            await publisher.stop()
        return steps


def main() -> None:
    frames = live_frames()
    settings = InferenceSettings()
    twice = frames + frames  # enough batches that the model's first allocations do not weigh
    bare_fps = len(twice) / bare_detector(twice, settings)
    bare_streams = bare_fps / LUNA_STREAM_FPS
    with tempfile.TemporaryDirectory() as tmp:
        steps = asyncio.run(ladder(frames, Path(tmp)))
    sustained = max((int(s["streams"]) for s in steps if s["holds"]), default=0)
    rows = [[f"{int(s['streams'])}", f"{s['sent_fps']:.1f}", f"{s['kept']:.2f}", f"{s['p50']:.2f}", f"{s['p95']:.2f}",
             f"{s['growth']:+.2f}", f"{int(s['stale'])}", "yes" if s["holds"] else "no"] for s in steps]
    body = table(["live streams", "frames sent/s", "count samples kept", "lag p50 s", "lag p95 s",
                  "lag growth s", "stale drops", "holds"], rows)
    body += "\n\n" + table(["", "streams", "ratio"], [
        [f"bare detector: {bare_fps:.1f} frames/s / {LUNA_STREAM_FPS} (baseline)", f"{bare_streams:.1f}", "1.00"],
        ["one worker, live streams sustained without growing lag", f"{sustained}",
         f"{sustained / bare_streams:.2f}"],
    ])
    notes = (f"{len(frames)} frames of {SAMPLE_CLIP.name} scaled to {SIZE[0]}x{SIZE[1]}, JPEG quality "
             f"{AgentSettings().jpeg_quality}, cycled; each stream 2.5 frames/s (every 10th of 25 fps), live. Worker: "
             f"detection + tracking + people_count in the benchmark's process, {settings.threads} onnxruntime threads, "
             f"batches of {settings.batch_size}, {settings.person_tiles} tiles; {STEP_SECONDS:.0f} s per step, the first "
             f"{WARM_SECONDS:.0f} s not measured. Lag: frame timestamp to its count sample read off selene.counts.")
    record("Live streams per worker (bench/live.py)", body, notes)
    summarize(streams_per_worker=sustained)


if __name__ == "__main__":
    main()

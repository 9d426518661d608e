"""The video agent's stream runner against bare PyAV decoding of the same file, in the same run.

  bare decode       PyAV decodes every frame of a 720p 25 fps H.264 clip, no conversion (the baseline)
  runner @ rate     a StreamRunner (decode, sample, encode JPEG, publish to Tansu) at every 10th frame
                    (LUNA's people_count default), one row per change of issue 15 (BGR + OpenCV JPEG as
                    before; YUV planes to libjpeg-turbo; non-reference frames left undecoded; decoder
                    threads), then at every frame; each runner run follows a bare decode, ratio = bare
                    time / runner time, the median of REPEATS such pairs
  live streams      N copies of the clip played as 25 fps live streams at every 10th frame with the
                    process pinned to one core (the broker is not): the most N whose streams all
                    keep >= 95% of 25 fps with no dropped frames
Run: `python -m bench.agent`; writes ``agent_ratio`` (shipped settings, every 10th frame) to bench/summary.json.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import av
import cv2

from agents.video_agent.publisher import FramePublisher
from agents.video_agent.runner import StreamRunner
from bench.common import record, scratch_broker, summarize, table
from infra.media.decode import to_image
from infra.media.jpeg import encode_jpeg
from infra.root.stack import SAMPLE_CLIP
from infra.settings import AgentSettings
from schemas.streams import StreamConfig, StreamConfigAnalytic, StreamData

SETTINGS = AgentSettings(decoder="cpu")
FPS, SIZE, SECONDS = 25, (1280, 720), 12
SOURCE = SAMPLE_CLIP  # OpenCV's vtest.avi footage, 768x576
LIVE_SECONDS = 8.0
REPEATS = 5


class BgrRunner(StreamRunner):
    """The runner as it was before issue 15: every sampled frame to BGR, then OpenCV's JPEG."""

    def _encode(self, frame: av.VideoFrame) -> tuple[bytes, int, int]:
        image = to_image(frame, self.config.data.rotation)
        return encode_jpeg(image, self.settings.jpeg_quality), image.shape[1], image.shape[0]


# (row, runner, settings changed from the shipped ones), every 10th frame
VARIANTS: list[tuple[str, type[StreamRunner], dict[str, object]]] = [
    ("before: BGR + OpenCV JPEG, every frame decoded", BgrRunner, {"skip_frames": False, "decoder_threads": 0}),
    ("YUV planes to simplejpeg, every frame decoded", StreamRunner, {"skip_frames": False, "decoder_threads": 0}),
    ("YUV + non-reference frames skipped, threads auto", StreamRunner, {"skip_frames": True, "decoder_threads": 0}),
    ("YUV + skipped, 1 decoder thread", StreamRunner, {"skip_frames": True, "decoder_threads": 1}),
    ("YUV + skipped, 2 decoder threads", StreamRunner, {"skip_frames": True, "decoder_threads": 2}),
]


def write_clip(path: Path) -> Path:
    """Real footage (the sample clip, cut from OpenCV's vtest.avi) scaled to 720p, as 25 fps H.264."""
    with av.open(str(SOURCE)) as source, av.open(str(path), "w") as container:
        stream = container.add_stream("h264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = *SIZE, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23"}
        for i, frame in enumerate(source.decode(video=0)):
            if i == FPS * SECONDS:
                break
            image = cv2.resize(frame.to_ndarray(format="bgr24"), SIZE, interpolation=cv2.INTER_LINEAR)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def bare_decode(clip: Path) -> tuple[int, float, float]:
    """Frames, wall seconds and CPU seconds (this process, every thread) of decoding the whole clip."""
    started, cpu = time.perf_counter(), time.process_time()
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        count = sum(1 for _ in container.decode(stream))
    return count, time.perf_counter() - started, time.process_time() - cpu


def config(clip: Path, kind: str, every: int) -> StreamConfig:
    return StreamConfig(
        stream_id=uuid.uuid4(),
        account_id=uuid.uuid4(),
        version=1,
        data=StreamData(type=kind, reference=str(clip)),
        analytics=[
            StreamConfigAnalytic(index=0, analytic_name="bench", parameters={"rate": {"period": every, "unit": "frame"}})
        ],
    )


async def run_file(publisher: FramePublisher, clip: Path, every: int, runner_class: type[StreamRunner] = StreamRunner,
                   settings: AgentSettings = SETTINGS) -> tuple[int, float, float]:
    """Frames published, wall seconds and CPU seconds (this process) of running the clip as a file."""
    runner = runner_class(config(clip, "videofile", every), publisher, settings)
    started, cpu = time.perf_counter(), time.process_time()
    runner.start()
    while runner.active:
        await asyncio.sleep(0.005)
    return runner.state.published, time.perf_counter() - started, time.process_time() - cpu


async def run_live(publisher: FramePublisher, clip: Path, streams: int) -> tuple[float, int]:
    """Lowest per-stream decode fps over the run, and the drops of all streams together."""
    runners = [StreamRunner(config(clip, "stream", 10), publisher, SETTINGS) for _ in range(streams)]
    for runner in runners:
        runner.start()
    await asyncio.sleep(1.0)  # past the first open
    marks = [r.state.decoded for r in runners]
    await asyncio.sleep(LIVE_SECONDS)
    fps = min((r.state.decoded - m) / LIVE_SECONDS for r, m in zip(runners, marks, strict=True))
    dropped = sum(r.state.dropped for r in runners)
    await asyncio.gather(*(r.stop() for r in runners))
    await asyncio.sleep(0.5)  # let the decoder threads leave
    return fps, dropped


def pin_to_one_core() -> None:
    """Every thread of this process, the executor's and FFmpeg's included, and those started later."""
    core = {min(os.sched_getaffinity(0))}
    for tid in os.listdir("/proc/self/task"):
        os.sched_setaffinity(int(tid), core)


def settings_label() -> str:
    return ", ".join(f"{key}={getattr(SETTINGS, key)}" for key in ("skip_frames", "decoder_threads"))


async def measure(clip: Path, workdir: Path) -> tuple[list[list[str]], float, list[list[str]]]:
    async with scratch_broker(workdir) as broker:
        publisher = FramePublisher(broker.bootstrap)
        await publisher.start()
        bare_decode(clip)  # warm the codec and the page cache
        cases = [(label, runner, changes, 10) for label, runner, changes in VARIANTS]
        cases.append((f"shipped settings ({settings_label()})", StreamRunner, {}, 1))
        runs: dict[str, list[tuple[float, float, float, float]]] = {label: [] for label, *_ in cases}
        count, published = {}, {}
        for _ in range(REPEATS):  # interleaved, so that the machine's load weighs on every row alike
            for label, runner, changes, every in cases:
                count[label], wall_bare, cpu_bare = bare_decode(clip)
                settings = SETTINGS.model_copy(update=changes)
                published[label], wall, cpu = await run_file(publisher, clip, every, runner, settings)
                runs[label].append((wall_bare, wall, cpu_bare, cpu))
        rows, agent_ratio = [], 0.0
        for label, runner, changes, every in cases:
            wall_bare, wall, cpu_bare, cpu = (statistics.median(run[i] for run in runs[label]) for i in range(4))
            ratio = statistics.median(run[0] / run[1] for run in runs[label])
            cpu_ratio = statistics.median(run[2] / run[3] for run in runs[label])
            rows.append([label, str(every), f"{count[label] / wall_bare:.0f}", f"{count[label] / wall:.0f}",
                         str(published[label]), f"{ratio:.2f}", f"{count[label] / cpu_bare:.0f}",
                         f"{count[label] / cpu:.0f}", f"{cpu_ratio:.2f}"])
            if every == 10 and runner is StreamRunner and all(getattr(SETTINGS, k) == v for k, v in changes.items()):
                agent_ratio = ratio
        pin_to_one_core()
        live = []
        for streams in (1, 2, 4, 6, 8, 10, 12, 16, 20, 24, 32):
            fps, dropped = await run_live(publisher, clip, streams)
            live.append([str(streams), f"{fps:.1f}", str(dropped)])
            if fps < 0.95 * FPS or dropped:
                break
        await publisher.stop()
        return rows, agent_ratio, live


def main() -> None:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        clip = write_clip(Path(tmp) / "720p.mp4")
        ratios, agent_ratio, live = asyncio.run(measure(clip, Path(tmp)))
    load_after = os.getloadavg()
    body = table(["runner", "every Nth frame", "bare decode fps", "runner fps", "frames published", "ratio",
                  "bare frames / CPU s", "runner frames / CPU s", "CPU ratio"], ratios)
    body += "\n\nLive 720p 25 fps streams at every 10th frame, agent pinned to one core (broker not):\n\n"
    body += table(["streams", "slowest stream's decode fps", "dropped frames"], live)
    sustained = max((int(r[0]) for r in live if float(r[1]) >= 0.95 * FPS and r[2] == "0"), default=0)
    notes = (
        f"{FPS * SECONDS} frames of vtest.avi as {SIZE[0]}x{SIZE[1]} {FPS} fps H.264 (x264 veryfast, B-frames); "
        "the runner samples, JPEG-encodes the sampled frames and publishes them to Tansu. Ratios are medians "
        f"of {REPEATS} interleaved (bare decode, runner) pairs; ratio = bare wall time / runner wall time (the "
        "figure of issue 15), CPU ratio = the same with this process's CPU time (the broker's not counted). "
        f"agent_ratio (shipped settings, {settings_label()}, "
        f"every 10th frame) = {agent_ratio:.2f}. One core sustains {sustained} live 720p stream(s) without drops. "
        f"Load average (1, 5, 15 min) {' '.join(f'{x:.2f}' for x in load_before)} before, "
        f"{' '.join(f'{x:.2f}' for x in load_after)} after."
    )
    record("Video agent (bench/agent.py)", body, notes)
    summarize(agent_ratio=agent_ratio)


if __name__ == "__main__":
    main()

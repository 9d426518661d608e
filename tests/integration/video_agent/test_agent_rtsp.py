"""Live RTSP against a real server (GStreamer's gst-rtsp-server, run by the system python3): TCP and
UDP, and a server that dies mid-stream and comes back: the agent reconnects, frames resume, and no
restart attempt is used (the stream never leaves in_progress)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.video_agent.publisher import FramePublisher
from agents.video_agent.runner import StreamRunner
from infra.settings import AgentSettings
from schemas.frames import FrameHeader
from schemas.status import StreamStatus
from tests.support import eventually, write_test_video
from tests.support_agent import FrameReader, RtspServer, rtsp_available, stream_config

pytestmark = pytest.mark.asyncio(loop_scope="session")
SETTINGS = AgentSettings(decoder="cpu", reconnect_initial=0.2, reconnect_max=1.0)


@pytest.fixture(scope="module")
def rtsp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RtspServer]:
    reason = rtsp_available()
    if reason:
        pytest.skip(reason)
    clip = write_test_video(tmp_path_factory.mktemp("rtsp") / "camera.mp4", frames=600, size=(320, 240), codec="h264")
    server = RtspServer(clip)
    server.start()
    yield server
    server.kill()


async def _count(frames: FrameReader, runner: StreamRunner, at_least: int, timeout: float = 20) -> int:
    headers = await eventually(
        lambda: asyncio.sleep(0, frames.headers(runner.config.stream_id)), lambda h: len(h) >= at_least, timeout
    )
    return len(headers)


def _assert_in_order(headers: list[FrameHeader]) -> None:
    """Strictly increasing numbers and offsets; gaps are frames dropped to stay live (FFmpeg's probe
    hands over its first seconds at once)."""
    numbers, offsets = [h.frame_number for h in headers], [h.time_offset for h in headers]
    assert numbers == sorted(set(numbers)) and offsets == sorted(set(offsets))


@pytest.mark.parametrize("transport", ["tcp", "udp"])
async def test_rtsp_frames_flow(
    rtsp: RtspServer, publisher: FramePublisher, frames: FrameReader, transport: str
) -> None:
    kwargs = {"ffmpeg_kwargs": {"rtsp_transport": "udp"}} if transport == "udp" else {}
    runner = StreamRunner(stream_config(rtsp.url, kind="stream", **kwargs), publisher, SETTINGS)
    runner.start()
    try:
        await _count(frames, runner, 10)
        headers = frames.headers(runner.config.stream_id)
        _assert_in_order(headers)
        assert (headers[0].width, headers[0].height) == (320, 240)
        assert runner.state.status == StreamStatus.IN_PROGRESS and runner.state.last_error is None
    finally:
        await runner.stop()


async def test_rtsp_server_restart_reconnects_without_using_a_restart(
    tmp_path: Path, publisher: FramePublisher, frames: FrameReader, rtsp: RtspServer
) -> None:
    server = RtspServer(rtsp.clip)
    server.start()
    runner = StreamRunner(stream_config(server.url, kind="stream", timeout=1000), publisher, SETTINGS)
    runner.start()
    statuses: set[StreamStatus] = set()

    async def watch() -> None:
        while True:
            statuses.add(runner.state.status)
            await asyncio.sleep(0.02)

    watcher = asyncio.create_task(watch())
    try:
        await _count(frames, runner, 10)
        server.kill()
        await eventually(lambda: asyncio.sleep(0, runner.state.last_error), lambda e: e is not None, timeout=10)
        before = len(frames.headers(runner.config.stream_id))
        await asyncio.sleep(1.0)  # down a while: reconnects fail with backoff
        server.start()
        await _count(frames, runner, before + 10)
        _assert_in_order(frames.headers(runner.config.stream_id))  # one timeline across the gap
        assert statuses == {StreamStatus.IN_PROGRESS}
        assert runner.state.last_error is not None
    finally:
        watcher.cancel()
        await runner.stop()
        server.kill()
    await eventually(lambda: asyncio.sleep(0, runner.thread_alive), lambda alive: not alive, timeout=5)

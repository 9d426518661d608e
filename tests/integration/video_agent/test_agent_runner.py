"""Stream runners against the real broker and real encoded video: sampling, statuses, bad sources."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import cv2
import numpy as np
import pytest
import redis.asyncio as aioredis

from infra.claimcheck import ClaimCheck
from infra.media.decode import iter_frames
from agents.video_agent.publisher import FramePublisher
from agents.video_agent.runner import StreamRunner
from infra.process import free_port
from infra.settings import AgentSettings, BrokerSettings, RedisSettings
from schemas.frames import FrameHeader
from schemas.status import StreamStatus
from schemas.streams import StreamConfig
from tests.support import eventually, write_test_video, write_truncated_mp4
from tests.support_agent import DATA, FrameReader, HttpSource, stream_config

pytestmark = pytest.mark.asyncio(loop_scope="session")
SETTINGS = AgentSettings(decoder="cpu", reconnect_initial=0.1, reconnect_max=0.5)


async def _run(config: StreamConfig, publisher: FramePublisher, settings: AgentSettings = SETTINGS) -> StreamRunner:
    runner = StreamRunner(config, publisher, settings)
    runner.start()
    return runner


async def _until_finished(runner: StreamRunner, timeout: float = 20) -> StreamRunner:
    await eventually(lambda: asyncio.sleep(0, runner), lambda r: not r.active, timeout=timeout, interval=0.05)
    await eventually(lambda: asyncio.sleep(0, runner), lambda r: not r.thread_alive, timeout=5, interval=0.05)
    return runner


async def _published(frames: FrameReader, runner: StreamRunner, count: int) -> list[FrameHeader]:
    return await eventually(
        lambda: asyncio.sleep(0, frames.headers(runner.config.stream_id)), lambda h: len(h) >= count, timeout=20
    )


async def test_file_is_sampled_exactly_in_order_then_done(publisher: FramePublisher, frames: FrameReader) -> None:
    config = stream_config(DATA / "vtest_h264.mp4", rate={"period": 3, "unit": "frame"}, pts={"start_time": 100})
    runner = await _until_finished(await _run(config, publisher))
    assert runner.state.status == StreamStatus.DONE and runner.state.last_error is None
    headers = await _published(frames, runner, 10)
    assert [h.frame_number for h in headers] == list(range(0, 30, 3))
    assert [round(h.time_offset, 3) for h in headers] == [round(100 + n / 10, 3) for n in range(0, 30, 3)]
    assert {(h.version, h.width, h.height, h.encoding) for h in headers} == {(1, 384, 288, "jpeg")}
    assert runner.state.last_processed_frame_time == pytest.approx(102.7)
    assert runner.state.decoded == 30 and runner.state.dropped == 0 and runner.state.decoder == "cpu"


async def test_a_restarted_stream_is_a_new_run(publisher: FramePublisher, frames: FrameReader) -> None:
    # An agent restart plays the same version again from frame 0; the run tells its frames from the first's.
    config = stream_config(DATA / "vtest_h264.mp4", rate={"period": 10, "unit": "frame"})
    first = await _until_finished(await _run(config, publisher))
    second = await _until_finished(await _run(config, publisher))
    headers = [h for h in await _published(frames, second, 6) if h.encoding == "jpeg"]
    assert second.run > first.run
    assert [(h.run, h.frame_number) for h in headers] == [(first.run, n) for n in (0, 10, 20)] + [
        (second.run, n) for n in (0, 10, 20)]


async def test_every_n_seconds_and_rotation(publisher: FramePublisher, frames: FrameReader, tmp_path: Path) -> None:
    clip = write_test_video(tmp_path / "clip.mp4", frames=25, fps=10)
    config = stream_config(clip, rate={"period": 0.5, "unit": "second"}, rotation=90)
    runner = await _until_finished(await _run(config, publisher))
    assert runner.state.status == StreamStatus.DONE
    await _published(frames, runner, 5)
    published = frames.frames[config.stream_id]
    assert [h.frame_number for h, _ in published] == [0, 5, 10, 15, 20]
    header, jpeg = published[0]
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert (header.width, header.height) == (120, 160) and image.shape == (160, 120, 3)
    assert header.size == len(jpeg)


@pytest.mark.parametrize("kind", ["random bytes", "truncated", "404"])
async def test_unreadable_file_is_a_failure_with_last_error(
    publisher: FramePublisher, tmp_path: Path, kind: str
) -> None:
    server = HttpSource()
    try:
        if kind == "random bytes":
            reference = tmp_path / "noise.mp4"
            reference.write_bytes(np.random.default_rng(7).integers(0, 256, 200_000, dtype=np.uint8).tobytes())
        elif kind == "truncated":
            whole = (DATA / "vtest_h264.mp4").read_bytes()
            reference = tmp_path / "cut.mp4"
            reference.write_bytes(whole[: len(whole) // 2])
        else:
            reference = f"{server.url}/missing.mp4"
        runner = await _until_finished(await _run(stream_config(reference), publisher))
    finally:
        server.close()
    assert runner.state.status == StreamStatus.FAILURE
    assert runner.state.last_error is not None
    assert runner.state.last_error.detail.startswith("An error occurred during stream/video decoding around")
    assert runner.state.published == 0


@pytest.mark.parametrize("at_packet", [True, False])
async def test_a_file_cut_in_half_with_its_index_in_front_fails_after_its_frames(
    publisher: FramePublisher, frames: FrameReader, tmp_path: Path, at_packet: bool
) -> None:
    # FFmpeg decodes such a file to the cut with no error; it must not end `done` as if complete.
    clip, kept = write_truncated_mp4(DATA / "vtest_h264.mp4", tmp_path / "half.mp4", at_packet=at_packet)
    runner = await _until_finished(await _run(stream_config(clip), publisher))
    assert runner.state.status == StreamStatus.FAILURE
    assert runner.state.last_error is not None and runner.state.last_error.error_code == 45007
    detail = runner.state.last_error.detail
    assert detail.startswith("An error occurred during stream/video decoding around ")
    truncated = detail.endswith(" of its 30 frames (truncated or corrupt)") and "the file ends after" in detail
    # Cut inside a packet, the broken last packet is an error of FFmpeg's own with 1 or 2 decoder threads
    # (the default), and dropped without one with more: the declared count tells then.
    assert truncated or (not at_packet and detail.endswith(": Invalid data found when processing input"))
    assert 0 < runner.state.published <= kept  # what it had is still processed; the end marker follows
    assert len(await _published(frames, runner, runner.state.published)) == runner.state.published
    await eventually(lambda: asyncio.sleep(0, frames.ends[runner.config.stream_id]), lambda ends: len(ends) == 1)


async def test_stall_past_timeout_reports_lunas_timeout(publisher: FramePublisher, tmp_path: Path) -> None:
    clip = write_test_video(tmp_path / "clip.ts", frames=60, fps=10)
    data = clip.read_bytes()
    server = HttpSource(data, stall_after=len(data) // 2)
    try:
        runner = await _run(stream_config(f"{server.url}/stall", timeout=600), publisher)
        await _until_finished(runner)
    finally:
        server.close()
    assert runner.state.status == StreamStatus.FAILURE
    error = runner.state.last_error
    assert error is not None and error.detail.endswith("second: TIMEOUT")
    around = float(error.detail.split("around ")[1].split(" second")[0])
    assert 0.5 < around < 6.0  # the last frame decoded before the stall
    assert runner.state.published > 0


async def test_unreachable_live_source_keeps_retrying_without_failing(publisher: FramePublisher) -> None:
    config = stream_config(f"rtsp://127.0.0.1:{free_port()}/cam", kind="stream", timeout=500)
    runner = await _run(config, publisher)
    try:
        await eventually(lambda: asyncio.sleep(0, runner.state), lambda s: s.last_error is not None, timeout=10)
        assert runner.state.last_error is not None and runner.state.last_error.error_code == 45005
        await asyncio.sleep(1.0)  # several reconnects with backoff
        assert runner.state.status == StreamStatus.IN_PROGRESS and runner.active and runner.thread_alive
    finally:
        await runner.stop()
    await _until_finished(runner)  # no thread left behind


@pytest.mark.parametrize(("kind", "status"), [("stream", StreamStatus.IN_PROGRESS), ("videofile", StreamStatus.FAILURE)])
async def test_host_that_does_not_answer_times_out(publisher: FramePublisher, kind: str, status: StreamStatus) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # connects, never says a word
        config = stream_config(f"rtsp://127.0.0.1:{silent.getsockname()[1]}/cam", kind=kind, timeout=400)
        runner = await _run(config, publisher)
        try:
            error = await eventually(lambda: asyncio.sleep(0, runner.state.last_error), bool, timeout=10)
            assert error.detail == "An error occurred during stream/video decoding around 0.000 second: TIMEOUT"
            await asyncio.sleep(0.3)
            assert runner.state.status == status
        finally:
            await runner.stop()
    await _until_finished(runner)


async def test_downloadable_file_is_fetched_first(publisher: FramePublisher, frames: FrameReader) -> None:
    server = HttpSource((DATA / "vtest_h264.mp4").read_bytes())
    try:
        every_10 = {"period": 10, "unit": "frame"}
        ok = await _run(stream_config(f"{server.url}/file", downloadable=True, rate=every_10), publisher)
        missing = await _run(stream_config(f"{server.url}/nothing.mp4", downloadable=True), publisher)
        await _until_finished(ok)
        await _until_finished(missing)
    finally:
        server.close()
    assert ok.state.status == StreamStatus.DONE
    assert [h.frame_number for h in await _published(frames, ok, 3)] == [0, 10, 20]
    assert missing.state.status == StreamStatus.FAILURE
    assert missing.state.last_error is not None and missing.state.last_error.error_code == 43001


async def _settled(runner: StreamRunner) -> int:
    """Frames decoded, once the count held still for half a second (the stall point, not on the way there)."""
    before = runner.state.decoded
    await asyncio.sleep(0.5)
    return runner.state.decoded if runner.state.decoded == before else 0


async def test_a_stalled_stream_never_stalls_another(
    publisher: FramePublisher, frames: FrameReader, tmp_path: Path
) -> None:
    clip = write_test_video(tmp_path / "clip.ts", frames=40, fps=10)
    data = clip.read_bytes()
    server = HttpSource(data, stall_after=len(data) // 3)
    stalled = await _run(stream_config(f"{server.url}/stall", kind="stream", timeout=30_000), publisher)
    flowing = await _run(stream_config(clip, kind="stream", rate={"period": 2, "unit": "frame"}), publisher)
    try:
        stuck_at = await eventually(lambda: _settled(stalled), lambda n: n > 0, timeout=20)
        headers = await _published(frames, flowing, 15)  # 3 s of a 10 fps camera, paced in real time
        assert stalled.state.decoded == stuck_at and stalled.active
        numbers = [h.frame_number for h in headers]
        assert numbers == sorted(numbers) and numbers[:3] == [0, 2, 4]
    finally:
        await asyncio.gather(stalled.stop(), flowing.stop())
        server.close()
    await _until_finished(stalled)
    await _until_finished(flowing)


class SlowPublisher(FramePublisher):
    """A producer that takes 30 ms a frame: slower than the camera."""

    async def publish(self, header: FrameHeader, jpeg: bytes) -> None:
        await asyncio.sleep(0.03)
        await super().publish(header, jpeg)


async def test_live_stream_drops_oldest_frames_when_the_producer_lags(
    broker: BrokerSettings, frames: FrameReader, tmp_path: Path
) -> None:
    clip = write_test_video(tmp_path / "fast.mp4", frames=100, fps=100)
    slow = SlowPublisher(broker.bootstrap)
    await slow.start()
    try:
        settings = SETTINGS.model_copy(update={"queue_frames": 4})
        live = await _run(stream_config(clip, kind="stream"), slow, settings)
        await eventually(lambda: asyncio.sleep(0, live.state.decoded), lambda n: n >= 100, timeout=10, interval=0.05)
        decoded_in = asyncio.get_running_loop().time()
        await live.stop()
        assert live.state.dropped > 30  # 1 s of video, at most ~35 frames published in it
        assert live.state.published + live.state.dropped <= live.state.decoded
        file = await _run(stream_config(clip), slow, settings)
        await _until_finished(file)
        assert file.state.status == StreamStatus.DONE and file.state.dropped == 0 and file.state.published == 100
        assert asyncio.get_running_loop().time() - decoded_in > 2.5  # files wait for the producer instead
    finally:
        await slow.stop()


async def test_claim_check_puts_pixels_in_redis(
    publisher: FramePublisher, frames: FrameReader, redis_server: RedisSettings
) -> None:
    claims = ClaimCheck(redis_server.url, ttl=30)
    client = aioredis.from_url(redis_server.url)
    try:
        config = stream_config(DATA / "vtest_h264.mp4", rate={"period": 15, "unit": "frame"})
        runner = StreamRunner(config, publisher, SETTINGS, claims=claims)
        runner.start()
        await _until_finished(runner)
        await _published(frames, runner, 2)
        for header, value in frames.frames[config.stream_id]:
            assert header.encoding == "claim-check" and value == b"" and header.claim_key
            pixels = await client.get(header.claim_key)
            assert pixels is not None and len(pixels) == header.size and pixels[:2] == b"\xff\xd8"
            assert 0 < await client.pttl(header.claim_key) <= 30_000
    finally:
        await claims.close()
        await client.aclose()


async def test_skipping_non_reference_frames_publishes_the_same_frames(
    publisher: FramePublisher, frames: FrameReader, tmp_path: Path
) -> None:
    # A B-frame H.264 clip: skipped or not, the same frames go out, and they are the pictures decoded.
    clip = write_test_video(tmp_path / "clip.mp4", frames=60, size=(320, 240), fps=25, codec="h264")
    published = []
    for skip in (False, True):
        config = stream_config(clip, rate={"period": 10, "unit": "frame"})
        runner = await _until_finished(await _run(config, publisher, SETTINGS.model_copy(update={"skip_frames": skip})))
        assert runner.state.status == StreamStatus.DONE and runner.state.decoded == 60
        await _published(frames, runner, 6)
        published.append([(h.frame_number, h.time_offset, h.width, h.height, jpeg)
                          for h, jpeg in frames.frames[config.stream_id]])
    assert published[0] == published[1]
    expected = {f.frame_number: f.image for f in iter_frames(str(clip), every=10)}
    assert [p[0] for p in published[1]] == sorted(expected) == list(range(0, 60, 10))
    for number, _, width, height, jpeg in published[1]:
        image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert image.shape == (height, width, 3) == expected[number].shape
        assert np.abs(image.astype(np.int16) - expected[number]).mean() < 2.5

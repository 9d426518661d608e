"""GPU decoding (PyAV hwaccel, device ``cuda``) and its CPU fallback; the GPU test skips without one."""

from __future__ import annotations

import asyncio
import os

import pytest

from agents.video_agent.publisher import FramePublisher
from agents.video_agent.runner import StreamRunner
from infra.media.decode import Decoder
from infra.settings import AgentSettings
from schemas.status import StreamStatus
from tests.support import eventually
from tests.support_agent import DATA, stream_config

pytestmark = pytest.mark.asyncio(loop_scope="session")
HAS_GPU = os.path.exists("/dev/nvidia0")


async def _decode(publisher: FramePublisher, decoder: str) -> StreamRunner:
    runner = StreamRunner(stream_config(DATA / "vtest_h264.mp4"), publisher, AgentSettings(decoder=decoder))
    runner.start()
    await eventually(lambda: asyncio.sleep(0, runner.active), lambda active: not active, timeout=30)
    return runner


@pytest.mark.skipif(HAS_GPU, reason="checks the fallback on a host without an NVIDIA GPU")
async def test_cuda_falls_back_to_cpu_without_a_gpu(publisher: FramePublisher) -> None:
    runner = await _decode(publisher, "auto")
    assert runner.state.status == StreamStatus.DONE
    assert runner.state.decoder == "cpu" and runner.state.published == 30


@pytest.mark.gpu
@pytest.mark.skipif(not HAS_GPU, reason="needs an NVIDIA GPU")
async def test_cuda_decodes_on_the_gpu(publisher: FramePublisher) -> None:
    with Decoder(str(DATA / "vtest_h264.mp4"), gpu=True) as decoder:
        assert sum(1 for _ in decoder.frames()) == 30
        assert decoder.decoder == "cuda"
    runner = await _decode(publisher, "cuda")
    assert runner.state.status == StreamStatus.DONE
    assert runner.state.decoder == "cuda" and runner.state.published == 30

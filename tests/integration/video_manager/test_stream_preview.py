"""The live preview over HTTP while a real agent plays a stream: MJPEG parts with the stream's zone drawn,
and no reader left once the viewer leaves."""

from __future__ import annotations

import asyncio
from pathlib import Path

import cv2
import numpy as np
import pytest

from agents.video_agent.agent import VideoAgent
from agents.video_agent.publisher import FramePublisher
from infra.settings import AgentSettings, BrokerSettings
from tests.integration.video_manager.conftest import Manager
from tests.support import eventually, write_test_video

pytestmark = pytest.mark.asyncio(loop_scope="session")
ZONE = {"zone_id": "door", "mode": "percent", "polygon": [{"x": 10, "y": 10}, {"x": 60, "y": 10}, {"x": 60, "y": 60}]}


async def _jpeg_parts(response, count: int) -> list[bytes]:  # type: ignore[no-untyped-def]
    """The first ``count`` JPEGs of a multipart/x-mixed-replace body."""
    buffer, parts = b"", []
    async for chunk in response.aiter_bytes():
        buffer += chunk
        while (start := buffer.find(b"\xff\xd8")) >= 0 and (end := buffer.find(b"\xff\xd9", start)) >= 0:
            parts.append(buffer[start:end + 2])
            buffer = buffer[end + 2:]
            if len(parts) == count:
                return parts
    raise AssertionError(f"the preview ended after {len(parts)} parts")


async def test_preview_streams_frames_with_overlays_only_while_watched(
    vm: Manager, broker: BrokerSettings, tmp_path: Path
) -> None:
    video = write_test_video(tmp_path / "clip.mp4", frames=30, size=(320, 240))
    publisher = FramePublisher(broker.bootstrap)
    await publisher.start()
    agent = VideoAgent(AgentSettings(name="previewed", decoder="cpu", register_retry=0.3), broker.bootstrap, publisher)
    stop = asyncio.Event()
    task = asyncio.create_task(agent.run(stop))
    try:
        agents = lambda: vm.http.get("/6/agents", headers=vm.admin)  # noqa: E731
        await eventually(agents, lambda r: any(a["name"] == "previewed" for a in r.json()["agents"]), timeout=15)
        body = {"data": {"type": "stream", "reference": str(video)}, "analytics": [{"name": "people_count", "parameters": {
            "rate": {"period": 1, "unit": "frame"}, "zones": [ZONE]}}]}
        created = await vm.http.post("/6/streams", json=body, headers=vm.admin)
        assert created.status_code == 201, created.text
        stream_id = created.json()["stream_id"]
        assert (await vm.http.get(f"/6/streams/{stream_id}/preview")).status_code == 401
        assert vm.previews.watched == set()  # nothing read before anyone watches

        async with vm.http.stream("GET", f"/6/streams/{stream_id}/preview", headers=vm.admin, timeout=30) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("multipart/x-mixed-replace")
            assert {str(s) for s in vm.previews.watched} == {stream_id}
            parts = await asyncio.wait_for(_jpeg_parts(response, 2), 30)
        images = [cv2.imdecode(np.frombuffer(p, np.uint8), cv2.IMREAD_COLOR) for p in parts]
        assert all(image.shape == (240, 320, 3) for image in images)
        # The zone's outline (magenta, BGR 255, 0, 200) runs along its top edge at 10% of the height.
        edge = images[0][22:27, 60:180].reshape(-1, 3).astype(int)
        assert (np.abs(edge - (255, 0, 200)).max(axis=1) < 80).sum() > 50
        await eventually(lambda: asyncio.sleep(0, vm.previews.watched), lambda watched: not watched, timeout=5)
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
        await publisher.stop()

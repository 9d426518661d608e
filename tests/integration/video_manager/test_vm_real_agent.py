"""The manager with the real video agent (agents/video_agent) over the real broker: the agent registers,
is assigned a stream created over REST, plays it to its end, and the stream ends ``done``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agents.video_agent.agent import VideoAgent
from agents.video_agent.publisher import FramePublisher
from infra.settings import AgentSettings, BrokerSettings
from tests.integration.video_manager.conftest import Manager
from tests.support import eventually, write_test_video

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_real_agent_runs_a_stream_to_done(vm: Manager, broker: BrokerSettings, tmp_path: Path) -> None:
    video = write_test_video(tmp_path / "clip.mp4", frames=20)
    publisher = FramePublisher(broker.bootstrap)
    await publisher.start()
    agent = VideoAgent(AgentSettings(name="real", decoder="cpu", register_retry=0.3), broker.bootstrap, publisher)
    stop = asyncio.Event()
    task = asyncio.create_task(agent.run(stop))
    try:
        agents = lambda: vm.http.get("/6/agents", headers=vm.admin)  # noqa: E731
        await eventually(agents, lambda r: any(a["name"] == "real" for a in r.json()["agents"]), timeout=15)
        body = {"data": {"type": "videofile", "reference": str(video)}, "analytics": [{"name": "people_count"}]}
        created = await vm.http.post("/6/streams", json=body, headers=vm.admin)
        assert created.status_code == 201, created.text
        stream_id = created.json()["stream_id"]
        done = await eventually(lambda: vm.stream(stream_id), lambda s: s["status"] == 2, timeout=30)
        assert done["analytics"][0]["status"] == 2 and done["last_error"] is None
        logs = (await vm.http.get("/6/streams/logs", params={"stream_ids": stream_id, "order": "asc"}, headers=vm.admin)).json()
        statuses = [e["status"] for e in logs["logs"] if e["analytic_index"] is None]
        assert statuses[0] == 0 and statuses[-1] == 2
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
        await publisher.stop()

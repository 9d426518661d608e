"""``selene agent`` as a process: registers, plays its demo stream, says goodbye on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from infra.root.agent import demo_stream_id
from infra.settings import BrokerSettings, RedisSettings
from tests.support import eventually
from tests.support_agent import DATA, FrameReader, ManagerDouble

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_agent_process_registers_plays_demo_and_deregisters(
    broker: BrokerSettings, redis_server: RedisSettings, tmp_path: Path
) -> None:
    demo = str(DATA / "vtest_h264.mp4")
    manager = await ManagerDouble.start(broker.bootstrap)
    frames = await FrameReader.start(broker.bootstrap)
    env = {
        **os.environ,
        "SELENE_KAFKA_BOOTSTRAP": broker.bootstrap,
        "SELENE_REDIS_URL": redis_server.url,
        "SELENE_AGENT_NAME": "process-under-test",
        "SELENE_AGENT_DEMO_REFERENCE": demo,
        "SELENE_AGENT_DECODER": "cpu",
        "SELENE_AGENT_REGISTER_RETRY": "0.5",
    }
    log = (tmp_path / "agent.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "infra.root.cli", "agent"], env=env, stderr=log, stdout=log)
    try:
        registrations = await eventually(
            lambda: asyncio.sleep(0, [m for m in manager.messages if m.kind == "register"
                                      and m.registration and m.registration.name == "process-under-test"]),
            bool, timeout=30,
        )
        agent_id = registrations[0].agent_id
        await eventually(lambda: asyncio.sleep(0, frames.headers(demo_stream_id(demo))), lambda h: len(h) >= 5, 30)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait, 20) == 0
        await eventually(lambda: asyncio.sleep(0, manager.of(agent_id, "deregister")), bool, timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
        log.close()
        await frames.stop()
        await manager.stop()

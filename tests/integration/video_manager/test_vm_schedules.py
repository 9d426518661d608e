"""Working intervals with a running manager and a Kafka agent: a stream waits paused before its interval,
runs on the agent inside it, and is paused and taken off the agent when it closes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.integration.video_manager.conftest import KafkaAgent, Manager
from tests.support import eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_stream_runs_only_inside_its_working_interval(vm: Manager, kafka_agents: Callable[..., Any]) -> None:
    agent: KafkaAgent = await kafka_agents(["people_count"])
    opens = datetime.now(UTC) + timedelta(seconds=3)
    interval = {"start_time": opens.isoformat(), "end_time": (opens + timedelta(seconds=3)).isoformat()}
    body = {"data": {"type": "stream", "reference": "rtsp://camera/1"}, "name": "scheduled",
            "analytics": [{"name": "people_count", "schedules": [{"intervals": [interval]}]}]}
    created = await vm.http.post("/6/streams", json=body, headers=vm.admin)
    assert created.status_code == 201, created.text
    stream_id = created.json()["stream_id"]

    before = await eventually(lambda: vm.stream(stream_id), lambda s: s["status"] == 5, timeout=5)  # pause
    assert datetime.now(UTC) < opens and stream_id not in agent.running
    assert before["analytics"][0]["schedules"][0]["intervals"][0]["start_time"].startswith(opens.strftime("%Y-%m-%dT%H:%M:%S"))
    await eventually(lambda: asyncio.sleep(0, dict(agent.running)), lambda r: stream_id in r, timeout=6, interval=0.1)
    assert datetime.now(UTC) >= opens
    await eventually(lambda: vm.stream(stream_id), lambda s: s["status"] == 1, timeout=5)  # in_progress
    await eventually(lambda: vm.stream(stream_id), lambda s: s["status"] == 5, timeout=8)  # closed: paused
    assert datetime.now(UTC) >= opens + timedelta(seconds=3)
    await eventually(lambda: asyncio.sleep(0, dict(agent.running)), lambda r: stream_id not in r, timeout=5)


async def test_a_schedule_template_id_is_refused(vm: Manager, kafka_agents: Callable[..., Any]) -> None:
    await kafka_agents(["people_count"])  # else 44014 (no agent runs the analytic) answers first
    body = {"data": {"type": "stream", "reference": "rtsp://camera/1"},
            "analytics": [{"name": "people_count", "schedules": [{"schedule_id": "6c8a3c52-6f3e-4d0e-9a57-5e1e5e1e5e1e"}]}]}
    refused = await vm.http.post("/6/streams", json=body, headers=vm.admin)
    assert refused.status_code == 400 and refused.json()["error_code"] == 12031
    assert "schedule templates" in refused.json()["detail"]

"""``selene agent``: the video agent process.

It registers with the video manager over Kafka and runs the streams the manager assigns. With
``SELENE_AGENT_DEMO_REFERENCE`` it also plays that video as a live stream of its own, outside the
manager's control, so the embedded stack has frames from its first minute.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import uuid

from agents.video_agent.agent import VideoAgent
from agents.video_agent.publisher import FramePublisher
from agents.video_agent.runner import StreamRunner
from infra import logs
from infra.claimcheck import ClaimCheck
from infra.heartbeat import Heartbeat
from infra.lifecycle import stop_event
from infra.metrics import serve_metrics
from infra.settings import AgentSettings, BrokerSettings, CommonSettings, RedisSettings
from schemas.streams import StreamConfig, StreamConfigAnalytic, StreamData

log = logging.getLogger(__name__)


def demo_stream_id(reference: str) -> uuid.UUID:
    """Stable across restarts, so a replayed demo updates the same stream's rows."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"selene-demo:{reference}")


def demo_config(reference: str, rate: int) -> StreamConfig:
    """The demo video as a live stream: paced in real time, reopened when it ends."""
    return StreamConfig(
        stream_id=demo_stream_id(reference),
        account_id=uuid.UUID(int=0),
        version=1,
        data=StreamData(type="stream", reference=reference),
        analytics=[
            StreamConfigAnalytic(index=0, analytic_name="demo", parameters={"rate": {"period": rate, "unit": "frame"}})
        ],
    )


async def run() -> int:
    settings, broker, redis = AgentSettings(), BrokerSettings(), RedisSettings()
    stop = stop_event()
    beat = Heartbeat(redis.url, "agent")
    beat.info = {"max_stream_count": settings.max_stream_count}
    publisher = FramePublisher(broker.bootstrap)
    claims = ClaimCheck(redis.url, settings.claim_check_ttl) if settings.claim_check else None
    demo: StreamRunner | None = None
    await beat.start()
    try:
        while not stop.is_set():
            try:
                await publisher.start()
                break
            except Exception as exc:  # noqa: BLE001 - wait for the broker, the health page shows it down
                log.warning("broker unreachable, retrying", extra={"error": str(exc)})
                try:
                    await asyncio.wait_for(stop.wait(), 2.0)
                except TimeoutError:
                    pass
        if stop.is_set():
            return 0
        agent = VideoAgent(settings, broker.bootstrap, publisher, claims)
        beat.info.update(name=agent.name, agent_id=str(agent.agent_id))
        if settings.demo_reference:
            config = demo_config(settings.demo_reference, settings.demo_rate)
            demo = StreamRunner(config, publisher, settings, claims=claims)
            demo.start()
        await agent.run(stop)
        return 0
    finally:
        if demo is not None:
            await demo.stop()
        await publisher.stop()
        if claims is not None:
            await claims.close()
        await beat.stop()


def main() -> None:
    common = CommonSettings()
    logs.configure("agent", common)
    serve_metrics(common.metrics_host, AgentSettings().metrics_port, "agent")
    sys.exit(asyncio.run(run()))

"""luna-event callbacks through the real broker: an ended analytics event of a stream whose analytic
asks for it comes out on the general-events topic; one without the callback does not."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from infra.settings import BrokerSettings, WorkerSettings
from schemas.events import GeneralEventMessage
from schemas.topics import ANALYTICS_EVENTS, GENERAL_EVENTS, STREAM_CONFIGS
from streams import luna_events
from streams.app import create_app
from streams.runner import running
from tests.support import eventually
from tests.unit.streams.test_luna_events import STREAM, config, crowd

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_luna_event_callback_stores_general_events(broker: BrokerSettings) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
    await producer.start()
    cfg = config([{"type": "luna-event"}], [])
    await producer.send_and_wait(STREAM_CONFIGS.name, cfg.model_dump_json().encode(), key=str(STREAM).encode())
    app = create_app(f"luna-events-{uuid.uuid4().hex[:8]}", broker, WorkerSettings())
    luna_events.register(app)
    consumer = AIOKafkaConsumer(GENERAL_EVENTS.name, bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        async with running(app):
            wanted, unwanted = crowd(0, "ended"), crowd(1, "ended")
            for message in (crowd(0, "started"), unwanted, wanted):
                await producer.send_and_wait(ANALYTICS_EVENTS.name, message.model_dump_json().encode(), key=str(STREAM).encode())
            seen: list[GeneralEventMessage] = []

            async def poll() -> list[GeneralEventMessage]:
                for records in (await consumer.getmany(timeout_ms=300)).values():
                    seen.extend(GeneralEventMessage.model_validate_json(r.value) for r in records)
                return [e for e in seen if e.stream_id == STREAM]

            mine = await eventually(poll, lambda found: len(found) >= 1, timeout=60)
            assert [e.event_id for e in mine] == [wanted.event_id]
            assert mine[0].event_type == "crowd" and mine[0].source == "entrance"
    finally:
        await consumer.stop()
        await producer.stop()

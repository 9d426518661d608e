"""The sender's http callbacks on the real broker, to a real HTTP receiver that fails its first N calls:
retries with backoff, LUNA's message, basic authorization and headers, msgpack, one POST for callbacks
identical but for filters, none for a callback whose filters fail, and a dead letter after the last try."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgpack
import pytest
import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import FastAPI, Request, Response

from analytics.sender.callbacks import CallbackDelivery
from infra.kafka import wait_for_positions
from infra.process import free_port
from infra.settings import BrokerSettings, SenderSettings
from schemas.deadletter import DeadLetter
from schemas.notifications import EventNotification
from schemas.topics import DEAD_LETTER, EVENT_NOTIFICATIONS
from tests.support import eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")
FAST = SenderSettings(
    batch_size=20, batch_seconds=0.2, retry_initial=0.05, retry_max=0.2, callback_attempts=3,
    callback_retry_initial=0.1, callback_retry_max=0.2,
)


@dataclass
class Receiver:
    """A callback receiver: ``/hook/{name}`` answers 503 to its first ``fail_first[name]`` calls."""

    url: str
    fail_first: dict[str, int] = field(default_factory=dict)
    calls: dict[str, list[tuple[float, dict[str, str], bytes]]] = field(default_factory=dict)

    def hook(self, name: str, fail_first: int = 0) -> str:
        self.fail_first[name] = fail_first
        return f"{self.url}/hook/{name}"


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    app = FastAPI()
    port = free_port()
    state = Receiver(f"http://127.0.0.1:{port}")

    @app.post("/hook/{name}")
    async def hook(name: str, request: Request) -> Response:
        calls = state.calls.setdefault(name, [])
        calls.append((asyncio.get_running_loop().time(), dict(request.headers), await request.body()))
        if name == "slow":
            await asyncio.sleep(2)
        return Response(status_code=503 if len(calls) <= state.fail_first.get(name, 0) else 200)

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield state
    server.should_exit = True
    await serving


@pytest.fixture
async def kafka(broker: BrokerSettings) -> AsyncIterator[tuple[AIOKafkaProducer, AIOKafkaConsumer]]:
    """A producer, and the dead-letter topic read from its end."""
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
    await producer.start()
    dead = AIOKafkaConsumer(DEAD_LETTER.name, bootstrap_servers=broker.bootstrap, group_id=None, auto_offset_reset="latest")
    await dead.start()
    await wait_for_positions(dead)
    yield producer, dead
    await dead.stop()
    await producer.stop()


@pytest.fixture
async def delivery(broker: BrokerSettings) -> AsyncIterator[CallbackDelivery]:
    service = CallbackDelivery(broker.bootstrap, f"test-sender-{uuid.uuid4().hex[:8]}", FAST)
    await service.start()
    yield service
    await service.stop()


def notification(callbacks: list[dict[str, Any]], **event: Any) -> EventNotification:
    return EventNotification.model_validate({
        "account_id": uuid.uuid4(), "handler_id": uuid.uuid4(),
        "event": {"event_id": str(uuid.uuid4()), "tags": ["vip"], "source": "cam1", **event},
        "event-create-time": datetime.now(UTC), "event-end-time": datetime.now(UTC),
        "Luna-Request-id": "1536751345,8b8b5937-2e9c-4e8b-a7a7-5caf86621b5a", "callbacks": callbacks,
    })


async def publish(producer: AIOKafkaProducer, value: EventNotification | bytes) -> None:
    raw = value if isinstance(value, bytes) else value.model_dump_json(by_alias=True).encode()
    await producer.send_and_wait(EVENT_NOTIFICATIONS.name, raw, key=b"test")


async def letters(dead: AIOKafkaConsumer, marker: str, count: int) -> list[DeadLetter]:
    """The sender's dead letters whose reason or value holds ``marker``, once ``count`` came."""
    found: list[DeadLetter] = []

    async def probe() -> list[DeadLetter]:
        for records in (await dead.getmany(timeout_ms=200)).values():
            for record in records:
                letter = DeadLetter.model_validate_json(record.value)
                if letter.processor == "sender" and (marker in letter.reason or marker in base64.b64decode(letter.value).decode()):
                    found.append(letter)
        return found

    return await eventually(probe, lambda got: len(got) >= count, timeout=30, interval=0.05)


async def test_a_failing_receiver_gets_the_event_on_a_retry_with_lunas_message_and_credentials(
    receiver: Receiver, kafka: tuple[AIOKafkaProducer, AIOKafkaConsumer], delivery: CallbackDelivery
) -> None:
    producer, _ = kafka
    url = receiver.hook("flaky", fail_first=2)
    sent = notification([{
        "type": "http", "url": url, "authorization": {"type": "basic", "login": "hook", "password": "s3cret"},
        "params": {"headers": {"X-Tenant": "t1"}},
    }])
    await publish(producer, sent)
    calls = await eventually(lambda: asyncio.sleep(0, receiver.calls.get("flaky", [])), lambda c: len(c) >= 3, timeout=30)
    await asyncio.sleep(0.5)
    assert len(receiver.calls["flaky"]) == 3  # two 503s, then one success, and nothing more
    gaps = [b[0] - a[0] for a, b in zip(calls, calls[1:])]
    assert all(gap >= FAST.callback_retry_initial * 0.5 for gap in gaps)  # jittered backoff, not a hot loop
    _, headers, body = calls[-1]
    assert headers["authorization"] == "Basic " + base64.b64encode(b"hook:s3cret").decode()
    assert headers["x-tenant"] == "t1" and headers["content-type"] == "application/json"
    message = json.loads(body)
    assert set(message) == {"event", "handler_id", "event-create-time", "event-end-time", "Luna-Request-id"}
    assert message["event"] == sent.event and message["handler_id"] == str(sent.handler_id)
    assert message["Luna-Request-id"] == sent.request_id


async def test_callbacks_differing_only_in_filters_post_once_and_failing_filters_post_nothing(
    receiver: Receiver, kafka: tuple[AIOKafkaProducer, AIOKafkaConsumer], delivery: CallbackDelivery
) -> None:
    producer, _ = kafka
    same, skipped, packed = receiver.hook("same"), receiver.hook("skipped"), receiver.hook("packed")
    await publish(producer, notification([
        {"type": "http", "url": same, "filters": {"tags": ["vip"]}},
        {"type": "http", "url": same, "filters": {"sources": ["cam1"]}},
        {"type": "http", "url": skipped, "filters": {"sources": ["cam2"]}},
        {"type": "http", "url": packed, "params": {"content_type": "application/msgpack"}},
        {"type": "luna-ws-notification"},  # the websockets' business, never POSTed
    ]))
    await eventually(lambda: asyncio.sleep(0, receiver.calls), lambda c: "same" in c and "packed" in c, timeout=30)
    await asyncio.sleep(0.5)
    assert len(receiver.calls["same"]) == 1 and "skipped" not in receiver.calls
    _, headers, body = receiver.calls["packed"][0]
    assert headers["content-type"] == "application/msgpack"
    assert msgpack.unpackb(body)["event"]["source"] == "cam1"


async def test_after_the_last_attempt_the_notification_is_dead_lettered_with_the_failure(
    receiver: Receiver, kafka: tuple[AIOKafkaProducer, AIOKafkaConsumer], delivery: CallbackDelivery
) -> None:
    producer, dead = kafka
    down = receiver.hook("down", fail_first=100)
    refused = f"http://127.0.0.1:{free_port()}/nobody"
    slow = receiver.hook("slow")
    sent = notification([
        {"type": "http", "url": down}, {"type": "http", "url": refused},
        {"type": "http", "url": slow, "params": {"timeout": 0.3}},
    ])
    await publish(producer, sent)
    got = {letter.error_code: letter for letter in await letters(dead, str(sent.event["event_id"]), 3)}
    assert set(got) == {22, 11, 9}  # LUNA's client response error, connection error, request timeout
    assert len(receiver.calls["down"]) == FAST.callback_attempts
    assert down in got[22].reason and "HTTP 503" in got[22].reason and f"failed {FAST.callback_attempts} times" in got[22].reason
    assert refused in got[11].reason and slow in got[9].reason
    assert EventNotification.model_validate_json(base64.b64decode(got[22].value)) == sent
    assert got[22].topic == EVENT_NOTIFICATIONS.name


async def test_a_record_that_is_no_notification_is_dead_lettered_with_29003(
    kafka: tuple[AIOKafkaProducer, AIOKafkaConsumer], delivery: CallbackDelivery
) -> None:
    producer, dead = kafka
    marker = uuid.uuid4().hex
    await publish(producer, json.dumps({"not": "a notification", "marker": marker}).encode())
    (letter,) = await letters(dead, marker, 1)
    assert letter.error_code == 29003 and "EventNotification" in letter.reason

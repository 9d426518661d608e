"""The processors on the real broker: a vtest clip in, LUNA-shaped people-count and human-tracking
events and per-frame counts out; a stream's analytics come from the stream-configs topic; bad frames
go to dead letter and the worker goes on."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from infra.claimcheck import ClaimCheck
from infra.settings import BrokerSettings, RedisSettings
from schemas.deadletter import DeadLetter
from schemas.events import AnalyticsEventMessage, CountSample
from schemas.frames import FrameHeader
from schemas.streams import StreamConfig, StreamConfigAnalytic, StreamData
from schemas.topics import ANALYTICS_EVENTS, COUNTS, DEAD_LETTER, FRAMES
from streams import people_count
from streams.runner import running
from tests.integration.streams.conftest import TopicReader, publish_clip, publish_config, tracking_app
from tests.support import eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")

CLIP = Path(__file__).resolve().parents[3] / "infra" / "samples" / "vtest_clip.mp4"
ACCOUNT = uuid.uuid4()
CONFIGURED = uuid.uuid4()


def _config() -> StreamConfig:
    return StreamConfig(
        stream_id=CONFIGURED, account_id=ACCOUNT, version=1,
        data=StreamData(type="videofile", reference=str(CLIP)),
        analytics=[
            StreamConfigAnalytic(index=0, analytic_name="people_count", parameters={
                "people_count_threshold": 2, "probe_count": 2, "rate": {"period": 1, "unit": "frame"}}),
            StreamConfigAnalytic(index=1, analytic_name="human_tracking", parameters={
                "probe_count": 2, "targets": ["best_shot_images"]}),
        ],
    )


@pytest.fixture(scope="module")
async def worker(broker: BrokerSettings, redis_server: RedisSettings) -> AsyncIterator[None]:
    os.environ["SELENE_REDIS_URL"] = redis_server.url  # where detection fetches claim-checked frames
    await publish_config(broker.bootstrap, _config())
    app = tracking_app("processors", broker)
    people_count.register(app)
    try:
        async with running(app):
            yield
    finally:
        del os.environ["SELENE_REDIS_URL"]


async def test_configured_stream_yields_luna_events_and_counts(worker: None, broker: BrokerSettings) -> None:
    sent = await publish_clip(broker.bootstrap, CLIP, CONFIGURED, every=2, limit=40)
    key = str(CONFIGURED).encode()
    async with TopicReader(broker.bootstrap, COUNTS.name) as counts, TopicReader(broker.bootstrap, ANALYTICS_EVENTS.name) as ev:
        samples = await eventually(
            lambda: counts.poll(), lambda r: len([1 for k, _ in r if k == key]) >= sent, timeout=120)
        samples = [CountSample.model_validate_json(v) for k, v in samples if k == key]
        messages = await eventually(
            lambda: ev.poll(), lambda r: any(b'"human_tracking"' in v for k, v in r if k == key), timeout=60)
    messages = [AnalyticsEventMessage.model_validate_json(v) for k, v in messages if k == key]
    assert len(samples) == sent and {s.account_id for s in samples} == {ACCOUNT}
    # The clip shows a handful of walkers: plausible per-frame counts, not zero, not a crowd.
    assert 2 <= max(s.people_count for s in samples) <= 10
    crowd = [m for m in messages if m.event_type == "crowd"]
    assert crowd and crowd[0].event.event_status == "started" and crowd[0].analytic_index == 0
    assert crowd[0].event.people_count >= 2 and crowd[0].event.frames_estimations
    tracks = [m for m in messages if m.event_type == "human_tracking"]
    assert tracks and all(m.analytic_index == 1 and m.account_id == ACCOUNT for m in tracks)
    assert {m.event.event_status for m in tracks} >= {"started"}


async def test_unconfigured_stream_counts_people_at_default_rate(worker: None, broker: BrokerSettings) -> None:
    stream_id = uuid.uuid4()
    await publish_clip(broker.bootstrap, CLIP, stream_id, every=1, limit=25)
    key = str(stream_id).encode()
    async with TopicReader(broker.bootstrap, COUNTS.name) as counts:
        records = await eventually(lambda: counts.poll(),
                                   lambda r: len([1 for k, _ in r if k == key]) >= 3, timeout=60)
    samples = [CountSample.model_validate_json(v) for k, v in records if k == key]
    # people_count defaults: every 10th frame.
    assert [s.frame_number for s in samples] == [0, 10, 20]
    assert {s.account_id for s in samples} == {uuid.UUID(int=0)}


async def test_undecodable_frame_goes_to_dead_letter_and_worker_goes_on(
    worker: None, broker: BrokerSettings
) -> None:
    stream_id = uuid.uuid4()
    marker = f"not-a-jpeg-{uuid.uuid4()}".encode()
    header = FrameHeader(stream_id=stream_id, version=1, frame_number=0, time_offset=0.0,
                         timestamp=datetime.now(UTC), width=768, height=576, size=len(marker))
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(FRAMES.name, marker, key=str(stream_id).encode(),
                                     headers=header.to_kafka_headers())
    finally:
        await producer.stop()
    async with TopicReader(broker.bootstrap, DEAD_LETTER.name) as letters:
        records = await eventually(lambda: letters.poll(), lambda r: any(
            marker in base64.b64decode(DeadLetter.model_validate_json(v).value) for _, v in r), timeout=60)
    [letter] = [DeadLetter.model_validate_json(v) for _, v in records
                if marker in base64.b64decode(DeadLetter.model_validate_json(v).value)]
    assert letter.processor == "detection" and letter.error_code == 45002 and "JPEG" in letter.reason
    # The worker lives on: the next frames of the same stream are counted.
    await publish_clip(broker.bootstrap, CLIP, stream_id, every=10, limit=2)
    key = str(stream_id).encode()
    async with TopicReader(broker.bootstrap, COUNTS.name) as counts:
        await eventually(lambda: counts.poll(), lambda r: any(k == key for k, _ in r), timeout=60)


async def test_claim_checked_frames_are_fetched_from_redis_and_expired_ones_dead_lettered(
    worker: None, broker: BrokerSettings, redis_server: RedisSettings
) -> None:
    stream_id, key = uuid.uuid4(), str(uuid.uuid4())
    jpeg = (Path(__file__).resolve().parents[2] / "data" / "vtest_0040.jpg").read_bytes()
    claims = ClaimCheck(redis_server.url, ttl=60)
    await claims.put(f"frame-{key}", jpeg)
    await claims.close()
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
    await producer.start()
    try:
        for n, claim in enumerate([f"frame-{key}", f"gone-{key}"]):
            header = FrameHeader(stream_id=stream_id, version=1, frame_number=n * 10, time_offset=n, size=len(jpeg),
                                 timestamp=datetime.now(UTC), width=768, height=576, encoding="claim-check",
                                 claim_key=claim)
            await producer.send_and_wait(FRAMES.name, b"", key=str(stream_id).encode(), headers=header.to_kafka_headers())
    finally:
        await producer.stop()
    async with TopicReader(broker.bootstrap, COUNTS.name) as counts, TopicReader(broker.bootstrap, DEAD_LETTER.name) as letters:
        samples = await eventually(counts.poll, lambda r: any(k == str(stream_id).encode() for k, _ in r), timeout=60)
        expired = await eventually(letters.poll, lambda r: any(f"gone-{key}".encode() in v for _, v in r), timeout=60)
    [sample] = [CountSample.model_validate_json(v) for k, v in samples if k == str(stream_id).encode()]
    assert sample.frame_number == 0 and sample.people_count >= 3  # vtest frame 40 shows 6 people
    [letter] = [DeadLetter.model_validate_json(v) for _, v in expired if f"gone-{key}".encode() in v]
    assert letter.processor == "detection" and "expired" in letter.reason

"""The sink against the real broker and chdb: every route's columns land as sent, once-only rows, bad
records and refused rows dead-lettered while the rest of their batch is stored, and no loss when the
warehouse or the sink itself goes away mid-stream."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer

from analytics.events import sink
from analytics.events.chdb_warehouse import ChdbWarehouse
from infra.settings import BrokerSettings, SinkSettings
from schemas.errors import MESSAGE_INVALID, SINK_INSERT_FAILED
from schemas.events import AnalyticsEventMessage, CountSample, GeneralEventMessage
from schemas.frames import FrameStat
from schemas.topics import ANALYTICS_EVENTS, COUNTS, FRAME_STATS, GENERAL_EVENTS
from tests.support import dead_letters, eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")
FAST = SinkSettings(batch_size=20, batch_seconds=0.2, retry_initial=0.2, retry_max=1.0)


def crowd(event_id: uuid.UUID, stream_id: uuid.UUID, account_id: uuid.UUID, status: str, count: int) -> AnalyticsEventMessage:
    start = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    return AnalyticsEventMessage.model_validate({
        "event_id": event_id, "stream_id": stream_id, "account_id": account_id, "version": 1,
        "analytic_name": "people_count", "analytic_index": 0, "event_type": "crowd",
        "create_time": start, "end_time": start + timedelta(seconds=5) if status == "ended" else None,
        "event": {
            "event_id": event_id, "track_id": "t1", "people_count": count, "event_status": status,
            "video_segment": {"start_time_offset": 1.0, "end_time_offset": 6.0 if status == "ended" else 1.0},
            "frames_estimations": [{"people_count": count, "time_offset": 1.0}],
        },
    })


def samples(stream_id: uuid.UUID, n: int) -> list[CountSample]:
    now = datetime.now(UTC)
    return [
        CountSample(stream_id=stream_id, account_id=uuid.uuid4(), time_offset=i / 10, timestamp=now, people_count=i % 7)
        for i in range(n)
    ]


async def publish(broker: BrokerSettings, topic: str, records: list, key: uuid.UUID) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
    await producer.start()
    try:
        for record in records:
            await producer.send_and_wait(topic, record.model_dump_json().encode(), key=str(key).encode())
    finally:
        await producer.stop()


@asynccontextmanager
async def running_sink(broker: BrokerSettings, warehouse: ChdbWarehouse, group: str) -> AsyncIterator[sink.Sink]:
    sinker = sink.Sink(broker.bootstrap, group, warehouse, FAST)
    await sinker.start()
    try:
        yield sinker
    finally:
        await sinker.stop()


async def count_rows(warehouse: ChdbWarehouse, table: str, stream_id: uuid.UUID) -> int:
    rows = await warehouse.query(
        f"SELECT count() AS n FROM {warehouse.database}.{table} FINAL WHERE stream_id = '{stream_id}'"
    )
    return int(rows[0]["n"])


async def test_replayed_and_superseded_events_land_once(broker: BrokerSettings, warehouse: ChdbWarehouse) -> None:
    stream_id, account_id, event_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    started, ended = crowd(event_id, stream_id, account_id, "started", 3), crowd(event_id, stream_id, account_id, "ended", 5)
    async with running_sink(broker, warehouse, f"sink-once-{stream_id.hex[:8]}"):
        await publish(broker, ANALYTICS_EVENTS.name, [started, started, ended, started], stream_id)
        await eventually(lambda: count_rows(warehouse, "analytics_events", stream_id), lambda n: n >= 1)
        await asyncio.sleep(1.0)  # let every delivery reach the table before judging
    rows = await warehouse.query(
        f"SELECT event_status, people_count, end_time_offset FROM {warehouse.database}.people_count_events "
        f"WHERE stream_id = '{stream_id}'"
    )
    assert rows == [{"event_status": "ended", "people_count": 5, "end_time_offset": 6.0}]


async def test_every_route_lands_its_columns_as_sent(broker: BrokerSettings, warehouse: ChdbWarehouse) -> None:
    stream_id, account_id, event_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    at = datetime.now(UTC).replace(microsecond=250_000)  # recent: frame_stats keeps a week
    second = at.strftime("%Y-%m-%d %H:%M:%S")
    stat = FrameStat(stream_id=stream_id, version=2, run=1_764_000_000_000, frame_number=41, time_offset=4.1, timestamp=at,
                     received_at=at + timedelta(milliseconds=80), width=1280, height=720, size=91_000)
    count = CountSample(stream_id=stream_id, account_id=account_id, version=2, run=1_764_000_000_000, analytic_index=1, time_offset=4.1,
                        timestamp=at, people_count=3, zone_counts={"door": 2}, line_in={"gate": 7}, line_out={})
    general = GeneralEventMessage.model_validate({
        "event_id": event_id, "event_type": "match", "account_id": account_id, "event_create_time": at,
        "track_id": "t-9", "location": {"city": "Riga", "geo_position": {"longitude": 24.1, "latitude": 56.9}},
        "event": {"score": 0.9}})
    async with running_sink(broker, warehouse, f"sink-routes-{stream_id.hex[:8]}"):
        await publish(broker, FRAME_STATS.name, [stat], stream_id)
        await publish(broker, COUNTS.name, [count], stream_id)
        await publish(broker, ANALYTICS_EVENTS.name, [crowd(event_id, stream_id, account_id, "started", 3)], stream_id)
        await publish(broker, GENERAL_EVENTS.name, [general], event_id)
        db = warehouse.database
        await eventually(lambda: warehouse.query(f"SELECT event_id FROM {db}.general_events WHERE event_id = '{event_id}'"),
                         lambda rows: len(rows) == 1)
        await eventually(lambda: count_rows(warehouse, "analytics_events", stream_id), lambda n: n == 1)
    assert await warehouse.query(
        f"SELECT version, run, frame_number, time_offset, toString(timestamp) AS ts, toString(received_at) AS received, "
        f"width, height, size FROM {db}.frame_stats WHERE stream_id = '{stream_id}'"
    ) == [{"version": 2, "run": 1_764_000_000_000, "frame_number": 41, "time_offset": 4.1, "ts": f"{second}.250",
           "received": f"{second}.330", "width": 1280, "height": 720, "size": 91000}]
    assert await warehouse.query(
        f"SELECT toString(account_id) AS account, version, run, analytic_index, frame_number, toString(timestamp) AS ts, "
        f"people_count, zone_counts, line_in, line_out FROM {db}.people_counts WHERE stream_id = '{stream_id}'"
    ) == [{"account": str(account_id), "version": 2, "run": 1_764_000_000_000, "analytic_index": 1, "frame_number": None,
           "ts": f"{second}.250", "people_count": 3, "zone_counts": {"door": 2}, "line_in": {"gate": 7},
           "line_out": {}}]
    [event] = await warehouse.query(
        f"SELECT toString(event_id) AS id, event_status, status_rank, end_time, people_count, start_time_offset, "
        f"toString(create_time) AS created FROM {db}.analytics_events WHERE stream_id = '{stream_id}'")
    assert event == {"id": str(event_id), "event_status": "started", "status_rank": 0, "end_time": None,
                     "people_count": 3, "start_time_offset": 1.0, "created": "2026-11-01 12:00:00.000"}
    assert await warehouse.query(
        f"SELECT stream_id, track_id, city, street, longitude, latitude, event, toString(event_create_time) AS created "
        f"FROM {db}.general_events WHERE event_id = '{event_id}'"
    ) == [{"stream_id": None, "track_id": "t-9", "city": "Riga", "street": None, "longitude": 24.1, "latitude": 56.9,
           "event": '{"score":0.9}', "created": f"{second}.250"}]


async def test_malformed_records_and_a_refused_row_are_dead_lettered_and_the_rest_of_the_batch_stored(
    broker: BrokerSettings, warehouse: ChdbWarehouse
) -> None:
    stream_id = uuid.uuid4()
    good = samples(stream_id, 12)
    refused = good[7].model_copy(update={"zone_counts": {"door": -1}})  # valid to the schema, not to UInt32
    values = [s.model_dump_json().encode() for s in good]
    values[3] = b'{"stream_id": "' + str(stream_id).encode() + b'", "people_co'  # cut short
    values[7] = refused.model_dump_json().encode()
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=50)  # one produce request: one batch
    await producer.start()
    try:
        sends = [await producer.send(COUNTS.name, value, key=str(stream_id).encode()) for value in values]
        sent = [await s for s in sends]
    finally:
        await producer.stop()
    stored = [s.time_offset for i, s in enumerate(good) if i not in (3, 7)]
    async with running_sink(broker, warehouse, f"sink-bad-{stream_id.hex[:8]}"):
        await eventually(lambda: count_rows(warehouse, "people_counts", stream_id), lambda n: n == len(stored))
        letters = await eventually(
            lambda: dead_letters(broker.bootstrap),
            lambda found: sum(x.topic == COUNTS.name and x.offset in (sent[3].offset, sent[7].offset) for x in found) == 2)
    rows = await warehouse.query(
        f"SELECT time_offset FROM {warehouse.database}.people_counts FINAL WHERE stream_id = '{stream_id}' ORDER BY time_offset")
    assert [r["time_offset"] for r in rows] == stored
    mine = {x.offset: x for x in letters if x.topic == COUNTS.name and x.partition == sent[3].partition}
    assert mine[sent[3].offset].error_code == MESSAGE_INVALID.code and "json_invalid" in mine[sent[3].offset].reason
    assert mine[sent[7].offset].error_code == SINK_INSERT_FAILED.code
    assert "people_counts" in mine[sent[7].offset].reason and mine[sent[7].offset].processor == "sink"


async def test_warehouse_outage_loses_nothing(broker: BrokerSettings, warehouse: ChdbWarehouse) -> None:
    stream_id = uuid.uuid4()
    async with running_sink(broker, warehouse, f"sink-outage-{stream_id.hex[:8]}"):
        await publish(broker, COUNTS.name, samples(stream_id, 10), stream_id)
        await eventually(lambda: count_rows(warehouse, "people_counts", stream_id), lambda n: n == 10)
        await warehouse.stop()  # the real engine goes away; the sink must hold what it has
        try:
            await publish(broker, COUNTS.name, samples(stream_id, 40)[10:], stream_id)
            await asyncio.sleep(2.0)
        finally:
            await warehouse.start()
        assert await eventually(lambda: count_rows(warehouse, "people_counts", stream_id), lambda n: n == 40) == 40


async def test_sink_killed_mid_batch_resumes_without_loss(broker: BrokerSettings, warehouse: ChdbWarehouse) -> None:
    stream_id = uuid.uuid4()
    group = f"sink-restart-{stream_id.hex[:8]}"
    await warehouse.stop()  # the first sink can take the batch but never write it
    try:
        async with running_sink(broker, warehouse, group):
            await publish(broker, COUNTS.name, samples(stream_id, 30), stream_id)
            await asyncio.sleep(2.0)
    finally:
        await warehouse.start()
    assert await count_rows(warehouse, "people_counts", stream_id) == 0
    async with running_sink(broker, warehouse, group):  # same group: resumes from committed offsets
        assert await eventually(lambda: count_rows(warehouse, "people_counts", stream_id), lambda n: n >= 30) == 30
        await asyncio.sleep(1.0)
    assert await count_rows(warehouse, "people_counts", stream_id) == 30

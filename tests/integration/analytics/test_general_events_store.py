"""General-event filters, pages and statistics on real chdb, checked against hand-computed answers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from analytics.events.chdb_warehouse import ChdbWarehouse
from analytics.events.general_events import (
    ContentFilter,
    GeneralEventFilters,
    GeneralEventStore,
)
from analytics.events.rows import general_event_row
from analytics.events.stats import StatQuery, StatTarget
from schemas.events import GeneralEventMessage

pytestmark = pytest.mark.asyncio(loop_scope="session")
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday
ALICE, BOB = uuid.uuid4(), uuid.uuid4()
CAM = uuid.uuid4()


def ev(account: uuid.UUID, minutes: int, event_type: str, **fields: object) -> GeneralEventMessage:
    return GeneralEventMessage.model_validate({
        "event_id": uuid.uuid4(), "event_type": event_type, "account_id": account,
        "event_create_time": T0 + timedelta(minutes=minutes), **fields,
    })


SEEDED = [
    ev(ALICE, 0, "crowd", stream_id=CAM, event={"people_count": 4, "zone": "hall"},
       location={"city": "Riga", "geo_position": {"longitude": 24.10, "latitude": 56.95}}),
    ev(ALICE, 30, "crowd", stream_id=CAM, event={"people_count": 10, "zone": "gate"}, location={"city": "Riga"}),
    ev(ALICE, 70, "match", stream_id=CAM, track_id="t7", source="cam-1", event={"similarity": 0.91}),
    ev(ALICE, 130, "crowd", event={"people_count": 1, "zone": "hall-b"}, location={"city": "Tartu"}),
    ev(BOB, 10, "crowd", stream_id=CAM, event={"people_count": 99}),
]


@pytest.fixture(scope="module")
async def store(warehouse: ChdbWarehouse) -> GeneralEventStore:
    await warehouse.insert("general_events", [general_event_row(e) for e in SEEDED])
    return GeneralEventStore(warehouse)


async def ids(store: GeneralEventStore, accounts: set[uuid.UUID] = {ALICE}, **filters: object) -> list[int]:
    found = await store.list(GeneralEventFilters.model_validate(filters), accounts, 1, 100, "asc")
    index = {str(e.event_id): i for i, e in enumerate(SEEDED)}
    return [index[e["event_id"]] for e in found]


async def test_account_isolation(store: GeneralEventStore) -> None:
    assert await ids(store) == [0, 1, 2, 3]
    assert await ids(store, {BOB}) == [4]
    assert await store.get(SEEDED[4].event_id, {ALICE}) is None


async def test_filters(store: GeneralEventStore) -> None:
    assert await ids(store, event_types=["match"]) == [2]
    assert await ids(store, create_time__gte=T0 + timedelta(minutes=30), create_time__lt=T0 + timedelta(minutes=130)) == [1, 2]
    assert await ids(store, stream_ids=["null"]) == [3]
    assert await ids(store, stream_ids=[str(CAM), "null"]) == [0, 1, 2, 3]
    assert await ids(store, cities=["Riga"]) == [0, 1]
    assert await ids(store, track_ids=["t7"], sources=["cam-1"]) == [2]
    assert await ids(store, origin_longitude=24.1, origin_latitude=56.95) == [0]
    assert await ids(store, event_ids=[SEEDED[1].event_id, SEEDED[3].event_id]) == [1, 3]


async def test_content_filters(store: GeneralEventStore) -> None:
    assert await ids(store, content=[ContentFilter.parse("event.people_count__gt:integer", "3")]) == [0, 1]
    assert await ids(store, content=[ContentFilter.parse("event.zone__like", "hall%")]) == [0, 3]
    assert await ids(store, content=[ContentFilter.parse("event.zone__in", "gate,hall-b")]) == [1, 3]
    assert await ids(store, content=[ContentFilter.parse("event.similarity__gte:numeric", "0.9")]) == [2]
    with pytest.raises(ValueError):
        ContentFilter.parse("event.zone__like:integer", "1").clause()


async def test_pages_order_and_count(store: GeneralEventStore) -> None:
    filters = GeneralEventFilters()
    newest = await store.list(filters, {ALICE}, 1, 3, "desc")
    assert [e["event_id"] for e in newest] == [str(SEEDED[i].event_id) for i in (3, 2, 1)]
    assert [e["event_id"] for e in await store.list(filters, {ALICE}, 2, 3, "desc")] == [str(SEEDED[0].event_id)]
    assert await store.count(filters, {ALICE}) == 4


async def test_luna_shape(store: GeneralEventStore) -> None:
    event = await store.get(SEEDED[0].event_id, {ALICE})
    assert event is not None
    assert event["location"]["city"] == "Riga"
    assert event["location"]["geo_position"] == {"longitude": 24.1, "latitude": 56.95}
    assert event["event"] == {"people_count": 4, "zone": "hall"}
    assert event["event_create_time"] == "2026-03-02T10:00:00.000Z"
    assert event["stream_id"] == str(CAM)


async def test_stats(store: GeneralEventStore) -> None:
    by_type = await store.stats(
        StatQuery(targets=[StatTarget(column="event_type", aggregator="group_by"), StatTarget(column="event_id")]),
        GeneralEventFilters(), {ALICE},
    )
    assert by_type["fields"] == ["event_type, aggregator 'group_by'", "event_id, aggregator 'count'"]
    assert by_type["stats"] == [["crowd", 3], ["match", 1]]
    hourly = await store.stats(
        StatQuery(targets=[StatTarget(column="event.people_count", aggregator="avg")], group_by="1h"),
        GeneralEventFilters(event_types=["crowd"]), {ALICE},
    )
    assert hourly["fields"][0] == "Group by time: 1h"
    assert hourly["stats"] == [["2026-03-02 10:00:00", 7.0], ["2026-03-02 12:00:00", 1.0]]
    weekday = await store.stats(StatQuery(group_by="dayOfWeek"), GeneralEventFilters(), {ALICE})
    assert weekday["stats"] == [[1, 4]]
    for bad in (StatQuery(group_by="0m"), StatQuery(targets=[StatTarget(column="nope")]),
                StatQuery(targets=[StatTarget(column="event_create_time", aggregator="avg")])):
        with pytest.raises(ValueError):
            await store.stats(bad, GeneralEventFilters(), {ALICE})


async def test_delete(store: GeneralEventStore) -> None:
    victim = SEEDED[2].event_id
    assert not await store.delete(victim, {BOB})
    assert await store.delete(victim, {ALICE})
    assert await store.get(victim, {ALICE}) is None
    assert await store.count(GeneralEventFilters(), {ALICE}) == 3

"""LUNA events on real chdb: idempotent save, LUNA's filters, pages and order, statistics, account scoping."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from analytics.events.chdb_warehouse import ChdbWarehouse
from analytics.events.general_events import ContentFilter
from analytics.events.luna_event_store import LunaEventFilters, LunaEventStore
from analytics.events.stats import StatQuery, StatTarget
from schemas.luna_events import LunaEvent

pytestmark = pytest.mark.asyncio(loop_scope="session")
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday
ALICE, BOB = uuid.uuid4(), uuid.uuid4()
HANDLER, OTHER_HANDLER, CAM, FACE = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
VECTOR = [0.01 * i for i in range(128)]


def ev(account: uuid.UUID, minutes: int, **fields: object) -> LunaEvent:
    return LunaEvent.model_validate({
        "event_id": uuid.uuid4(), "account_id": account, "create_time": T0 + timedelta(minutes=minutes), **fields,
    })


SEEDED = [
    ev(ALICE, 0, handler_id=HANDLER, stream_id=CAM, source="gate", tags=["vip", "day"], user_data="front door",
       gender=1, age=31, emotion=4, location={"city": "Riga", "geo_position": {"longitude": 24.10, "latitude": 56.95}},
       meta={"temperature": 36.6, "badge": {"kind": "guest"}}, face_id=FACE, attach_result=[{"list_id": uuid.uuid4()}],
       top_match={"label": "staff", "similarity": 0.92, "face_id": FACE, "external_id": "emp-7"},
       face_detections=[{"detect_time": T0, "sample_id": "s1", "detection": {"rect": {"x": 1, "y": 2, "width": 30, "height": 40}}}],
       face_descriptor={"vector": VECTOR, "descriptor_version": 1001}),
    ev(ALICE, 30, handler_id=HANDLER, source="hall", tags=["day"], gender=0, age=19, mask=2,
       meta={"temperature": 38.1}, location={"city": "Riga"}),
    ev(ALICE, 70, handler_id=OTHER_HANDLER, track_id="t7", external_id="ext-3", liveness=1,
       body_basic_attributes={"apparent_age": 40, "apparent_gender": 1}),
    ev(ALICE, 130, handler_id=HANDLER, source="gate", user_data="back door", age=60),
    ev(BOB, 10, handler_id=HANDLER, source="gate", age=31),
]


@pytest.fixture(scope="module")
async def store(warehouse: ChdbWarehouse) -> LunaEventStore:
    found = LunaEventStore(warehouse)
    await found.save(SEEDED)
    return found


async def ids(store: LunaEventStore, accounts: set[uuid.UUID] = {ALICE}, order: str = "asc", **filters: object) -> list[int]:
    found = await store.list(LunaEventFilters.model_validate(filters), accounts, 1, 100, order)
    index = {str(e.event_id): i for i, e in enumerate(SEEDED)}
    return [index[e["event_id"]] for e in found]


async def test_save_is_idempotent(store: LunaEventStore, warehouse: ChdbWarehouse) -> None:
    retried = SEEDED[1].model_copy(update={"user_data": "retried"})
    await store.save([retried, retried])
    await store.save([SEEDED[1]])
    assert await ids(store) == [0, 1, 2, 3]
    assert await store.count(LunaEventFilters(), {ALICE}) == 4
    rows = await warehouse.query(
        f"SELECT count() AS n FROM {warehouse.database}.luna_events FINAL WHERE event_id = toUUID('{SEEDED[1].event_id}')")
    assert rows == [{"n": 1}]


async def test_account_scoping(store: LunaEventStore) -> None:
    assert await ids(store, {BOB}) == [4]
    assert await store.get(SEEDED[4].event_id, {ALICE}) is None
    assert not await store.exists(SEEDED[4].event_id, {ALICE})
    assert await store.exists(SEEDED[4].event_id, {BOB})


async def test_luna_shape(store: LunaEventStore) -> None:
    event = await store.get(SEEDED[0].event_id, {ALICE})
    assert event is not None
    assert event["create_time"] == "2026-03-02T10:00:00.000Z" and event["end_time"] == event["create_time"]
    assert event["location"] == {"city": "Riga", "area": None, "district": None, "street": None, "house_number": None,
                                 "geo_position": {"longitude": 24.10, "latitude": 56.95}}
    assert event["top_match"] == {"label": "staff", "similarity": 0.92, "face_id": str(FACE), "event_id": None,
                                  "external_id": "emp-7"}
    assert event["face_detections"][0]["detection"]["rect"] == {"x": 1, "y": 2, "width": 30, "height": 40}
    assert event["tags"] == ["vip", "day"] and event["meta"]["badge"] == {"kind": "guest"}
    assert event["handler_id"] == str(HANDLER) and event["face_id"] == str(FACE) and event["gender"] == 1
    assert "face_descriptor" not in event
    bare = await store.get(SEEDED[3].event_id, {ALICE})
    assert bare is not None and bare["tags"] is None and bare["top_match"] is None and bare["stream_id"] is None
    assert bare["location"]["city"] is None and bare["face_detections"] is None and bare["attach_result"] == []


async def test_filters(store: LunaEventStore) -> None:
    assert await ids(store, handler_ids=[HANDLER]) == [0, 1, 3]
    assert await ids(store, sources=["gate"]) == [0, 3]
    assert await ids(store, sources=["hall", "null"]) == [1, 2]
    assert await ids(store, stream_ids=["null"]) == [1, 2, 3]
    assert await ids(store, tags=["day"]) == [0, 1]
    assert await ids(store, tags=["day", "vip"]) == [0]
    assert await ids(store, user_data="door") == [0, 3]
    assert await ids(store, age__gte=19, age__lt=60) == [0, 1]
    assert await ids(store, gender=0) == [1]
    assert await ids(store, gender="null") == [2, 3]
    assert await ids(store, emotions=[4, 5]) == [0]
    assert await ids(store, masks=["null"]) == [0, 2, 3]
    assert await ids(store, liveness=[1]) == [2]
    assert await ids(store, apparent_gender=[1], apparent_age__gte=30) == [2]
    assert await ids(store, cities=["Riga"]) == [0, 1]
    assert await ids(store, origin_longitude=24.1, origin_latitude=56.95) == [0]
    assert await ids(store, track_ids=["t7"], external_ids=["ext-3"]) == [2]
    assert await ids(store, face_ids=[FACE]) == [0]
    assert await ids(store, top_matching_candidates_label=["staff"], top_similar_object_similarity__gte=0.9) == [0]
    assert await ids(store, top_similar_external_ids=["emp-7"], top_similar_object_ids=[FACE]) == [0]
    assert await ids(store, event_ids=[SEEDED[2].event_id, SEEDED[4].event_id]) == [2]
    assert await ids(store, create_time__gte=T0 + timedelta(minutes=30), create_time__lt=T0 + timedelta(minutes=130)) == [1, 2]
    meta = [ContentFilter.parse("meta.temperature__gt:numeric", "37", "meta")]
    assert await ids(store, meta=meta) == [1]
    assert await ids(store, meta=[ContentFilter.parse("meta.badge.kind", "guest", "meta")]) == [0]
    with pytest.raises(ValueError):
        await ids(store, origin_longitude=24.1)


async def test_order_pages_and_id_bounds(store: LunaEventStore) -> None:
    assert await ids(store, order="desc") == [3, 2, 1, 0]
    page = await store.list(LunaEventFilters(), {ALICE}, 2, 3, "asc")
    assert [e["event_id"] for e in page] == [str(SEEDED[3].event_id)]
    by_id = sorted(SEEDED[:4], key=lambda e: str(e.event_id))
    lowest = by_id[0].event_id
    found = await store.list(LunaEventFilters(event_id__gte=lowest), {ALICE}, 1, 10, "asc")
    assert [e["event_id"] for e in found] == [str(e.event_id) for e in by_id]
    cut = await store.list(LunaEventFilters(event_ids=[SEEDED[0].event_id]), {ALICE}, targets=["event_id", "age"])
    assert cut == [{"event_id": str(SEEDED[0].event_id), "age": 31}]


async def test_default_window() -> None:
    now = datetime(2026, 5, 1, tzinfo=UTC)
    windowed = LunaEventFilters().windowed(now)
    assert windowed.create_time__lt == now and windowed.create_time__gte == now - timedelta(days=30)
    given = LunaEventFilters(event_ids=[uuid.uuid4()])
    assert given.windowed(now) is given


async def test_stats(store: LunaEventStore) -> None:
    query = StatQuery(targets=[StatTarget(column="source", aggregator="group_by"), StatTarget(column="age", aggregator="max")])
    found = await store.stats(query, LunaEventFilters(), {ALICE})
    assert found == {"fields": ["source, aggregator 'group_by'", "age, aggregator 'max'"],
                     "stats": [["gate", 60], ["hall", 19], [None, None]]}
    hours = StatQuery(targets=[StatTarget(column="event_id", aggregator="count")], group_by="hourOfDay")
    assert (await store.stats(hours, LunaEventFilters(handler_ids=[HANDLER]), {ALICE}))["stats"] == [[10, 2], [12, 1]]
    meta = StatQuery(targets=[StatTarget(column="meta.temperature", aggregator="max")])
    assert (await store.stats(meta, LunaEventFilters(), {ALICE}))["stats"] == [[38.1]]
    with pytest.raises(ValueError):
        await store.stats(StatQuery(targets=[StatTarget(column="source", aggregator="avg")]), LunaEventFilters(), {ALICE})


async def test_descriptors(store: LunaEventStore) -> None:
    found = await store.descriptors([e.event_id for e in SEEDED], {ALICE}, "face")
    assert list(found) == [SEEDED[0].event_id]
    version, vector = found[SEEDED[0].event_id]
    assert version == 1001 and vector == pytest.approx(VECTOR, abs=1e-6)
    assert await store.descriptors([SEEDED[0].event_id], {BOB}, "face") == {}

"""The task sources read a set larger than a page range by range (not by an offset over the whole set):
each object comes exactly once, over real Milvus Lite (faces) and chdb (events)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from analytics.events.chdb_warehouse import ChdbWarehouse
from analytics.events.luna_event_store import LunaEventStore
from analytics.recognition.event_descriptors import EventArchive, EventDescriptorStore
from analytics.recognition.face_store import FaceStore, StoredFace
from analytics.tasks import event_source, sources
from analytics.tasks.event_source import EventSource
from analytics.tasks.sources import FaceSource
from infra.settings import MilvusSettings
from schemas.tasks import EventObjectFilters, FaceObjectFilters

pytestmark = pytest.mark.asyncio(loop_scope="session")
PAGE = 7
OBJECTS = 60  # some nine pages


def collections() -> MilvusSettings:
    return MilvusSettings(collection_prefix=f"sources_{uuid.uuid4().hex[:8]}_")


async def test_faces_past_one_page_come_each_once(milvus_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "PAGE", PAGE)
    store, account = FaceStore(milvus_client, collections()), uuid.uuid4()
    rng = np.random.default_rng(1)
    faces = [StoredFace(uuid.uuid4(), account, None, "mine", "", None, datetime.now(UTC), [], 1001,
                        [float(x) for x in rng.normal(0, 1, 128)]) for _ in range(OBJECTS)]
    other = StoredFace(uuid.uuid4(), account, None, "other", "", None, datetime.now(UTC), [], 1001, [0.0] * 128)
    await store.insert(*faces, other)
    read: list[uuid.UUID] = []
    offsets: list[int] = []
    query = store.query

    async def counted(*args: Any, **kwargs: Any) -> list[StoredFace]:
        page = await query(*args, **kwargs)
        read.extend(f.face_id for f in page)
        offsets.append(kwargs["offset"])
        return page

    monkeypatch.setattr(store, "query", counted)
    source = FaceSource(store)
    found = await source.faces(account, source.filters(FaceObjectFilters(user_data="mine")), with_vectors=True)
    expected = sorted(f.face_id for f in faces)
    assert [f.face_id for f in found] == expected
    assert sorted(read) == expected  # no face read twice
    # Some nine ranges of about a page: no read skips most of the set, as an offset over all of it would.
    assert max(offsets) < OBJECTS // 2
    assert all(f.vector is not None for f in found)
    # Within a subtask's id range: only the range's faces, each once.
    low, high = expected[10], expected[50]
    narrow = source.filters(FaceObjectFilters(user_data="mine", face_id__gte=low, face_id__lt=high))
    assert [f.face_id for f in await source.faces(account, narrow)] == expected[10:50]


async def test_events_past_one_page_come_each_once(
    warehouse: ChdbWarehouse, milvus_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_source, "PAGE", PAGE)
    account, settings = uuid.uuid4(), collections()
    await warehouse.execute(
        f"INSERT INTO {warehouse.database}.luna_events (event_id, account_id, create_time, end_time, external_id, "
        "user_data, source, tags, has_tags, face_descriptor, body_descriptor) "
        f"SELECT generateUUIDv4(), toUUID('{account}'), now64(3), now64(3), '', 'paged', 'camera', [], 0, [], [] "
        f"FROM numbers({OBJECTS})"
    )
    store = LunaEventStore(warehouse)
    rows = await warehouse.query(
        f"SELECT toString(event_id) AS id FROM {store.table} FINAL WHERE account_id = '{account}'")
    expected = sorted(uuid.UUID(r["id"]) for r in rows)
    assert len(expected) == OBJECTS
    read: list[str] = []
    pages: list[int] = []
    listed = store.list

    async def counted(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        page = await listed(*args, **kwargs)
        read.extend(e["event_id"] for e in page)
        pages.append(args[2])
        return page

    monkeypatch.setattr(store, "list", counted)
    source = EventSource(EventArchive(store, EventDescriptorStore(milvus_client, settings)))
    found = await source.events(account, source.filters(EventObjectFilters(user_data="paged")))
    assert [uuid.UUID(e["event_id"]) for e in found] == expected
    assert sorted(uuid.UUID(i) for i in read) == expected
    assert (max(pages) - 1) * PAGE < OBJECTS // 2

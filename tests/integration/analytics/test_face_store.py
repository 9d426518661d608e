"""The face store on a real Milvus Lite: CRUD, filters, lists, matching, isolation; hand-computed answers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from analytics.recognition.face_store import (
    FaceFilters,
    FaceStore,
    StoredFace,
    collection_name,
)
from infra.settings import MilvusSettings
from schemas.descriptors import FACE_DLIB_RESNET_128, FACE_HSE_FACERES_1024, similarity

pytestmark = pytest.mark.asyncio(loop_scope="session")
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
ALICE, BOB = uuid.uuid4(), uuid.uuid4()


@pytest.fixture
def client(milvus_client: Any) -> Any:
    return milvus_client


def fresh_settings(**fields: Any) -> MilvusSettings:
    # A fresh collection prefix per test: tests never see each other's faces.
    return MilvusSettings(collection_prefix=f"t{uuid.uuid4().hex[:12]}_", **fields)


@pytest.fixture
def store(client: Any) -> FaceStore:
    return FaceStore(client, fresh_settings())


def vec(*head: float, dim: int = 128) -> list[float]:
    return [*head, *[0.0] * (dim - len(head))]


def face(account: uuid.UUID = ALICE, vector: list[float] | None = None, minutes: int = 0, **fields: Any) -> StoredFace:
    values: dict[str, Any] = {
        "face_id": uuid.uuid4(), "account_id": account, "external_id": None, "user_data": "", "avatar": "",
        "event_id": None, "create_time": T0 + timedelta(minutes=minutes), "lists": [],
        "descriptor_version": FACE_DLIB_RESNET_128, "vector": vector or vec(),
    } | fields
    return StoredFace(**values)


async def test_insert_get_update_delete(store: FaceStore) -> None:
    event = uuid.uuid4()
    a = face(user_data='Ann "the" \\ tester', external_id="ext-1", avatar="/6/samples/faces/1", event_id=event,
             create_time=T0 + timedelta(microseconds=123457))
    b = face(vector=vec(0.5))
    await store.insert(a, b)
    assert await store.get(ALICE, [b.face_id, uuid.uuid4(), a.face_id]) == [face_like(b), face_like(a)]
    assert (await store.get(ALICE, [a.face_id], with_vectors=True))[0].vector == a.vector
    assert await store.get(BOB, [a.face_id]) == []

    updated = await store.update(ALICE, a.face_id, user_data="Ann", external_id=None, event_id=None)
    assert updated == face_like(a, user_data="Ann", external_id=None, event_id=None)
    assert await store.get(None, [a.face_id]) == [updated]
    assert await store.update(BOB, a.face_id, user_data="x") is None
    with pytest.raises(ValueError, match="cannot update"):
        await store.update(ALICE, a.face_id, lists=[])

    assert await store.delete(ALICE, [a.face_id, uuid.uuid4()]) == [a.face_id]
    assert await store.get(ALICE, [a.face_id, b.face_id]) == [face_like(b)]


def face_like(f: StoredFace, **changes: Any) -> StoredFace:
    values = {**f.__dict__, "vector": None, **changes}
    return StoredFace(**values)


async def test_filters_count_and_order(store: FaceStore) -> None:
    event = uuid.uuid4()
    faces = [face(minutes=i, user_data=f"u{i % 2}", external_id=f"e{i}", event_id=event if i == 3 else None)
             for i in range(6)]
    await store.insert(*faces, face(BOB, minutes=99))
    newest_first = [f.face_id for f in reversed(faces)]
    assert [f.face_id for f in await store.query(ALICE, FaceFilters())] == newest_first
    assert [f.face_id for f in await store.query(ALICE, FaceFilters(), offset=1, limit=2)] == newest_first[1:3]
    assert await store.count(ALICE, FaceFilters()) == 6
    assert await store.count(None, FaceFilters()) == 7

    cases = [
        (FaceFilters(user_data="u1"), [5, 3, 1]),
        (FaceFilters(external_ids=["e0", "e4", "nope"]), [4, 0]),
        (FaceFilters(event_id=event), [3]),
        (FaceFilters(face_ids=[faces[2].face_id, faces[5].face_id]), [5, 2]),
        (FaceFilters(create_time__gte=T0 + timedelta(minutes=2), create_time__lt=T0 + timedelta(minutes=4)), [3, 2]),
        (FaceFilters(user_data="u0", create_time__gte=T0 + timedelta(minutes=1)), [4, 2]),
    ]
    for filters, expected in cases:
        assert [f.face_id for f in await store.query(ALICE, filters)] == [faces[i].face_id for i in expected]
        assert await store.count(ALICE, filters) == len(expected)
    ordered = sorted(f.face_id for f in faces)
    by_id = FaceFilters(face_id__gte=ordered[1], face_id__lt=ordered[4])
    assert {f.face_id for f in await store.query(ALICE, by_id)} == set(ordered[1:4])


async def test_lists_attach_detach_drop(store: FaceStore) -> None:
    a, b, c = face(minutes=0), face(minutes=1), face(minutes=2)
    other = face(BOB)
    await store.insert(a, b, c, other)
    first, second, missing = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    assert await store.attach(ALICE, first, [a.face_id, b.face_id, missing, other.face_id]) == [missing, other.face_id]
    assert await store.attach(ALICE, first, [a.face_id]) == []  # twice in a list is once
    assert await store.attach(ALICE, second, [b.face_id, c.face_id]) == []
    assert await store.faces_of_list(ALICE, first) == sorted([a.face_id, b.face_id])
    assert (await store.get(ALICE, [b.face_id]))[0].lists == [first, second]
    assert await store.count(ALICE, FaceFilters(list_id=second)) == 2
    assert await store.faces_of_list(BOB, first) == []

    assert await store.detach(ALICE, first, [b.face_id, missing]) == [missing]
    assert await store.faces_of_list(ALICE, first) == [a.face_id]
    assert (await store.get(ALICE, [b.face_id]))[0].lists == [second]

    assert await store.drop_list(ALICE, first, with_faces=False) == [a.face_id]
    assert await store.get(ALICE, [a.face_id]) != []
    assert await store.faces_of_list(ALICE, first) == []
    assert sorted(await store.drop_list(ALICE, second, with_faces=True)) == sorted([b.face_id, c.face_id])
    assert [f.face_id for f in await store.query(ALICE, FaceFilters())] == [a.face_id]


async def test_search_similarity_threshold_limit(store: FaceStore) -> None:
    near, mid = face(vector=vec(0.3)), face(vector=vec(0.0, 0.6))
    far, gone = face(vector=vec(0.9)), face(vector=vec(2.0))
    await store.insert(near, mid, far, gone)
    [hits] = await store.search(ALICE, FACE_DLIB_RESNET_128, [vec()], limit=10)
    assert [(h.face_id, round(s, 4)) for h, s in hits] == [
        (near.face_id, 0.75), (mid.face_id, 0.5), (far.face_id, 0.25), (gone.face_id, 0.0)
    ]
    assert hits[0][0] == face_like(near)
    [top2] = await store.search(ALICE, FACE_DLIB_RESNET_128, [vec()], limit=2)
    assert [h.face_id for h, _ in top2] == [near.face_id, mid.face_id]
    [above, other] = await store.search(ALICE, FACE_DLIB_RESNET_128, [vec(), vec(0.9)], limit=10, threshold=0.45)
    assert [h.face_id for h, _ in above] == [near.face_id, mid.face_id]
    # 0 and 0.6 away: 1.0 and 0.5 (0.4999... in float32, hence the threshold 0.45)
    assert [h.face_id for h, _ in other] == [far.face_id, near.face_id]
    chosen = [far.face_id, gone.face_id]
    [only] = await store.search(ALICE, FACE_DLIB_RESNET_128, [vec()], face_ids=chosen, limit=10)
    assert [h.face_id for h, _ in only] == [far.face_id, gone.face_id]
    assert similarity(0.6, FACE_DLIB_RESNET_128) == 0.5


async def test_deleted_and_detached_faces_never_match(client: Any) -> None:
    settings = fresh_settings()
    store = FaceStore(client, settings)
    group = uuid.uuid4()
    kept, deleted, detached = face(vector=vec(0.2)), face(vector=vec(0.0)), face(vector=vec(0.1))
    await store.insert(kept, deleted, detached)
    await store.attach(ALICE, group, [kept.face_id, deleted.face_id, detached.face_id])
    client.flush(collection_name(FACE_DLIB_RESNET_128, settings.collection_prefix))  # sealed rows, not memtable
    await store.delete(ALICE, [deleted.face_id])
    await store.detach(ALICE, group, [detached.face_id])
    [in_list] = await store.search(ALICE, FACE_DLIB_RESNET_128, [vec()], list_ids=[group], limit=5)
    assert [h.face_id for h, _ in in_list] == [kept.face_id]
    [anywhere] = await store.search(ALICE, FACE_DLIB_RESNET_128, [vec()], limit=5)
    assert [h.face_id for h, _ in anywhere] == [detached.face_id, kept.face_id]
    assert await store.search(ALICE, FACE_DLIB_RESNET_128, [vec()], list_ids=[], limit=5) == [[]]


async def test_account_isolation(store: FaceStore) -> None:
    mine = face(ALICE, vector=vec(0.0))
    group = uuid.uuid4()
    await store.insert(mine, face(BOB, vector=vec(0.5)))
    await store.attach(ALICE, group, [mine.face_id])
    [bob_hits] = await store.search(BOB, FACE_DLIB_RESNET_128, [vec()], limit=5)
    assert [h.account_id for h, _ in bob_hits] == [BOB]
    assert await store.search(BOB, FACE_DLIB_RESNET_128, [vec()], list_ids=[group], limit=5) == [[]]
    assert await store.delete(BOB, [mine.face_id]) == []
    assert await store.attach(BOB, group, [mine.face_id]) == [mine.face_id]
    assert await store.query(BOB, FaceFilters(face_ids=[mine.face_id])) == []
    [admin] = await store.search(None, FACE_DLIB_RESNET_128, [vec()], limit=5)
    assert len(admin) == 2


async def test_versions_are_kept_apart(store: FaceStore) -> None:
    dlib = face(vector=vec(0.0))
    cosine = face(vector=vec(1.0, dim=1024), descriptor_version=FACE_HSE_FACERES_1024)
    orthogonal = face(vector=vec(0.0, 1.0, dim=1024), descriptor_version=FACE_HSE_FACERES_1024)
    await store.insert(dlib, cosine, orthogonal)
    [hits] = await store.search(ALICE, FACE_DLIB_RESNET_128, [vec()], limit=5)
    assert [h.face_id for h, _ in hits] == [dlib.face_id]
    [hits] = await store.search(ALICE, FACE_HSE_FACERES_1024, [vec(2.0, dim=1024)], limit=5)
    assert [(h.face_id, h.descriptor_version, round(s, 4)) for h, s in hits] == [
        (cosine.face_id, FACE_HSE_FACERES_1024, 1.0), (orthogonal.face_id, FACE_HSE_FACERES_1024, 0.5)
    ]
    everything = {f.face_id for f in await store.query(ALICE, FaceFilters())}
    assert everything == {dlib.face_id, cosine.face_id, orthogonal.face_id}

    with pytest.raises(ValueError, match="has 128 dimensions, got a vector of 1024"):
        await store.search(ALICE, FACE_DLIB_RESNET_128, [vec(dim=1024)], limit=5)
    with pytest.raises(ValueError, match="has 128 dimensions, got a vector of 127"):
        await store.insert(face(vector=vec(dim=127)))
    with pytest.raises(ValueError, match="not a face version"):
        await store.search(ALICE, 2001, [vec(dim=1280)], limit=5)


async def test_ann_index_past_threshold(client: Any) -> None:
    settings = fresh_settings(ann_threshold=20)
    store = FaceStore(client, settings)
    faces = [face(vector=vec(i / 100, 1 - i / 100)) for i in range(30)]
    await store.insert(*faces[:10])
    await store.insert(*faces[10:])
    name = collection_name(FACE_DLIB_RESNET_128, settings.collection_prefix)
    assert client.describe_index(name, "vector")["index_type"] == settings.ann_index
    [hits] = await store.search(ALICE, FACE_DLIB_RESNET_128, [vec(0.07, 0.93)], limit=3)
    assert hits[0][0].face_id == faces[7].face_id
    assert {h.face_id for h, _ in hits[1:]} == {faces[6].face_id, faces[8].face_id}

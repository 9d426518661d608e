"""The face and body stores on both real engines, Milvus Lite and a Milvus server: CRUD, filters, lists,
matching, isolation, read-your-writes, background indexing; hand-computed answers."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from analytics.recognition.face_store import (
    FaceFilters,
    FaceStore,
    StoredFace,
    collection_name,
)
from analytics.recognition.index_tuning import calibrate, choose_ef
from infra.settings import MilvusSettings
from schemas.descriptors import (
    BODY_MOBILENETV2_1280,
    DESCRIPTOR_VERSIONS,
    FACE_DLIB_RESNET_128,
    FACE_HSE_FACERES_1024,
    similarity,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
ALICE, BOB = uuid.uuid4(), uuid.uuid4()


@pytest.fixture(params=["lite", "server"])
def engine(request: pytest.FixtureRequest) -> tuple[Any, str]:
    """(client, uri) of Milvus Lite or of the Milvus server: every store test runs on both."""
    if request.param == "lite":
        return request.getfixturevalue("milvus_client"), request.getfixturevalue("milvus_uri")
    return request.getfixturevalue("milvus_server_client"), request.getfixturevalue("milvus_server_uri")


@pytest.fixture
def client(engine: tuple[Any, str]) -> Any:
    return engine[0]


@pytest.fixture
def fresh(engine: tuple[Any, str]) -> Callable[..., MilvusSettings]:
    def settings(**fields: Any) -> MilvusSettings:
        # A fresh collection prefix per test: tests never see each other's faces.
        return MilvusSettings(uri=engine[1], collection_prefix=f"t{uuid.uuid4().hex[:12]}_", **fields)

    return settings


@pytest.fixture
def store(client: Any, fresh: Callable[..., MilvusSettings]) -> FaceStore:
    return FaceStore(client, fresh())


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


async def test_deleted_and_detached_faces_never_match(client: Any, fresh: Callable[..., MilvusSettings]) -> None:
    settings = fresh()
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


async def test_new_faces_match_at_once_while_the_index_builds(client: Any, fresh: Callable[..., MilvusSettings]) -> None:
    """The index exists from creation; rows written a moment ago, sealed or not, indexed or not, are found."""
    settings = fresh()
    store = FaceStore(client, settings)
    name = collection_name(FACE_DLIB_RESNET_128, settings.collection_prefix)
    rng = np.random.default_rng(7)
    batches = [rng.normal(size=(500, 128)).astype(np.float32) for _ in range(4)]
    for batch in batches:
        faces = [face(vector=[float(x) for x in row]) for row in batch]
        await store.insert(*faces)
        # Read-your-writes: the newest face is its own best match at once.
        [hits] = await store.search(ALICE, FACE_DLIB_RESNET_128, [faces[-1].vector], limit=1)
        assert hits[0][0].face_id == faces[-1].face_id
    assert client.describe_index(name, "vector")["index_type"] == "HNSW"
    client.flush(name)  # seals the segments: the server now builds their index in the background
    probe = face(vector=[float(x) for x in rng.normal(size=128)])
    await store.insert(probe)
    deadline = time.monotonic() + 3
    searches = 0
    while time.monotonic() < deadline:
        [hits] = await store.search(ALICE, FACE_DLIB_RESNET_128, [probe.vector], limit=1)
        assert hits[0][0].face_id == probe.face_id
        searches += 1
    assert searches > 3
    assert await store.count(ALICE, FaceFilters()) == 2001


async def test_body_store(client: Any, fresh: Callable[..., MilvusSettings]) -> None:
    """Body descriptors (cosine, version 2001) in their own collection, with the face store's code."""
    bodies = FaceStore(client, fresh(), kind="body")
    dims = DESCRIPTOR_VERSIONS[BODY_MOBILENETV2_1280].dimensions
    same = face(vector=vec(1.0, 0.1, dim=dims), descriptor_version=BODY_MOBILENETV2_1280)
    other = face(vector=vec(0.0, 1.0, dim=dims), descriptor_version=BODY_MOBILENETV2_1280)
    await bodies.insert(same, other)
    [hits] = await bodies.search(ALICE, BODY_MOBILENETV2_1280, [vec(1.0, dim=dims)], limit=2)
    assert [h.face_id for h, _ in hits] == [same.face_id, other.face_id]
    assert hits[0][1] > 0.99 and 0.5 <= hits[1][1] < 0.6
    with pytest.raises(ValueError, match="not a body version"):
        await bodies.insert(face())
    assert await bodies.delete(ALICE, [other.face_id]) == [other.face_id]
    [hits] = await bodies.search(ALICE, BODY_MOBILENETV2_1280, [vec(0.0, 1.0, dim=dims)], limit=2)
    assert [h.face_id for h, _ in hits] == [same.face_id]


async def test_calibrated_ef_reaches_the_target(client: Any, fresh: Callable[..., MilvusSettings]) -> None:
    """ef is measured on the collection itself: recall@5 against exact search of every stored face."""
    settings = fresh()
    store = FaceStore(client, settings)
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(40, 128)).astype(np.float32)
    data = centres[rng.integers(0, 40, 3000)] + rng.normal(size=(3000, 128)).astype(np.float32) * 0.3
    for start in range(0, 3000, 1000):
        await store.insert(*[face(vector=[float(x) for x in row]) for row in data[start : start + 1000]])
    name = collection_name(FACE_DLIB_RESNET_128, settings.collection_prefix)
    client.flush(name)
    trials = calibrate(client, name, "L2", queries=50, efs=(5, 32, 256), seed=1)
    assert [t.ef for t in trials] == [5, 32, 256]
    assert trials[-1].recall >= 0.95
    assert trials[-1].recall >= trials[0].recall
    chosen = choose_ef(trials, 0.9)
    assert chosen is not None and chosen.recall >= 0.9

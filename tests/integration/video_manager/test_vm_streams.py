"""Streams over real HTTP (uvicorn), the Redis registry and the broker: CRUD, filters, validation,
44014, status logs, the stream-configs topic, and LUNA's error bodies."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer

from schemas.streams import StreamConfig
from schemas.topics import STREAM_CONFIGS
from tests.integration.video_manager.conftest import Manager
from tests.support import eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")
LINK = "https://docs.visionlabs.ai/info/luna/troubleshooting/errors-description/code-"


def assert_error(response, status: int, code: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error_code", "desc", "detail", "link"}
    assert body["error_code"] == code and body["link"] == f"{LINK}{code}"
    return body


@pytest.fixture(scope="module", autouse=True)
async def agent(vm: Manager) -> str:
    body = {"name": "rest-agent", "max_stream_count": 100, "analytic_names": ["people_count", "human_tracking"]}
    response = await vm.http.post("/6/agents", json=body, headers=vm.admin)
    assert response.status_code == 201, response.text
    return response.json()["agent_id"]


async def test_no_agent_for_analytics_is_44014(vm: Manager) -> None:
    await vm.http.post("/6/analytics", json={"analytic_name": "lonely"}, headers=vm.admin)
    body = {"data": {"type": "stream", "reference": "rtsp://cam/1"}, "analytics": [{"name": "people_count"}, {"name": "lonely"}]}
    error = assert_error(await vm.http.post("/6/streams", json=body, headers=vm.admin), 422, 44014)
    assert error["detail"] == "Failed to find agent that supports all analytics associated with the stream."


async def test_create_get_merges_defaults_in_luna_shape(vm: Manager) -> None:
    body = {
        "type": "stream", "reference": "rtsp://cam/door", "name": "door", "source": "lobby",
        "analytics": [{"name": "people_count", "parameters": {"probe_count": 5, "rate": {"period": 2}}}],
        "restart": {"restart": 1, "attempt_count": 3, "delay": 7},
    }
    response = await vm.http.post("/6/streams", json=body, headers=vm.admin)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["version"] == 1 and uuid.UUID(created["stream_id"])
    stream_id = created["stream_id"]
    stream = await vm.stream(stream_id)
    assert stream["data"]["reference"] == "rtsp://cam/door" and stream["data"]["type"] == "stream"
    assert stream["status"] == 0 and stream["groups"] == [] and stream["last_error"] is None
    analytic = stream["analytics"][0]
    assert analytic["analytic_name"] == "people_count"
    assert analytic["parameters"]["probe_count"] == 5
    assert analytic["parameters"]["rate"] == {"period": 2, "unit": "frame"}  # merged with the default unit
    assert analytic["parameters"]["people_count_threshold"] == 1
    assert analytic["autorestart"] == {
        "attempt_count": 3, "current_attempt": 0, "delay": 7, "last_attempt_time": None, "restart": 1, "status": "enabled"
    }
    head = await vm.http.head(f"/6/streams/{stream_id}", headers=vm.admin)
    assert head.status_code == 200


@pytest.mark.parametrize(
    ("parameters", "path"),
    [
        ({"probe_count": 0}, "analytics.0.parameters.probe_count"),
        ({"probe_count": "three"}, "analytics.0.parameters.probe_count"),
        ({"no_such_parameter": 1}, "analytics.0.parameters"),
        ({"lines": [{"line_id": "a", "start": {"x": 1, "y": 1}, "end": {"x": 1, "y": 1}}]}, "analytics.0.parameters.lines.0"),
    ],
)
async def test_bad_parameters_get_12022_with_path(vm: Manager, parameters: dict, path: str) -> None:
    body = {"data": {"type": "stream", "reference": "rtsp://x"}, "analytics": [{"name": "people_count", "parameters": parameters}]}
    error = assert_error(await vm.http.post("/6/streams", json=body, headers=vm.admin), 400, 12022)
    assert f'Path: "{path}"' in error["detail"]


async def test_bad_input_gets_luna_errors_never_5xx(vm: Manager) -> None:
    h = {**vm.admin, "Content-Type": "application/json"}
    assert_error(await vm.http.post("/6/streams", content=b"{not json", headers=h), 400, 12027)
    wrong_type = {"data": {"type": "stream", "reference": "rtsp://x", "rotation": 45}, "analytics": [{"name": "people_count"}]}
    error = assert_error(await vm.http.post("/6/streams", json=wrong_type, headers=vm.admin), 400, 12022)
    assert "data.rotation" in error["detail"]
    unknown = uuid.uuid4()
    error = assert_error(await vm.http.get(f"/6/streams/{unknown}", headers=vm.admin), 404, 11020)
    assert str(unknown) in error["detail"] and "stream" in error["detail"]
    assert_error(await vm.http.delete(f"/6/streams/{unknown}", headers=vm.admin), 404, 11020)
    assert (await vm.http.head(f"/6/streams/{unknown}", headers=vm.admin)).status_code == 404
    assert_error(await vm.http.get("/6/streams/not-a-uuid", headers=vm.admin), 400, 12012)
    assert_error(await vm.http.get("/6/streams", params={"page": 0}, headers=vm.admin), 400, 12012)
    assert_error(await vm.http.get("/6/streams", params={"page_size": 5000}, headers=vm.admin), 400, 12012)
    assert_error(await vm.http.get("/6/streams", params={"stream_ids": "nope"}, headers=vm.admin), 400, 12012)
    assert_error(await vm.http.get("/6/streams", params={"statuses": "sleeping"}, headers=vm.admin), 400, 12012)
    unknown_analytic = {"data": {"type": "stream", "reference": "rtsp://x"}, "analytics": [{"name": "ghost"}]}
    assert "ghost" in assert_error(await vm.http.post("/6/streams", json=unknown_analytic, headers=vm.admin), 404, 11020)["detail"]
    big = b"{" + b" " * (16 * 1024 * 1024) + b"}"
    assert_error(await vm.http.post("/6/streams", content=big, headers=h), 413, 37003)
    assert_error(await vm.http.get("/6/streams"), 401, 12010)


async def test_list_filters_order_pages_and_count(vm: Manager) -> None:
    source = f"src-{uuid.uuid4().hex[:6]}"
    ids = [await vm.create_stream(name=f"cam{i}", source=source) for i in range(5)]
    get = lambda **p: vm.http.get("/6/streams", params={"sources": source, **p}, headers=vm.admin)  # noqa: E731
    newest_first = [s["stream_id"] for s in (await get()).json()["streams"]]
    assert newest_first == ids[::-1]
    assert [s["stream_id"] for s in (await get(order="asc", page=2, page_size=2)).json()["streams"]] == ids[2:4]
    assert (await get(page=9, page_size=2)).json()["streams"] == []
    assert [s["name"] for s in (await get(names="cam1,cam3", order="asc")).json()["streams"]] == ["cam1", "cam3"]
    picked = (await get(stream_ids=f"{ids[0]},{ids[4]}")).json()["streams"]
    assert {s["stream_id"] for s in picked} == {ids[0], ids[4]}
    assert (await get(statuses="pending")).json()["streams"] and (await get(statuses="1")).json()["streams"] == []
    count = await vm.http.get("/6/streams/count", params={"sources": source}, headers=vm.admin)
    assert count.json() == {"streams_count": 5}


async def test_put_bumps_version_patch_pauses_delete_removes(vm: Manager) -> None:
    stream_id = await vm.create_stream()
    body = {"data": {"type": "stream", "reference": "rtsp://cam/new"}, "analytics": [{"name": "human_tracking"}], "name": "renamed"}
    replaced = await vm.http.put(f"/6/streams/{stream_id}", json=body, headers=vm.admin)
    assert replaced.status_code == 200 and replaced.json() == {"stream_id": stream_id, "version": 2}
    stream = await vm.stream(stream_id)
    assert stream["version"] == 2 and stream["name"] == "renamed" and stream["analytics"][0]["analytic_name"] == "human_tracking"
    assert (await vm.http.patch(f"/6/streams/{stream_id}", json={"action": "pause"}, headers=vm.admin)).status_code == 204
    assert (await vm.stream(stream_id))["status"] == 5
    assert_error(await vm.http.patch(f"/6/streams/{stream_id}", json={"action": "stop"}, headers=vm.admin), 400, 44015)
    assert_error(await vm.http.patch(f"/6/streams/{stream_id}", json={"action": "jump"}, headers=vm.admin), 400, 12022)
    assert (await vm.http.patch(f"/6/streams/{stream_id}", json={"action": "start"}, headers=vm.admin)).status_code == 204
    assert (await vm.stream(stream_id))["status"] == 0
    assert (await vm.http.delete(f"/6/streams/{stream_id}", headers=vm.admin)).status_code == 204
    assert (await vm.http.head(f"/6/streams/{stream_id}", headers=vm.admin)).status_code == 404


async def test_bulk_delete(vm: Manager) -> None:
    ids = [await vm.create_stream() for _ in range(3)]
    response = await vm.http.request("DELETE", "/6/streams", json={"stream_ids": ids[:2]}, headers=vm.admin)
    assert response.status_code == 204
    assert [(await vm.http.head(f"/6/streams/{i}", headers=vm.admin)).status_code for i in ids] == [404, 404, 200]


async def test_concurrent_puts_lose_no_version(vm: Manager) -> None:
    stream_id = await vm.create_stream()
    body = {"data": {"type": "stream", "reference": "rtsp://cam/x"}, "analytics": [{"name": "people_count"}]}
    answers = await asyncio.gather(*(vm.http.put(f"/6/streams/{stream_id}", json=body, headers=vm.admin) for _ in range(20)))
    assert sorted(a.json()["version"] for a in answers) == list(range(2, 22))
    assert (await vm.stream(stream_id))["version"] == 21


async def test_logs_record_status_changes_and_can_be_deleted(vm: Manager) -> None:
    stream_id = await vm.create_stream()
    await vm.http.patch(f"/6/streams/{stream_id}", json={"action": "pause"}, headers=vm.admin)
    logs = (await vm.http.get("/6/streams/logs", params={"stream_ids": stream_id, "order": "asc"}, headers=vm.admin)).json()["logs"]
    whole = [(e["status"], e["version"]) for e in logs if e["analytic_index"] is None]
    assert whole == [(0, 1), (5, 1)]
    assert {e["analytic_name"] for e in logs if e["analytic_index"] == 0} == {"people_count"}
    paused = (await vm.http.get("/6/streams/logs", params={"stream_ids": stream_id, "statuses": "pause", "analytic_indexes": "0"}, headers=vm.admin)).json()["logs"]
    assert [(e["status"], e["analytic_index"]) for e in paused] == [(5, 0)]
    deleted = await vm.http.delete("/6/streams/logs", params={"log_time__lt": "2100-01-01T00:00:00Z"}, headers=vm.admin)
    assert deleted.status_code == 200 and deleted.json()["deleted_count"] >= 4
    assert (await vm.http.get("/6/streams/logs", params={"stream_ids": stream_id}, headers=vm.admin)).json()["logs"] == []


async def test_every_change_reaches_the_stream_configs_topic(vm: Manager) -> None:
    consumer = AIOKafkaConsumer(STREAM_CONFIGS.name, bootstrap_servers=vm.parts.bus.bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    try:
        stream_id = await vm.create_stream(analytics=("people_count",))
        body = {"data": {"type": "stream", "reference": "rtsp://cam/y"}, "analytics": [{"name": "people_count", "parameters": {"probe_count": 9}}]}
        await vm.http.put(f"/6/streams/{stream_id}", json=body, headers=vm.admin)
        await vm.http.delete(f"/6/streams/{stream_id}", headers=vm.admin)
        seen: list[StreamConfig | None] = []

        async def read() -> list[StreamConfig | None]:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for r in records:
                    if r.key.decode() == stream_id:
                        seen.append(None if r.value is None else StreamConfig.model_validate_json(r.value))
            return seen

        await eventually(read, lambda s: len(s) >= 4 and s[-1] is None, timeout=15)
        configs = [c for c in seen if c is not None]
        assert configs[0].version == 1 and configs[0].analytics[0].analytic_name == "people_count"
        assert configs[0].analytics[0].parsed().probe_count == 3
        replaced = [c for c in configs if c.version == 2 and not c.deleted]
        assert replaced and replaced[0].analytics[0].parameters["probe_count"] == 9
        assert configs[-1].deleted and seen[-1] is None  # the marker, then the tombstone
        await eventually(vm.parts.manager.registry.streams.unpublished, lambda marks: marks == {}, timeout=5)
    finally:
        await consumer.stop()


async def test_filters_follow_every_write_and_survive_a_reindex(vm: Manager) -> None:
    """The list and count come from Redis's filter indexes: a pause, a replace and a delete move the
    stream between them, time and id ranges cut them, and streams stored before the indexes get them."""
    source = f"src-{uuid.uuid4().hex[:6]}"
    ids = [await vm.create_stream(name=f"n{i}", source=source) for i in range(4)]
    get = lambda **p: vm.http.get("/6/streams", params={"sources": source, "order": "asc", **p}, headers=vm.admin)  # noqa: E731
    count = lambda **p: vm.http.get("/6/streams/count", params={"sources": source, **p}, headers=vm.admin)  # noqa: E731
    listed = lambda r: [s["stream_id"] for s in r.json()["streams"]]  # noqa: E731
    await vm.http.patch(f"/6/streams/{ids[1]}", json={"action": "pause"}, headers=vm.admin)
    assert listed(await get(statuses="pause")) == [ids[1]] and (await count(statuses="pending,pause")).json()["streams_count"] == 4
    assert listed(await get(statuses="pending")) == [ids[0], ids[2], ids[3]]
    body = {"data": {"type": "stream", "reference": "rtsp://moved"}, "analytics": [{"name": "people_count"}], "source": source}
    assert (await vm.http.put(f"/6/streams/{ids[2]}", json=body, headers=vm.admin)).status_code == 200
    assert listed(await get(reference="rtsp://moved")) == [ids[2]] and listed(await get(names="n2")) == []
    assert listed(await get(names="n0,n3", page=2, page_size=1)) == [ids[3]]
    times = [(await vm.stream(i))["create_time"] for i in ids]
    assert listed(await get(create_time__gte=times[1], create_time__lt=times[3])) == ids[1:3]
    lowest = min(ids)
    assert listed(await get(stream_id__gte=lowest, stream_ids=",".join(ids), order="asc")) == ids
    assert (await count(stream_id__lt=lowest)).json()["streams_count"] == 0
    assert (await vm.http.delete(f"/6/streams/{ids[0]}", headers=vm.admin)).status_code == 204
    assert listed(await get()) == ids[1:] and (await count(splittable=0)).json()["streams_count"] == 3
    # As if stored by a manager before the indexes: dropped, then rebuilt on start.
    streams = vm.parts.manager.registry.streams
    redis = streams.store.redis
    await redis.delete(streams.indexed, *[k async for k in redis.scan_iter(match=streams.store.key("streams-by", "*"))])
    assert listed(await get()) == []
    await streams.ensure_indexed()
    assert listed(await get()) == ids[1:] and listed(await get(statuses="pause")) == [ids[1]]

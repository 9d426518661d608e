"""Stream groups over real HTTP: CRUD, the group filters on streams, group-wide pause/resume and 44015."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.video_manager.conftest import Manager

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module", autouse=True)
async def agent(vm: Manager) -> None:
    body = {"name": "rest-agent", "max_stream_count": 100, "analytic_names": ["people_count"]}
    assert (await vm.http.post("/6/agents", json=body, headers=vm.admin)).status_code == 201


async def create_group(vm: Manager, name: str | None = None) -> str:
    body = {"group_name": name or f"g-{uuid.uuid4().hex[:6]}", "description": "entrance cameras"}
    response = await vm.http.post("/6/groups", json=body, headers=vm.admin)
    assert response.status_code == 201, response.text
    return response.json()["group_id"]


async def test_group_crud_and_count(vm: Manager) -> None:
    name = f"g-{uuid.uuid4().hex[:6]}"
    group_id = await create_group(vm, name)
    duplicate = await vm.http.post("/6/groups", json={"group_name": name}, headers=vm.admin)
    assert duplicate.status_code == 409 and duplicate.json()["error_code"] == 45006
    group = (await vm.http.get(f"/6/groups/{group_id}", headers=vm.admin)).json()
    assert group["group_name"] == name and group["description"] == "entrance cameras" and set(group) == {
        "account_id", "create_time", "description", "group_id", "group_name"
    }
    assert (await vm.http.patch(f"/6/groups/{group_id}", json={"description": "exit"}, headers=vm.admin)).status_code == 204
    assert (await vm.http.get(f"/6/groups/{group_id}", headers=vm.admin)).json()["description"] == "exit"
    bad = await vm.http.patch(f"/6/groups/{group_id}", json={"group_name": "x"}, headers=vm.admin)
    assert bad.status_code == 400 and bad.json()["error_code"] == 12022
    listed = (await vm.http.get("/6/groups", params={"group_names": name}, headers=vm.admin)).json()["groups"]
    assert [g["group_id"] for g in listed] == [group_id]
    assert (await vm.http.get("/6/groups/count", params={"group_ids": group_id}, headers=vm.admin)).json() == {"groups_count": 1}
    assert (await vm.http.delete(f"/6/groups/{group_id}", headers=vm.admin)).status_code == 204
    missing = await vm.http.get(f"/6/groups/{group_id}", headers=vm.admin)
    assert missing.status_code == 404 and missing.json()["error_code"] == 11020 and group_id in missing.json()["detail"]


async def test_streams_join_groups_by_id_or_name_and_filter_by_them(vm: Manager) -> None:
    name = f"g-{uuid.uuid4().hex[:6]}"
    group_id = await create_group(vm, name)
    by_id = await vm.create_stream(group_id=group_id)
    by_name = await vm.create_stream(group_name=name)
    await vm.create_stream()
    assert (await vm.stream(by_id))["groups"] == [group_id]
    for params in ({"group_id": group_id}, {"group_name": name}):
        streams = (await vm.http.get("/6/streams", params=params, headers=vm.admin)).json()["streams"]
        assert {s["stream_id"] for s in streams} == {by_id, by_name}
    unknown = {"data": {"type": "stream", "reference": "rtsp://x"}, "analytics": [{"name": "people_count"}], "group_id": str(uuid.uuid4())}
    assert (await vm.http.post("/6/streams", json=unknown, headers=vm.admin)).json()["error_code"] == 11020
    # Deleting the group alone keeps its streams, out of the group.
    assert (await vm.http.delete(f"/6/groups/{group_id}", params={"with_streams": 0}, headers=vm.admin)).status_code == 204
    assert (await vm.stream(by_id))["groups"] == []


async def test_group_streams_pause_resume_and_44015(vm: Manager) -> None:
    group_id = await create_group(vm)
    ids = [await vm.create_stream(group_id=group_id) for _ in range(2)]
    patch = lambda action: vm.http.patch(f"/6/groups/{group_id}/streams", json={"action": action}, headers=vm.admin)  # noqa: E731
    assert (await patch("resume")).json()["error_code"] == 44015  # nothing is paused
    assert (await vm.http.patch(f"/6/streams/{ids[0]}", json={"action": "pause"}, headers=vm.admin)).status_code == 204
    assert (await patch("stop")).status_code == 204  # the other one can still pause
    assert [(await vm.stream(i))["status"] for i in ids] == [5, 5]
    nothing = await patch("pause")
    assert nothing.status_code == 400 and nothing.json()["detail"] == "No streams suitable for patching"
    assert (await patch("start")).status_code == 204
    assert [(await vm.stream(i))["status"] for i in ids] == [0, 0]
    empty = await create_group(vm)
    assert (await vm.http.patch(f"/6/groups/{empty}/streams", json={"action": "pause"}, headers=vm.admin)).json()["error_code"] == 44015


async def test_delete_group_streams_and_with_streams(vm: Manager) -> None:
    group_id = await create_group(vm)
    ids = [await vm.create_stream(group_id=group_id) for _ in range(2)]
    assert (await vm.http.delete(f"/6/groups/{group_id}/streams", headers=vm.admin)).status_code == 204
    assert [(await vm.http.head(f"/6/streams/{i}", headers=vm.admin)).status_code for i in ids] == [404, 404]
    assert (await vm.http.get(f"/6/groups/{group_id}", headers=vm.admin)).status_code == 200  # the group stays
    kept = await vm.create_stream(group_id=group_id)
    assert (await vm.http.delete(f"/6/groups/{group_id}", params={"with_streams": 1}, headers=vm.admin)).status_code == 204
    assert (await vm.http.head(f"/6/streams/{kept}", headers=vm.admin)).status_code == 404

"""LUNA's handlers over real HTTP: create, read, list, count, replace, delete, validate; policy refusals."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.integration.video_manager.conftest import Manager, new_account

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def create_list(vm: Manager, headers: dict[str, str] | None = None) -> str:
    response = await vm.http.post("/6/lists", json={"user_data": "watch"}, headers=headers or vm.admin)
    assert response.status_code == 201, response.text
    return response.json()["list_id"]


def matching(list_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "detect_policy": {"detect_face": 1},
        "extract_policy": {"extract_face_descriptor": 1},
        "match_policy": [{"label": "watch", "candidates": {"origin": "faces", "list_id": list_id},
                          "limit": 3, "threshold": 0.5}],
        **extra,
    }


async def test_a_static_handler_keeps_its_policies_with_luna_defaults(vm: Manager) -> None:
    headers = await new_account(vm)
    list_id = await create_list(vm, headers)
    created = await vm.http.post("/6/handlers", json={"description": "entrance", "policies": matching(list_id)},
                                 headers=headers)
    assert created.status_code == 201, created.text
    handler_id = created.json()["handler_id"]
    assert created.json()["url"] == f"/6/handlers/{handler_id}"
    handler = (await vm.http.get(f"/6/handlers/{handler_id}", headers=headers)).json()
    assert (handler["handler_type"], handler["is_dynamic"], handler["description"]) == (0, False, "entrance")
    policies = handler["policies"]
    assert policies["match_policy"][0]["candidates"] == {"origin": "faces", "list_id": list_id, "face_ids": None}
    # LUNA's defaults fill what was not given: samples and events stored, no face, attributes kept 300 s.
    storage = policies["storage_policy"]
    assert storage["face_sample_policy"] == {"store_sample": 1, "filters": storage["face_sample_policy"]["filters"], "ttl": None}
    assert (storage["event_policy"]["store_event"], storage["face_policy"]["store_face"]) == (1, 0)
    assert storage["attribute_policy"]["ttl"] == 300
    assert policies["detect_policy"]["multiface_policy"] == 1
    assert policies["detect_policy"]["estimate_liveness"] == {"estimate": 0, "liveness_threshold": 0.5, "quality_threshold": 0.5}
    assert (await vm.http.head(f"/6/handlers/{handler_id}", headers=headers)).status_code == 200

    replaced = await vm.http.put(f"/6/handlers/{handler_id}", json={"description": "exit", "handler_type": 1}, headers=headers)
    assert replaced.status_code == 200, replaced.text
    handler = (await vm.http.get(f"/6/handlers/{handler_id}", headers=headers)).json()
    assert (handler["description"], handler["handler_type"], handler["policies"]) == ("exit", 1, None)
    assert handler["last_update_time"] > handler["create_time"]

    assert (await vm.http.delete(f"/6/handlers/{handler_id}", headers=headers)).status_code == 204
    gone = await vm.http.get(f"/6/handlers/{handler_id}", headers=headers)
    assert gone.status_code == 404 and gone.json()["error_code"] == 34000


async def test_list_and_count_filter_by_type_and_description_per_account(vm: Manager) -> None:
    headers, other = await new_account(vm), await new_account(vm)
    ids = []
    for body in ({"description": "Front door"}, {"description": "back door", "handler_type": 0},
                 {"description": "garage", "is_dynamic": True}):
        response = await vm.http.post("/6/handlers", json=body, headers=headers)
        assert response.status_code == 201, response.text
        ids.append(response.json()["handler_id"])
    # No policies and no type: dynamic (LUNA's rule); handler_type 0 without policies: LUNA's default policies.
    types = [(await vm.http.get(f"/6/handlers/{i}", headers=headers)).json()["handler_type"] for i in ids]
    assert types == [1, 0, 1]
    listed = (await vm.http.get("/6/handlers", params={"description": "door"}, headers=headers)).json()
    assert [h["handler_id"] for h in listed] == ids[:2]
    count = await vm.http.get("/6/handlers/count", params={"handler_type": 1}, headers=headers)
    assert count.json() == {"handlers_count": 2}
    assert (await vm.http.get("/6/handlers/count", params={"is_dynamic": 0}, headers=headers)).json() == {"handlers_count": 1}
    page = (await vm.http.get("/6/handlers", params={"page": 2, "page_size": 2}, headers=headers)).json()
    assert [h["handler_id"] for h in page] == ids[2:]
    # Another account sees none of them, and cannot read, replace or delete one.
    assert (await vm.http.get("/6/handlers", headers=other)).json() == []
    for method in ("GET", "DELETE"):
        response = await vm.http.request(method, f"/6/handlers/{ids[0]}", headers=other)
        assert response.status_code == 404 and response.json()["error_code"] == 34000
    put = await vm.http.put(f"/6/handlers/{ids[0]}", json={"description": "mine"}, headers=other)
    assert put.status_code == 404
    unknown = await vm.http.get(f"/6/handlers/{uuid.uuid4()}", headers=headers)
    assert unknown.status_code == 404 and unknown.json()["error_code"] == 34000


async def test_policies_that_cannot_run_here_are_refused(vm: Manager) -> None:
    headers, other = await new_account(vm), await new_account(vm)
    list_id = await create_list(vm, headers)
    foreign_list = await create_list(vm, other)

    async def refused(policies: dict[str, Any]) -> tuple[int, int]:
        created = await vm.http.post("/6/handlers", json={"policies": policies}, headers=headers)
        validated = await vm.http.post("/6/handlers/validator", json={"policies": policies}, headers=headers)
        assert created.status_code == validated.status_code, (created.text, validated.text)
        assert created.json()["error_code"] == validated.json()["error_code"]
        return created.status_code, created.json()["error_code"]

    # An estimator without a model (liveness), or a filter that needs one (age needs basic attributes).
    assert await refused({"detect_policy": {"estimate_liveness": {"estimate": 1}}}) == (400, 200005)
    assert await refused({"storage_policy": {"face_policy": {"store_face": 1, "filters": {"age__gte": 18}}}}) == (400, 200005)
    assert await refused({"extract_policy": {"extract_basic_attributes": 1}}) == (400, 200005)
    # A list that does not exist, or is another account's, in a match policy or a link to lists.
    assert await refused(matching(str(uuid.uuid4()))) == (404, 22005)
    assert await refused(matching(foreign_list)) == (404, 22005)
    link = {"storage_policy": {"face_policy": {"store_face": 1, "link_to_lists_policy": [{"list_id": foreign_list}]}}}
    assert await refused(link) == (404, 22005)
    # LUNA's limit on match candidates.
    over = matching(list_id)
    over["match_policy"][0]["limit"] = 101
    assert await refused(over) == (400, 34005)
    # A malformed policy: LUNA's JSON validation error.
    assert await refused({"detect_policy": {"multiface_policy": 3}}) == (400, 12022)
    # A policy that can run is valid, and creates nothing.
    ok = await vm.http.post("/6/handlers/validator", json={"policies": matching(list_id)}, headers=headers)
    assert ok.status_code == 204, ok.text
    assert (await vm.http.get("/6/handlers/count", headers=headers)).json() == {"handlers_count": 0}
    lambda_handler = await vm.http.post("/6/handlers", json={"handler_type": 2, "lambda_id": str(uuid.uuid4())}, headers=headers)
    assert lambda_handler.status_code == 403 and lambda_handler.json()["error_code"] == 11072


async def test_features_lists_the_handlers_component(vm: Manager) -> None:
    features = (await vm.http.get("/6/features", headers=vm.admin)).json()
    assert features["components"]["handlers"] is True


async def test_a_token_needs_the_handler_permission(vm: Manager) -> None:
    headers = await new_account(vm)
    created = await vm.http.post("/6/handlers", json={"handler_type": 1}, headers=headers)
    handler_id = created.json()["handler_id"]
    for permissions, allowed in (({"face": ["view"]}, False), ({"handler": ["view"]}, True)):
        made = await vm.http.post("/6/tokens", json={"permissions": permissions}, headers=headers)
        assert made.status_code == 201, made.text
        token = {"Authorization": f"Bearer {made.json()['token']}"}
        read = await vm.http.get(f"/6/handlers/{handler_id}", headers=token)
        assert read.status_code == (200 if allowed else 403), read.text
        written = await vm.http.post("/6/handlers", json={"handler_type": 1}, headers=token)
        assert written.status_code == 403 and written.json()["error_code"] == 11059

"""The analytics registry over real HTTP: built-ins with schema and defaults, an account's own analytics,
and streams that use them; plus /features and the OpenAPI document of every route."""

from __future__ import annotations

import uuid

import pytest

from schemas.analytics import PeopleCountParameters
from tests.integration.video_manager.conftest import Manager

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_builtins_are_listed_with_schema_and_defaults(vm: Manager) -> None:
    analytics = (await vm.http.get("/6/analytics", headers=vm.admin)).json()["analytics"]
    by_name = {a["analytic_name"]: a for a in analytics}
    assert {"people_count", "human_tracking"} <= set(by_name)
    people = by_name["people_count"]
    assert people["account_id"] is None and people["analytic_version"] == 1
    assert people["default_parameters"]["probe_count"] == 3
    assert people["validation_schema"] == PeopleCountParameters.model_json_schema()
    one = await vm.http.get(f"/6/analytics/{people['analytic_id']}", headers=vm.admin)
    assert one.status_code == 200 and one.json()["analytic_name"] == "people_count"
    builtin_put = await vm.http.put(f"/6/analytics/{people['analytic_id']}", json={"analytic_name": "people_count"}, headers=vm.admin)
    assert builtin_put.status_code == 404  # built-ins are read-only


async def test_own_analytic_validates_stream_parameters(vm: Manager) -> None:
    name = f"fire-{uuid.uuid4().hex[:6]}"
    schema = {"type": "object", "properties": {"sensitivity": {"type": "number", "maximum": 1}}, "additionalProperties": False}
    body = {"analytic_name": name, "default_parameters": {"sensitivity": 0.5}, "validation_schema": schema}
    created = await vm.http.post("/6/analytics", json=body, headers=vm.admin)
    assert created.status_code == 201, created.text
    analytic_id = created.json()["analytic_id"]
    stream = {"data": {"type": "stream", "reference": "rtsp://x"}, "analytics": [{"name": name, "parameters": {"sensitivity": 2}}]}
    assert (await vm.http.post("/6/streams", json=stream, headers=vm.admin)).json()["error_code"] == 44014
    agent = {"name": "fire-agent", "max_stream_count": 1, "analytic_names": [name]}
    assert (await vm.http.post("/6/agents", json=agent, headers=vm.admin)).status_code == 201
    bad = (await vm.http.post("/6/streams", json=stream, headers=vm.admin)).json()
    assert bad["error_code"] == 12022 and 'Path: "analytics.0.parameters.sensitivity"' in bad["detail"]
    stream["analytics"][0]["parameters"] = {}
    stream_id = (await vm.http.post("/6/streams", json=stream, headers=vm.admin)).json()["stream_id"]
    assert (await vm.stream(stream_id))["analytics"][0]["parameters"] == {"sensitivity": 0.5}
    replaced = {**body, "default_parameters": {"sensitivity": 0.9}, "analytic_version": 2}
    assert (await vm.http.put(f"/6/analytics/{analytic_id}", json=replaced, headers=vm.admin)).status_code == 204
    assert (await vm.http.get(f"/6/analytics/{analytic_id}", headers=vm.admin)).json()["analytic_version"] == 2
    assert (await vm.http.request("DELETE", "/6/analytics", json={"analytic_ids": [analytic_id]}, headers=vm.admin)).status_code == 204
    assert (await vm.http.get(f"/6/analytics/{analytic_id}", headers=vm.admin)).json()["error_code"] == 11020


async def test_bad_validation_schema_and_defaults_are_refused(vm: Manager) -> None:
    schema_typo = {"analytic_name": "x1", "validation_schema": {"type": "objekt"}}
    bad = (await vm.http.post("/6/analytics", json=schema_typo, headers=vm.admin)).json()
    assert bad["error_code"] == 12022 and "validation_schema" in bad["detail"]
    defaults_fail = {"analytic_name": "x2", "default_parameters": {"a": "text"}, "validation_schema": {"properties": {"a": {"type": "integer"}}}}
    assert (await vm.http.post("/6/analytics", json=defaults_fail, headers=vm.admin)).json()["error_code"] == 12022


async def test_features_and_openapi_cover_the_manager(vm: Manager) -> None:
    features = (await vm.http.get("/6/features")).json()
    assert features["video_analytics"] is True and features["components"]["video_manager"] is True
    assert features["inference_backend"].startswith("onnxruntime")
    paths = set((await vm.http.get("/openapi.json")).json()["paths"])
    assert {
        "/6/streams", "/6/streams/{stream_id}", "/6/streams/count", "/6/streams/logs", "/6/groups/{group_id}/streams",
        "/6/analytics", "/6/agents/{agent_id}/streams/feedback", "/6/tokens", "/6/account",
    } <= paths

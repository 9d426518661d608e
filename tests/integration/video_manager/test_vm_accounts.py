"""Accounts, Basic and Bearer authentication, token permissions and account isolation, over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.video_manager.conftest import ADMIN, Manager, basic, new_account

pytestmark = pytest.mark.asyncio(loop_scope="session")
STREAM = {"data": {"type": "stream", "reference": "rtsp://cam/1"}, "analytics": [{"name": "people_count"}]}


@pytest.fixture(scope="module", autouse=True)
async def agent(vm: Manager) -> None:
    body = {"name": "rest-agent", "max_stream_count": 100, "analytic_names": ["people_count"]}
    assert (await vm.http.post("/6/agents", json=body, headers=vm.admin)).status_code == 201


async def test_first_admin_and_credentials(vm: Manager) -> None:
    me = await vm.http.get("/6/account", headers=vm.admin)
    assert me.status_code == 200 and me.json()["login"] == ADMIN[0] and me.json()["account_type"] == "admin"
    assert "password" not in me.json()
    assert (await vm.http.get("/6/streams", headers=basic(ADMIN[0], "wrong"))).json()["error_code"] == 41006
    assert (await vm.http.get("/6/streams")).json()["error_code"] == 12010
    assert (await vm.http.get("/6/streams", headers={"Authorization": "Basic %%%"})).json()["error_code"] == 11065
    header_only = await vm.http.get("/6/streams", headers={"Luna-Account-Id": me.json()["account_id"]})
    assert header_only.status_code == 403 and header_only.json()["error_code"] == 11061


async def test_passwords_are_stored_hashed(vm: Manager) -> None:
    registry = vm.parts.auth.registry
    account_id = await registry.accounts.id_by_name(ADMIN[0])
    raw = (await registry.store.redis.get(registry.accounts.key(account_id))).decode()
    assert ADMIN[1] not in raw and '"password_hash":"scrypt$' in raw


async def test_accounts_never_see_each_others_objects(vm: Manager) -> None:
    alice, bob = await new_account(vm), await new_account(vm)
    created = await vm.http.post("/6/streams", json=STREAM, headers=alice)
    assert created.status_code == 201
    stream_id = created.json()["stream_id"]
    group_id = (await vm.http.post("/6/groups", json={"group_name": "mine"}, headers=alice)).json()["group_id"]
    for method, path, body in [
        ("GET", f"/6/streams/{stream_id}", None), ("PUT", f"/6/streams/{stream_id}", STREAM),
        ("PATCH", f"/6/streams/{stream_id}", {"action": "pause"}), ("DELETE", f"/6/streams/{stream_id}", None),
        ("GET", f"/6/groups/{group_id}", None), ("DELETE", f"/6/groups/{group_id}", None),
    ]:
        response = await vm.http.request(method, path, json=body, headers=bob)
        assert response.status_code == 404 and response.json()["error_code"] == 11020, (method, path)
    assert (await vm.http.get("/6/streams", headers=bob)).json()["streams"] == []
    assert (await vm.http.get("/6/streams/count", headers=bob)).json()["streams_count"] == 0
    assert (await vm.http.get("/6/groups", headers=bob)).json()["groups"] == []
    assert (await vm.http.request("DELETE", "/6/streams", json={"stream_ids": [stream_id]}, headers=bob)).status_code == 204
    alice_id = (await vm.http.get("/6/account", headers=alice)).json()["account_id"]
    peek = await vm.http.get("/6/streams", params={"account_id": alice_id}, headers=bob)
    assert peek.status_code == 403 and peek.json()["error_code"] == 11063
    # Alice's stream survived all of that, and a group of the same name is Bob's own.
    assert (await vm.http.get(f"/6/streams/{stream_id}", headers=alice)).status_code == 200
    assert (await vm.http.post("/6/groups", json={"group_name": "mine"}, headers=bob)).status_code == 201
    # An advanced_user may read another account's objects when it asks for them, not change them.
    carol = await new_account(vm, "advanced_user")
    assert len((await vm.http.get("/6/streams", params={"account_id": alice_id}, headers=carol)).json()["streams"]) == 1
    assert (await vm.http.patch(f"/6/streams/{stream_id}", json={"action": "pause"}, headers=carol)).status_code == 404


async def test_only_admins_create_accounts_and_register_agents(vm: Manager) -> None:
    user = await new_account(vm)
    body = {"login": "x@y.z", "password": "secret", "account_type": "admin"}
    assert (await vm.http.post("/6/accounts", json=body, headers=user)).json()["error_code"] == 11059
    agent = {"name": "a", "max_stream_count": 1, "analytic_names": ["people_count"]}
    denied = await vm.http.post("/6/agents", json=agent, headers=user)
    assert denied.status_code == 403 and denied.json()["error_code"] == 11059


async def test_bearer_tokens_carry_permissions_and_can_be_revoked(vm: Manager) -> None:
    user = await new_account(vm)
    await vm.http.post("/6/streams", json=STREAM, headers=user)
    made = await vm.http.post("/6/tokens", json={"permissions": {"video_stream": ["view"]}, "description": "read only"}, headers=user)
    assert made.status_code == 201, made.text
    token = {"Authorization": f"Bearer {made.json()['token']}"}
    assert len((await vm.http.get("/6/streams", headers=token)).json()["streams"]) == 1
    denied = await vm.http.post("/6/streams", json=STREAM, headers=token)
    assert denied.status_code == 403 and denied.json()["error_code"] == 11059 and "video_stream" in denied.json()["detail"]
    assert (await vm.http.get("/6/groups", headers=token)).json()["error_code"] == 11059
    assert (await vm.http.post("/6/tokens", json={"permissions": {}}, headers=token)).status_code == 403
    listed = (await vm.http.get("/6/tokens", headers=user)).json()["tokens"]
    assert [t["token_id"] for t in listed] == [made.json()["token_id"]] and "token" not in listed[0]
    assert (await vm.http.delete(f"/6/tokens/{made.json()['token_id']}", headers=user)).status_code == 204
    assert (await vm.http.get("/6/streams", headers=token)).json()["error_code"] == 11065
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    expired = (await vm.http.post("/6/tokens", json={"permissions": {"video_stream": ["view"]}, "expiration_time": past}, headers=user)).json()
    assert (await vm.http.get("/6/streams", headers={"Authorization": f"Bearer {expired['token']}"})).json()["error_code"] == 41007
    assert (await vm.http.get("/6/streams", headers={"Authorization": "Bearer not.a.jwt"})).json()["error_code"] == 11065
    wide = await vm.http.post("/6/tokens", json={"permissions": {}, "visibility_area": "all"}, headers=user)
    assert wide.status_code == 400


async def test_an_account_changes_its_login_password_and_description(vm: Manager) -> None:
    user = await new_account(vm)
    old_login = (await vm.http.get("/6/account", headers=user)).json()["login"]
    new_login = f"renamed-{old_login}"
    patched = await vm.http.patch("/6/account", json={"login": new_login, "password": "new-secret", "description": "mine"}, headers=user)
    assert patched.status_code == 204, patched.text
    assert (await vm.http.get("/6/account", headers=user)).json()["error_code"] == 41006  # the old password is gone
    renewed = basic(new_login, "new-secret")
    me = (await vm.http.get("/6/account", headers=renewed)).json()
    assert (me["login"], me["description"]) == (new_login, "mine")
    assert (await vm.http.get("/6/account", headers=basic(old_login, "new-secret"))).json()["error_code"] == 41006
    # The freed login can be taken again; a taken one cannot be moved onto.
    body = {"login": old_login, "password": "other-1", "account_type": "user"}
    assert (await vm.http.post("/6/accounts", json=body, headers=vm.admin)).status_code == 201
    taken = await vm.http.patch("/6/account", json={"login": old_login}, headers=renewed)
    assert taken.status_code == 409 and taken.json()["error_code"] == 45006
    assert (await vm.http.patch("/6/account", json={}, headers=renewed)).json()["error_code"] == 12031
    promoted = await vm.http.patch("/6/account", json={"account_type": "advanced_user"}, headers=renewed)
    assert promoted.status_code == 403 and promoted.json()["error_code"] == 11059


async def test_a_replaced_token_takes_its_new_permissions_and_expiry(vm: Manager) -> None:
    user = await new_account(vm)
    await vm.http.post("/6/streams", json=STREAM, headers=user)
    made = (await vm.http.post("/6/tokens", json={"permissions": {"video_stream": ["view"]}}, headers=user)).json()
    assert made["url"] == f"/6/tokens/{made['token_id']}"
    old_jwt = {"Authorization": f"Bearer {made['token']}"}
    assert (await vm.http.get("/6/streams", headers=old_jwt)).status_code == 200
    replaced = await vm.http.put(f"/6/tokens/{made['token_id']}", json={"permissions": {}, "description": "none"}, headers=user)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["token_id"] == made["token_id"]
    denied = await vm.http.get("/6/streams", headers=old_jwt)
    assert denied.status_code == 403 and denied.json()["error_code"] == 11059  # the old JWT, the new permissions
    assert (await vm.http.get(f"/6/tokens/{made['token_id']}", headers=user)).json()["description"] == "none"
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    body = {"permissions": {"video_stream": ["view"]}, "expiration_time": past}
    assert (await vm.http.put(f"/6/tokens/{made['token_id']}", json=body, headers=user)).status_code == 200
    assert (await vm.http.get("/6/streams", headers=old_jwt)).json()["error_code"] == 41007  # expired by the replacement
    other = await new_account(vm)
    foreign = await vm.http.put(f"/6/tokens/{made['token_id']}", json=body, headers=other)
    assert foreign.status_code == 404 and foreign.json()["error_code"] == 11020

"""LUNA's service endpoints on a real manager: configuration (admin only, secrets hidden), plugins, docs."""

from __future__ import annotations

import pytest

from tests.integration.video_manager.conftest import Manager, new_account

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_config_shows_every_setting_with_secrets_hidden(vm: Manager, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SELENE_MANAGER_JWT_SECRET", "a-secret-that-must-never-be-shown-1234")
    monkeypatch.setenv("SELENE_API_PORT", "18080")
    response = await vm.http.get("/6/config", headers=vm.admin)
    assert response.status_code == 200, response.text
    config = response.json()
    assert config["SELENE_API_PORT"] == 18080
    assert config["SELENE_MANAGER_JWT_SECRET"] == "***"
    assert config["SELENE_MANAGER_ADMIN_PASSWORD"] == "***"
    assert "a-secret-that-must-never-be-shown" not in response.text
    assert config["SELENE_MILVUS_TOKEN"] == ""  # an unset secret stays visibly unset


async def test_config_is_for_admins_only(vm: Manager) -> None:
    user = await new_account(vm)
    response = await vm.http.get("/6/config", headers=user)
    assert response.status_code == 403
    assert response.json()["error_code"] == 11059
    assert (await vm.http.get("/6/config")).status_code == 401


async def test_plugins_and_docs(vm: Manager) -> None:
    assert (await vm.http.get("/6/plugins")).json() == {"plugins": []}
    redirect = await vm.http.get("/6/docs/dev", follow_redirects=False)
    assert (redirect.status_code, redirect.headers["location"]) == (307, "/docs")
    spec = (await vm.http.get("/6/docs/spec")).json()
    assert "/6/config" in spec["paths"] and "/6/docs/spec" in spec["paths"]

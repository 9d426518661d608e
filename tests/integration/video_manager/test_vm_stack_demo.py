"""`selene up --demo` registers the demo video through the REST API, waiting out 44014 until an agent
has registered, and only once."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import pytest

from infra.root.stack import SAMPLE_CLIP, EmbeddedStack
from infra.settings import ApiSettings
from tests.integration.video_manager.conftest import ADMIN, Manager

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_demo_stream_is_registered_once(vm: Manager, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SELENE_MANAGER_ADMIN_LOGIN", ADMIN[0])
    monkeypatch.setenv("SELENE_MANAGER_ADMIN_PASSWORD", ADMIN[1])
    stack = EmbeddedStack(demo=str(SAMPLE_CLIP), out=lambda _: None)
    url = urlsplit(vm.url)
    stack.api = ApiSettings(host=url.hostname, port=url.port)
    registering = asyncio.create_task(asyncio.to_thread(stack.register_demo))
    await asyncio.sleep(1.0)  # no agent yet: the stack keeps trying
    assert not registering.done()
    agent = {"name": "late-agent", "max_stream_count": 4, "analytic_names": ["people_count"]}
    assert (await vm.http.post("/6/agents", json=agent, headers=vm.admin)).status_code == 201
    await asyncio.wait_for(registering, 10)
    await asyncio.to_thread(stack.register_demo)  # a restarted stack finds it registered
    streams = (await vm.http.get("/6/streams", params={"reference": str(SAMPLE_CLIP.resolve())}, headers=vm.admin)).json()["streams"]
    assert len(streams) == 1
    assert streams[0]["name"] == "demo" and streams[0]["analytics"][0]["analytic_name"] == "people_count"
    assert streams[0]["data"]["type"] == "stream"

"""The API's platform endpoints against real parts: chdb, the Tansu broker, redis-server, Milvus Lite."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
import redis.asyncio as aioredis

from analytics.events.chdb_warehouse import ChdbWarehouse
from analytics.recognition.milvus import open_milvus
from infra.health import HealthMonitor
from infra.heartbeat import Heartbeat
from infra.process import free_port
from infra.root.api import build_probes
from infra.root.app import ApiContext, create_api
from infra.settings import BrokerSettings, CommonSettings, MilvusSettings, RedisSettings

pytestmark = pytest.mark.asyncio(loop_scope="session")
LINK = re.compile(r"^https://docs\.visionlabs\.ai/info/luna/troubleshooting/errors-description/code-\d+$")


@pytest.fixture(scope="module")
async def api(
    broker: BrokerSettings, redis_server: RedisSettings, warehouse: ChdbWarehouse, milvus_uri: str
) -> AsyncIterator[httpx.AsyncClient]:
    milvus = open_milvus(MilvusSettings(uri=milvus_uri), CommonSettings())
    client = aioredis.from_url(redis_server.url)
    dead_broker = BrokerSettings(bootstrap=f"127.0.0.1:{free_port()}")
    probes = build_probes(broker, client, warehouse, milvus, ("worker",))
    probes["broker-unreachable"] = build_probes(dead_broker, client, warehouse, milvus, ())["broker"]
    monitor = HealthMonitor(probes, interval=0.5, timeout=1.0)
    beat = Heartbeat(redis_server.url, "worker")
    await beat.start()
    await monitor.start()
    transport = httpx.ASGITransport(app=create_api(ApiContext(warehouse=warehouse, health=monitor)))
    async with httpx.AsyncClient(transport=transport, base_url="http://selene") as http:
        yield http
    await monitor.stop()
    await beat.stop()
    await client.aclose()
    milvus.close()


async def test_version_lists_components(api: httpx.AsyncClient) -> None:
    body = (await api.get("/6/version")).json()
    assert body["api_version"] == 6
    assert {"selene", "faust-streaming", "av", "chdb", "pymilvus"} <= set(body["components"])
    assert body["components"]["av"][0].isdigit()


async def test_health_reports_each_part(api: httpx.AsyncClient) -> None:
    response = await api.get("/6/health")
    assert response.status_code == 200
    parts = {p["name"]: p for p in response.json()["parts"]}
    for name in ("broker", "redis", "clickhouse", "milvus", "worker"):
        assert parts[name]["status"] == "ok", parts[name]
    assert parts["broker-unreachable"]["status"] == "down"
    assert parts["broker-unreachable"]["error"]
    assert response.json()["status"] == "degraded"


async def test_luna_healthcheck_names_the_parts_down(api: httpx.AsyncClient) -> None:
    response = await api.get("/6/healthcheck")
    assert response.status_code == 502
    body = response.json()
    assert body["error_code"] == 38001 and "broker-unreachable" in body["detail"]
    assert LINK.match(body["link"])


async def test_unknown_path_and_method_get_luna_errors(api: httpx.AsyncClient) -> None:
    missing = await api.get("/6/no-such-thing")
    assert missing.status_code == 404
    assert missing.json() == {
        "error_code": 12013, "desc": "Resource not found", "detail": "Page not found",
        "link": "https://docs.visionlabs.ai/info/luna/troubleshooting/errors-description/code-12013",
    }
    wrong = await api.delete("/6/version")
    assert wrong.status_code == 405 and wrong.json()["error_code"] == 12021


async def test_oversized_body_is_refused_before_reading(api: httpx.AsyncClient) -> None:
    response = await api.post("/6/version", content=b"x" * (16 * 1024 * 1024 + 1))
    assert response.status_code == 413 and response.json()["error_code"] == 37003


async def test_request_id_is_echoed_or_generated(api: httpx.AsyncClient) -> None:
    given = "1536751345,8b8b5937-2e9c-4e8b-a7a7-5caf86621b5a"
    echoed = await api.get("/6/version", headers={"Luna-Request-Id": given})
    assert echoed.headers["Luna-Request-Id"] == given
    generated = await api.get("/6/version", headers={"Luna-Request-Id": "not-a-request-id"})
    assert re.match(r"^\d{10},[0-9a-f-]{36}$", generated.headers["Luna-Request-Id"])


async def test_openapi_is_served(api: httpx.AsyncClient) -> None:
    spec = (await api.get("/openapi.json")).json()
    assert "/6/version" in spec["paths"] and "/6/health" in spec["paths"]
    assert (await api.get("/docs")).status_code == 200


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_need_no_internet(api: httpx.AsyncClient, page: str) -> None:
    """Swagger UI and ReDoc load their scripts and styles from the API itself, never from a CDN."""
    html = await api.get(page)
    assert html.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', html.text)
    assert assets, html.text
    for asset in assets:
        assert asset.startswith("/"), f"{page} loads {asset} from outside"
        served = await api.get(asset)
        assert served.status_code == 200 and len(served.content) > 1000, asset
    assert "/openapi.json" in html.text

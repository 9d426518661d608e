"""The metrics helpers: HTTP requests labelled by route template, and a metrics port that cannot bind."""

from __future__ import annotations

import socket
import urllib.request

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY

from infra.http.metrics import UNMATCHED, HttpMetricsMiddleware, metrics_router
from infra.metrics import serve_metrics
from infra.process import free_port


def _requests(route: str, status: str) -> float:
    return REGISTRY.get_sample_value(
        "selene_http_requests_total", {"method": "GET", "route": route, "status": status}) or 0.0


@pytest.mark.asyncio
async def test_requests_are_counted_by_route_template_and_status() -> None:
    app = FastAPI()
    app.add_middleware(HttpMetricsMiddleware)
    app.include_router(metrics_router())

    @app.get("/things/{thing_id}")
    async def thing(thing_id: int) -> dict[str, int]:
        return {"thing_id": thing_id}

    before = _requests("/things/{thing_id}", "200"), _requests("/things/{thing_id}", "422"), _requests(UNMATCHED, "404")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/things/1")).status_code == 200
        assert (await client.get("/things/2")).status_code == 200
        assert (await client.get("/things/not-a-number")).status_code == 422
        assert (await client.get("/no/such/path/123")).status_code == 404
        scraped = await client.get("/metrics")
    after = _requests("/things/{thing_id}", "200"), _requests("/things/{thing_id}", "422"), _requests(UNMATCHED, "404")
    assert [a - b for a, b in zip(after, before)] == [2, 1, 1]
    assert scraped.headers["content-type"].startswith("text/plain")
    assert 'selene_http_requests_total{method="GET",route="/things/{thing_id}",status="200"}' in scraped.text


def test_a_metrics_port_serves_and_a_busy_one_is_not_fatal() -> None:
    port = free_port()
    assert serve_metrics("127.0.0.1", port, "test")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=3) as response:
        assert b"selene_frames_decoded" in response.read()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert not serve_metrics("127.0.0.1", busy.getsockname()[1], "test")
    assert not serve_metrics("127.0.0.1", 0, "test")

"""Schemathesis against /openapi.json of a real manager: generated requests to every operation, with a
bounded example count; no 5xx, and every response matches the documented schema."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from analytics.events.chdb_warehouse import ChdbWarehouse
from infra.settings import BrokerSettings, RedisSettings
from tests.integration.video_manager.conftest import Manager, start_manager

pytestmark = pytest.mark.asyncio(loop_scope="session")
EXAMPLES = 8


@pytest.fixture
async def api(
    redis_server: RedisSettings, broker: BrokerSettings, warehouse: ChdbWarehouse, milvus_client: Any
) -> AsyncIterator[Manager]:
    manager, stop = await start_manager(redis_server, broker, warehouse, f"test:{uuid.uuid4().hex[:8]}", milvus=milvus_client)
    yield manager
    await stop()


def fuzz(spec: dict, base_url: str, headers: dict[str, str]) -> tuple[list[str], dict[str, int]]:
    failures: list[str] = []
    calls: dict[str, int] = {}
    for result in schemathesis.openapi.from_dict(spec).get_all_operations():
        operation = result.ok()

        @settings(max_examples=EXAMPLES, deadline=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            response = case.call(base_url=base_url, headers=headers)
            calls[case.operation.label] = calls.get(case.operation.label, 0) + 1
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

        try:
            check()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    return failures, calls


async def test_no_5xx_and_responses_match_the_schema(api: Manager) -> None:
    spec = (await api.http.get("/openapi.json")).json()
    failures, calls = await asyncio.to_thread(fuzz, spec, api.url, api.admin)
    assert failures == [], "\n\n".join(failures)
    assert len(calls) >= 30 and sum(calls.values()) >= 3 * len(calls), calls  # it really exercised the API

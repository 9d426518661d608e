"""LUNA's ``GET /6/ws`` through the real API and broker: an event a handler published on
``selene.event-notifications`` reaches the account's subscribers whose handshake filters it meets,
through the handler's ``luna-ws-notification`` callback, in LUNA's message shape; other accounts, other
filters and events without a ws callback see nothing; bad handshakes get LUNA's codes."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from infra.settings import BrokerSettings
from schemas.notifications import EventNotification
from schemas.topics import EVENT_NOTIFICATIONS
from tests.integration.video_manager.conftest import Manager, basic, new_account

pytestmark = pytest.mark.asyncio(loop_scope="session")
WS_CALLBACK = {"type": "luna-ws-notification"}


@pytest.fixture
async def producer(broker: BrokerSettings) -> AsyncIterator[AIOKafkaProducer]:
    started = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
    await started.start()
    yield started
    await started.stop()


def ws_url(vm: Manager, query: str = "") -> str:
    return f"{vm.url.replace('http://', 'ws://')}/6/ws{query}"


async def account_id(vm: Manager, credentials: dict[str, str]) -> str:
    response = await vm.http.get("/6/account", headers=credentials)
    assert response.status_code == 200, response.text
    return str(response.json()["account_id"])


async def publish(
    producer: AIOKafkaProducer, account: str, callbacks: list[dict[str, Any]] | None = None, handler_id: str | None = None,
    **event: Any,
) -> EventNotification:
    notification = EventNotification.model_validate({
        "account_id": account, "handler_id": handler_id or str(uuid.uuid4()),
        "event": {"event_id": str(uuid.uuid4()), "source": "cam1", "tags": [], **event},
        "event-create-time": datetime.now(UTC), "event-end-time": datetime.now(UTC),
        "Luna-Request-id": "1536751345,8b8b5937-2e9c-4e8b-a7a7-5caf86621b5a",
        "callbacks": [WS_CALLBACK] if callbacks is None else callbacks,
    })
    await producer.send_and_wait(
        EVENT_NOTIFICATIONS.name, notification.model_dump_json(by_alias=True).encode(), key=account.encode())
    return notification


async def next_event(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 10))
    return message


async def rejection(url: str, headers: dict[str, str] | None = None) -> tuple[dict[str, Any], int | None]:
    async with connect(url, additional_headers=headers) as ws:
        body = json.loads(await asyncio.wait_for(ws.recv(), 5))
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        return body, ws.close_code


async def test_an_event_reaches_its_accounts_subscriber_in_lunas_shape(vm: Manager, producer: AIOKafkaProducer) -> None:
    mine, theirs = await new_account(vm), await new_account(vm)
    me, other = await account_id(vm, mine), await account_id(vm, theirs)
    async with connect(ws_url(vm), additional_headers=mine) as ws, connect(ws_url(vm), additional_headers=theirs) as ws2:
        await asyncio.sleep(0.2)  # the server registers the subscriptions after the upgrade
        sent = await publish(producer, me, tags=["vip"])
        message = await next_event(ws)
        assert set(message) == {"event", "handler_id", "event-create-time", "event-end-time", "Luna-Request-id"}
        assert message["event"] == sent.event and message["handler_id"] == str(sent.handler_id)
        assert message["Luna-Request-id"] == sent.request_id
        assert datetime.fromisoformat(message["event-create-time"]) == sent.event_create_time
        # The other account saw nothing of mine: its first message is its own event.
        theirs_sent = await publish(producer, other)
        assert (await next_event(ws2))["event"]["event_id"] == theirs_sent.event["event_id"]


async def test_handshake_and_callback_filters_decide_what_a_subscriber_gets(
    vm: Manager, producer: AIOKafkaProducer
) -> None:
    credentials = await new_account(vm)
    me = await account_id(vm, credentials)
    handler = str(uuid.uuid4())
    query = f"?handler_ids={handler}&tags=vip&sources=cam1,cam2&age__gte=18"
    async with connect(ws_url(vm, query), additional_headers=credentials) as ws:
        await asyncio.sleep(0.2)
        adult = {"face_attributes": {"basic_attributes": {"age": 30, "gender": 1}}}
        await publish(producer, me, handler_id=handler, tags=["staff"], **adult)  # no vip tag
        await publish(producer, me, tags=["vip"], **adult)  # another handler
        await publish(producer, me, handler_id=handler, tags=["vip"], face_attributes={"basic_attributes": {"age": 12}})
        await publish(producer, me, handler_id=handler, tags=["vip"], source="cam9", **adult)
        await publish(producer, me, callbacks=[], handler_id=handler, tags=["vip"], **adult)  # no ws callback
        await publish(producer, me, callbacks=[{**WS_CALLBACK, "filters": {"gender": 0}}], handler_id=handler,
                      tags=["vip"], **adult)  # the handler's ws callback filters it out
        await publish(producer, me, callbacks=[{"type": "http", "url": "http://127.0.0.1:9/x"}], handler_id=handler,
                      tags=["vip"], **adult)  # an http callback only
        wanted = await publish(producer, me, callbacks=[
            {**WS_CALLBACK, "filters": {"gender": 0}}, {**WS_CALLBACK, "filters": {"gender": 1}}],
            handler_id=handler, tags=["vip", "staff"], **adult)
        assert (await next_event(ws))["event"]["event_id"] == wanted.event["event_id"]
        with pytest.raises(TimeoutError):  # sent once, though two of the handler's ws callbacks let it through
            await asyncio.wait_for(ws.recv(), 1)


async def test_a_token_in_the_query_subscribes_and_an_admin_may_read_another_account(
    vm: Manager, producer: AIOKafkaProducer
) -> None:
    credentials = await new_account(vm)
    me = await account_id(vm, credentials)
    made = await vm.http.post("/6/tokens", json={"permissions": {"event": ["view"]}}, headers=credentials)
    assert made.status_code == 201, made.text
    async with connect(ws_url(vm, f"?token={made.json()['token']}")) as ws, \
            connect(ws_url(vm, f"?account_id={me}"), additional_headers=vm.admin) as admin_ws:
        await asyncio.sleep(0.2)
        sent = await publish(producer, me)
        assert (await next_event(ws))["event"]["event_id"] == sent.event["event_id"]
        assert (await next_event(admin_ws))["event"]["event_id"] == sent.event["event_id"]


async def test_bad_handshakes_get_lunas_error_and_close_code(vm: Manager) -> None:
    credentials = await new_account(vm)
    body, code = await rejection(ws_url(vm))
    assert body["error_code"] == 29001 and code == 4403
    body, code = await rejection(ws_url(vm), basic("nobody@selene.test", "wrong-password"))
    assert body["error_code"] == 41006 and code == 4401
    body, code = await rejection(ws_url(vm, "?gender=2"), credentials)
    assert body["error_code"] == 12012 and code == 4400
    body, code = await rejection(ws_url(vm, "?geo_position=origin_longitude,1"), credentials)
    assert body["error_code"] == 12012 and code == 4400
    body, code = await rejection(ws_url(vm, f"?account_id={uuid.uuid4()}"), credentials)  # a user reading another
    assert body["error_code"] == 11063 and code == 4403
    made = await vm.http.post("/6/tokens", json={"permissions": {"face": ["view"]}}, headers=credentials)
    body, code = await rejection(ws_url(vm, f"?token={made.json()['token']}"))
    assert body["error_code"] == 11059 and code == 4403

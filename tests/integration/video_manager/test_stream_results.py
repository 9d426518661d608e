"""Live analytics results through the real API, broker and HTTP: the stream websocket (LUNA's shape,
account scoping, status changes) and the analytic's HTTP callbacks, fed from the analytics-events topic
and, for watch-list hits, from the real matcher (Milvus Lite) through the matches topic."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import FastAPI, Request
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from infra.kafka import wait_for_positions
from analytics.recognition.face_store import FaceStore, StoredFace
from analytics.recognition.track_matcher import TrackMatcher
from infra.process import free_port
from infra.settings import BrokerSettings, MatcherSettings, MilvusSettings
from schemas.analytics import MatchPolicy
from schemas.deadletter import DeadLetter
from schemas.descriptors import Descriptor
from schemas.detections import BoundingBox
from schemas.events import (
    AnalyticsEventMessage,
    BestShot,
    HumanTrackingEvent,
    PeopleCountEvent,
    VideoSegment,
)
from schemas.recognition import TrackDescriptors
from schemas.topics import ANALYTICS_EVENTS, DEAD_LETTER, DESCRIPTORS
from tests.integration.video_manager.conftest import Manager, basic
from tests.support import eventually


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A callback receiver on a free port: its URL and the bodies it got."""
    received: list[dict[str, Any]] = []
    app = FastAPI()

    @app.post("/results")
    async def results(request: Request) -> dict[str, str]:
        received.append(await request.json())
        return {}

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}/results", received
    server.should_exit = True
    await serving


@pytest.fixture
async def producer(broker: BrokerSettings) -> AsyncIterator[AIOKafkaProducer]:
    started = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
    await started.start()
    yield started
    await started.stop()


@pytest.fixture
async def dead_letters(broker: BrokerSettings) -> AsyncIterator[AIOKafkaConsumer]:
    """The dead-letter topic, read from its end."""
    consumer = AIOKafkaConsumer(DEAD_LETTER.name, bootstrap_servers=broker.bootstrap, group_id=None, auto_offset_reset="latest")
    await consumer.start()
    await wait_for_positions(consumer)
    yield consumer
    await consumer.stop()


def ws_url(vm: Manager, stream_id: str, query: str = "") -> str:
    return f"{vm.url.replace('http://', 'ws://')}/6/streams/{stream_id}/ws{query}"


async def collect(ws: ClientConnection, into: list[dict[str, Any]]) -> None:
    async for text in ws:
        into.append(json.loads(text))


def crowd_event(stream: dict[str, Any]) -> AnalyticsEventMessage:
    event_id = uuid.uuid4()
    event = PeopleCountEvent(
        event_id=event_id, track_id="crowd-1", people_count=3, event_status="started",
        video_segment=VideoSegment(start_time_offset=0.0, end_time_offset=1.0),
    )
    return AnalyticsEventMessage(
        event_id=event_id, stream_id=stream["stream_id"], account_id=stream["account_id"], version=stream["version"],
        analytic_name="people_count", analytic_index=0, event_type="crowd", create_time=datetime.now(UTC), event=event,
    )


def ended_track(stream: dict[str, Any]) -> AnalyticsEventMessage:
    """A human-tracking event as the tracker publishes it when the track ends, with one face best shot."""
    event_id, start = uuid.uuid4(), datetime.now(UTC)
    shot = BestShot(kind="face", time_offset=1.0, bbox=BoundingBox(x=1, y=2, width=30, height=40), score=0.9,
                    descriptor_id=uuid.uuid4())
    event = HumanTrackingEvent(
        event_id=event_id, track_id="track-7", event_status="ended", best_shots=[shot],
        video_segment=VideoSegment(start_time_offset=0.0, end_time_offset=2.0),
    )
    return AnalyticsEventMessage(
        event_id=event_id, stream_id=stream["stream_id"], account_id=stream["account_id"], version=stream["version"],
        analytic_name="human_tracking", analytic_index=0, event_type="human_tracking", create_time=start,
        end_time=start, event=event,
    )


async def rejection(url: str, headers: dict[str, str] | None = None) -> tuple[dict[str, Any], int | None]:
    """What the server sends a refused client: the error body, and the close code."""
    async with connect(url, additional_headers=headers) as ws:
        body = json.loads(await asyncio.wait_for(ws.recv(), 5))
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        return body, ws.close_code


async def test_results_reach_websocket_and_callback(
    vm: Manager, kafka_agents: Callable[..., Any], receiver: tuple[str, list[dict[str, Any]]], producer: AIOKafkaProducer,
    dead_letters: AIOKafkaConsumer,
) -> None:
    url, posted = receiver
    await kafka_agents(["people_count"])
    analytic = {"name": "people_count", "parameters": {"callbacks": [{"type": "http", "url": url}]}}
    body = {"data": {"type": "videofile", "reference": "file:///video.mp4"}, "analytics": [analytic]}
    created = await vm.http.post("/6/streams", json=body, headers=vm.admin)
    assert created.status_code == 201, created.text
    stream = await vm.stream(created.json()["stream_id"])

    messages: list[dict[str, Any]] = []
    async with connect(ws_url(vm, stream["stream_id"]), additional_headers=vm.admin) as ws:
        collecting = asyncio.create_task(collect(ws, messages))
        seen = lambda: asyncio.sleep(0, list(messages))  # noqa: E731
        first = (await eventually(seen, lambda m: len(m) >= 1, timeout=5))[0]
        assert first["analytics_results"] == {} and first["error"] is None  # subscribed: the current status

        # A record that is not an event is dead-lettered; the next good one is still delivered.
        bad = await producer.send_and_wait(ANALYTICS_EVENTS.name, b"{not an event", key=stream["stream_id"].encode())
        event = crowd_event(stream)
        await producer.send_and_wait(ANALYTICS_EVENTS.name, event.model_dump_json().encode(), key=stream["stream_id"].encode())

        results = await eventually(seen, lambda m: any(x["analytics_results"] for x in m), timeout=10)
        result = next(x for x in results if x["analytics_results"])
        assert set(result) == {"stream_status", "error", "analytics_results"}
        assert list(result["analytics_results"]) == ["crowd"]
        crowd = result["analytics_results"]["crowd"]
        assert crowd["event_id"] == str(event.event_id) and crowd["people_count"] == 3 and crowd["event_status"] == "started"
        assert sum(1 for x in messages if x["analytics_results"]) == 1
        letter = DeadLetter.model_validate_json((await asyncio.wait_for(dead_letters.getone(), 5)).value)
        assert (letter.topic, letter.partition, letter.offset) == (ANALYTICS_EVENTS.name, bad.partition, bad.offset)

        await eventually(lambda: asyncio.sleep(0, list(posted)), lambda p: len(p) == 1, timeout=10)
        assert posted[0]["stream_id"] == stream["stream_id"]
        assert posted[0]["analytics_results"]["crowd"]["event_id"] == str(event.event_id)

        # A status change reaches the client as a status message.
        paused = await vm.http.patch(f"/6/streams/{stream['stream_id']}", json={"action": "pause"}, headers=vm.admin)
        assert paused.status_code == 204, paused.text
        await eventually(seen, lambda m: m[-1] == {"stream_status": "pause", "error": None, "analytics_results": {}}, timeout=10)
        collecting.cancel()
        await asyncio.gather(collecting, return_exceptions=True)


async def test_websocket_is_scoped_to_the_account(vm: Manager, kafka_agents: Callable[..., Any]) -> None:
    await kafka_agents(["people_count"])
    stream_id = await vm.create_stream()
    login = f"ws-{uuid.uuid4().hex[:8]}@selene.test"
    await vm.parts.auth.create_account(login, "password-1", "user", None)

    body, code = await rejection(ws_url(vm, stream_id), basic(login, "password-1"))
    assert body["error_code"] == 11020 and code == 4404
    body, code = await rejection(ws_url(vm, str(uuid.uuid4())), vm.admin)
    assert body["error_code"] == 11020 and code == 4404
    body, code = await rejection(ws_url(vm, stream_id))
    assert body["error_code"] == 12010 and code == 4401

    # A browser cannot set headers: a token in the query authenticates, within the token's account.
    made = await vm.http.post("/6/tokens", json={"permissions": {"video_stream": ["view"]}}, headers=vm.admin)
    assert made.status_code == 201, made.text
    async with connect(ws_url(vm, stream_id, f"?token={made.json()['token']}")) as ws:
        status = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert status["analytics_results"] == {} and "stream_status" in status


async def test_a_matched_track_reaches_websocket_and_callback_once_and_its_matches_once(
    vm: Manager, kafka_agents: Callable[..., Any], receiver: tuple[str, list[dict[str, Any]]], producer: AIOKafkaProducer,
    broker: BrokerSettings, milvus_client: Any,
) -> None:
    url, posted = receiver
    await kafka_agents(["human_tracking"])
    analytic = {"name": "human_tracking", "parameters": {"callbacks": [{"type": "http", "url": url}]}}
    body = {"data": {"type": "videofile", "reference": "file:///video.mp4"}, "analytics": [analytic]}
    created = await vm.http.post("/6/streams", json=body, headers=vm.admin)
    assert created.status_code == 201, created.text
    stream = await vm.stream(created.json()["stream_id"])

    # The real matcher over Milvus Lite, with one enrolled face; the track's face is that very descriptor.
    store = FaceStore(milvus_client, MilvusSettings(collection_prefix=f"r{uuid.uuid4().hex[:8]}_"))
    list_id, vector = uuid.uuid4(), [((i * 37) % 11 - 5) / 20 for i in range(128)]
    face = StoredFace(face_id=uuid.uuid4(), account_id=uuid.UUID(stream["account_id"]), external_id=None, user_data="",
                      avatar="", event_id=None, create_time=datetime.now(UTC), lists=[list_id], descriptor_version=1001,
                      vector=vector)
    await store.insert(face)
    matcher = TrackMatcher(broker.bootstrap, f"results-matcher-{uuid.uuid4().hex[:8]}", store, MatcherSettings(batch_seconds=0.2))
    await matcher.start()
    try:
        messages: list[dict[str, Any]] = []
        async with connect(ws_url(vm, stream["stream_id"]), additional_headers=vm.admin) as ws:
            collecting = asyncio.create_task(collect(ws, messages))
            seen = lambda: asyncio.sleep(0, list(messages))  # noqa: E731
            await eventually(seen, lambda m: len(m) >= 1, timeout=5)

            track = ended_track(stream)
            key = stream["stream_id"].encode()
            await producer.send_and_wait(ANALYTICS_EVENTS.name, track.model_dump_json().encode(), key=key)
            [shot] = track.event.best_shots  # type: ignore[union-attr]
            descriptor = Descriptor(descriptor_id=shot.descriptor_id, kind="face", descriptor_version=1001, vector=vector,
                                    account_id=track.account_id, create_time=track.create_time)
            found = TrackDescriptors(stream_id=track.stream_id, event=track, descriptors=[descriptor],
                                     match_policy=MatchPolicy(list_ids=[list_id]))
            await producer.send_and_wait(DESCRIPTORS.name, found.model_dump_json().encode(), key=key)

            def human(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
                return [x["analytics_results"]["human_tracking"] for x in items if "human_tracking" in x["analytics_results"]]

            await eventually(seen, lambda m: any("matches" in r for r in human(m)), timeout=30)
            await asyncio.sleep(1.5)  # room for a second copy of either to arrive
            collecting.cancel()
            await asyncio.gather(collecting, return_exceptions=True)

        results = human(messages)
        events = [r for r in results if "event_status" in r]
        hits = [r for r in results if "matches" in r]
        assert len(events) == 1 and len(hits) == 1 and len(results) == 2
        assert events[0]["event_id"] == str(track.event_id) and "matches" not in events[0]
        assert hits[0] == {"event_id": str(track.event_id), "track_id": "track-7", "matches": [
            {"list_id": str(list_id), "face_id": str(face.face_id), "similarity": 1.0}]}

        # The analytic's callback gets the same two documents, once each.
        await eventually(lambda: asyncio.sleep(0, list(posted)), lambda p: len(p) >= 2, timeout=10)
        await asyncio.sleep(0.5)
        assert sorted("matches" in p["analytics_results"]["human_tracking"] for p in posted) == [False, True]
        assert all(p["stream_id"] == stream["stream_id"] for p in posted)
    finally:
        await matcher.stop()

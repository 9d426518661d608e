"""Body matching over real HTTP. The candidates come the stream's way: people cut from real vtest frames
(NanoDet boxes from /6/sdk) become human-tracking best shots, the extraction logic turns them into
MobileNetV2 descriptors, and the watch-list matcher, fed through the real broker, saves each track as a
LUNA event with its body descriptor (ClickHouse + Milvus Lite); /6/matcher/bodies then finds them by
photo, descriptor or event, and a body saved with /6/events/raw is a candidate too."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from aiokafka import AIOKafkaProducer

from analytics.recognition.track_matcher import TrackMatcher
from infra.settings import BrokerSettings, MatcherSettings
from schemas.descriptor_formats import decode_sdk, encode_raw, encode_sdk
from schemas.detections import BoundingBox
from schemas.events import AnalyticsEventMessage, BestShot, HumanTrackingEvent, VideoSegment
from schemas.recognition import BestShotsMessage, TrackDescriptors
from schemas.topics import DESCRIPTORS
from streams.extraction import Extraction
from tests.integration.video_manager.conftest import Manager, new_account
from tests.support import eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")
DATA = Path(__file__).resolve().parents[2] / "data"
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
CAMERA_A, CAMERA_B = uuid.uuid4(), uuid.uuid4()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def people(vm: Manager, frame: str) -> list[dict[str, Any]]:
    """The frame's body detections (box and SDK descriptor), largest first."""
    body = {"images": [{"image": b64((DATA / frame).read_bytes()), "filename": frame}]}
    response = await vm.http.post("/6/sdk?detect_body=1", json=body)
    assert response.status_code == 200, response.text
    found = [e["body"]["detection"] for e in response.json()["images_estimations"][0]["estimations"] if "body" in e]
    return sorted(found, key=lambda d: -d["rect"]["width"] * d["rect"]["height"])


def track(account: uuid.UUID, stream: uuid.UUID, number: int, frame: str, rect: dict[str, float],
          minutes: int) -> TrackDescriptors:
    """A human-tracking track whose best shot is the person at ``rect``, through the extraction logic."""
    image = cv2.imread(str(DATA / frame))
    x, y, w, h = (int(round(rect[k])) for k in ("x", "y", "width", "height"))
    crop = cv2.imencode(".jpg", image[max(y, 0) : y + h, max(x, 0) : x + w])[1].tobytes()
    shot = BestShot(kind="body", time_offset=61.5, bbox=BoundingBox(x=x, y=y, width=w, height=h), score=0.9, image=crop)
    event = HumanTrackingEvent(event_id=uuid.uuid4(), track_id=str(number), event_status="ended", best_shots=[shot],
                               video_segment=VideoSegment(start_time_offset=60, end_time_offset=62))
    envelope = AnalyticsEventMessage(
        event_id=event.event_id, stream_id=stream, account_id=account, version=1, analytic_name="human_tracking",
        analytic_index=0, event_type="human_tracking", create_time=T0 + timedelta(minutes=minutes),
        end_time=T0 + timedelta(minutes=minutes, seconds=2), event=event,
    )
    return Extraction().run(BestShotsMessage(stream_id=stream, event=envelope, body_descriptor=True))


async def events(vm: Manager, event_ids: list[str]) -> list[dict[str, Any]]:
    response = await vm.http.get("/6/events", params={"event_ids": ",".join(event_ids)}, headers=vm.admin)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["events"]
    return found


@pytest.fixture(scope="module")
async def seen(vm: Manager, broker: BrokerSettings) -> dict[str, Any]:
    """Camera A saw the three largest people of frame 0 (track i: the i-th largest); camera B, 20 frames
    later, the four largest of frame 20. Each track goes through selene.descriptors to the matcher, the
    first one twice (a replay)."""
    account = uuid.UUID((await vm.http.get("/6/account", headers=vm.admin)).json()["account_id"])
    first, later = await people(vm, "vtest_0000.jpg"), await people(vm, "vtest_0020.jpg")
    tracks = [track(account, CAMERA_A, i, "vtest_0000.jpg", p["rect"], minutes=i) for i, p in enumerate(first[:3])]
    tracks += [track(account, CAMERA_B, 10 + i, "vtest_0020.jpg", p["rect"], minutes=30 + i) for i, p in enumerate(later[:4])]
    assert vm.context is not None and vm.context.recognition is not None
    recognition = vm.context.recognition
    matcher = TrackMatcher(broker.bootstrap, f"bodies-{uuid.uuid4().hex[:8]}", recognition.store, MatcherSettings(),
                           recognition.events)
    await matcher.start()
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
    await producer.start()
    ids = [str(t.event.event_id) for t in tracks]
    try:
        for t in [*tracks, tracks[0]]:
            await producer.send_and_wait(DESCRIPTORS.name, t.model_dump_json().encode(), key=str(t.stream_id).encode())
        await eventually(lambda: events(vm, ids), lambda found: len(found) == len(ids), timeout=60)
    finally:
        await producer.stop()
        await matcher.stop()
    return {"account": account, "tracks": tracks, "ids": ids, "first": first, "later": later}


async def match(vm: Manager, references: list[dict[str, Any]], candidates: list[dict[str, Any]] | None = None,
                headers: dict[str, str] | None = None) -> Any:
    body = {"references": references, "candidates": candidates or [{"filters": {"origin": "events"}, "limit": 10}]}
    return await vm.http.post("/6/matcher/bodies", json=body, headers=headers or vm.admin)


def results(response: Any) -> list[list[tuple[str, float]]]:
    """Per reference, the first candidate set's (event_id, similarity)."""
    assert response.status_code == 200, response.text
    return [[(r["event"]["event_id"], r["similarity"]) for r in ref["matches"][0]["result"]] for ref in response.json()]


async def test_a_tracked_person_is_found_by_descriptor_photo_and_event(vm: Manager, seen: dict[str, Any]) -> None:
    tracks = seen["tracks"]
    event_ids = [str(t.event.event_id) for t in tracks]
    sdk = seen["first"][0]["attributes"]["descriptor"]["sdk_descriptor"]
    photo = b64((DATA / "vtest_0000.jpg").read_bytes())
    response = await match(vm, [
        {"type": "sdk_descriptor", "id": "desc", "data": sdk},
        {"type": "image", "id": "photo", "data": photo},  # its largest person: track 0's
        {"type": "event", "id": event_ids[0]},
    ])
    by_descriptor, by_photo, by_event = results(response)
    for found in (by_descriptor, by_photo, by_event):
        assert found[0][0] == event_ids[0] and found[0][1] > 0.97  # a crop's descriptor vs. the frame's box
        assert len(found) == len(tracks) and [s for _, s in found] == sorted((s for _, s in found), reverse=True)
    assert by_event[0][1] == 1.0
    [reference] = [r for r in response.json() if r["reference"]["id"] == event_ids[0]]
    assert reference["reference"]["type"] == "event"
    hit = reference["matches"][0]["result"][0]["event"]  # LUNA's stored event, as GET /6/events/{id} shows it
    assert (hit["stream_id"], hit["track_id"], hit["create_time"]) == (str(CAMERA_A), "0", "2026-03-02T10:00:00.000Z")
    [detection] = hit["body_detections"]
    assert detection["detect_ts"] == 61.5 and detection["detect_time"].startswith("2026-03-02T10:00:01.5")
    assert detection["detection"]["rect"]["width"] > 20 and "body_descriptor" not in hit


async def test_where_else_was_this_person_seen(vm: Manager, seen: dict[str, Any]) -> None:
    """Camera A's two largest people, searched among camera B's tracks: 20 frames later the dark coat
    walking left is frame 20's second largest person and the grey hood its fourth (checked by eye on
    the crops), and each is the best match of its own track event."""
    tracks = seen["tracks"]
    for event, same_person in ((tracks[0], tracks[3 + 1]), (tracks[1], tracks[3 + 3])):
        only_b = [{"filters": {"origin": "events", "stream_ids": [str(CAMERA_B)]}, "limit": 2}]
        [[best, second]] = results(await match(vm, [{"type": "event", "id": str(event.event.event_id)}], only_b))
        assert best[0] == str(same_person.event.event_id) and best[1] > second[1]
    candidates = [{"filters": {"origin": "events", "stream_ids": [str(CAMERA_B)]}, "limit": 1},
                  {"filters": {"origin": "events", "track_ids": ["1", "2"], "create_time__gte": "2026-03-02T10:02:00Z"},
                   "limit": 5},
                  {"filters": {"origin": "events", "event_ids": []}}]
    response = await match(vm, [{"type": "event", "id": str(tracks[0].event.event_id)}], candidates)
    assert response.status_code == 200, response.text
    camera_b, late_tracks, nothing = response.json()[0]["matches"]
    [hit] = camera_b["result"]
    assert (hit["event"]["event_id"], hit["event"]["stream_id"]) == (str(tracks[4].event.event_id), str(CAMERA_B))
    assert camera_b["filters"]["origin"] == "events" and camera_b["filters"]["stream_ids"] == [str(CAMERA_B)]
    assert [r["event"]["track_id"] for r in late_tracks["result"]] == ["2"]
    assert nothing["result"] == []


async def test_bodies_are_the_accounts_own_and_bad_references_get_luna_codes(vm: Manager, seen: dict[str, Any]) -> None:
    stranger = await new_account(vm)
    event_id = str(seen["tracks"][0].event.event_id)
    sdk = seen["first"][0]["attributes"]["descriptor"]["sdk_descriptor"]
    assert results(await match(vm, [{"type": "sdk_descriptor", "id": "d", "data": sdk}], headers=stranger)) == [[]]

    async def code(references: list[dict[str, Any]], candidates: list[dict[str, Any]] | None = None,
                   headers: dict[str, str] | None = None) -> tuple[int, int]:
        response = await match(vm, references, candidates, headers)
        return response.status_code, response.json()["error_code"]

    assert await code([{"type": "event", "id": event_id}], headers=stranger) == (404, 11020)
    assert await code([{"type": "event", "id": str(uuid.uuid4())}]) == (404, 11020)
    face = encode_sdk(np.zeros(128, np.float32), 1001)
    assert await code([{"type": "sdk_descriptor", "id": "face", "data": face}]) == (400, 31005)
    _, vector = decode_sdk(sdk)
    raw = {"type": "raw_descriptor", "id": "raw", "data": {"descriptor": encode_raw(vector)}}  # version 2001 by default
    assert results(await match(vm, [raw]))[0][0][0] == event_id
    short = {"type": "raw_descriptor", "id": "raw", "data": {"descriptor": encode_raw(vector[:100])}}
    assert await code([short]) == (400, 12034)
    assert await code([{"type": "image", "id": "bad", "data": "@@@"}]) == (400, 18001)
    assert await code([{"type": "image", "id": "text", "data": b64(b"not an image")}]) == (400, 18002)
    fruits = b64((DATA / "faces" / "no_face_fruits.jpg").read_bytes())
    assert await code([{"type": "image", "id": "fruits", "data": fruits}]) == (400, 12031)
    assert await code([raw], [{"filters": {"origin": "events"}, "limit": 101}]) == (400, 31007)
    assert await code([raw], [{"filters": {}}]) == (400, 12022)  # LUNA's candidate_event: origin events
    assert await code([raw] * 31) == (400, 12022)


async def test_a_replayed_track_stays_one_event_and_saved_bodies_are_candidates(vm: Manager, seen: dict[str, Any]) -> None:
    assert [e["event_id"] for e in await events(vm, seen["ids"][:1])] == seen["ids"][:1]
    # An event saved by the user with a body descriptor (LUNA's save event) is matchable at once.
    _, vector = decode_sdk(seen["later"][0]["attributes"]["descriptor"]["sdk_descriptor"])
    body = {"source": "gate-7", "body_attributes": {"descriptor": {"descriptor": encode_raw(vector), "descriptor_version": 2001}}}
    saved = await vm.http.post("/6/events/raw", json=body, headers=vm.admin)
    assert saved.status_code == 201, saved.text
    gate = [{"filters": {"origin": "events", "sources": ["gate-7"]}, "limit": 3}]
    [[(event_id, similarity)]] = results(await match(vm, [{"type": "event", "id": seen["ids"][3]}], gate))
    assert event_id == saved.json()["event_id"] and similarity > 0.97

"""LUNA's face/body events over real HTTP: save event, /6/events with LUNA's filters, get, check, stats,
account scoping, and matching with events as candidates on Milvus Lite with real dlib descriptors."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from tests.integration.video_manager.conftest import Manager, new_account
from tests.integration.video_manager.test_vm_faces import b64, enrol

pytestmark = pytest.mark.asyncio(loop_scope="session")


def b64_vector(size: int) -> str:
    return base64.b64encode(np.full(size, 0.1, dtype="<f4").tobytes()).decode()


async def descriptor_of(vm: Manager, image: str) -> dict[str, Any]:
    """A real dlib descriptor of the photo's face (raw Base64 with its version), through a face."""
    face_id = await enrol(vm, image, [], multiface_policy=2)
    face = (await vm.http.get(f"/6/faces/{face_id}", params={"targets": "face_descriptor"}, headers=vm.admin)).json()
    return {"descriptor": face["descriptor"], "descriptor_version": face["descriptor_version"]}


async def save(vm: Manager, headers: dict[str, str], **event: Any) -> str:
    response = await vm.http.post("/6/events/raw", json=event, headers=headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["url"] == f"/6/events/{body['event_id']}"
    return body["event_id"]


async def test_saved_events_are_listed_with_lunas_filters_and_scoped_to_the_account(vm: Manager) -> None:
    alice, bob = await new_account(vm), await new_account(vm)
    handler = str(uuid.uuid4())
    now = datetime.now(UTC)
    first = await save(vm, alice, source="gate", user_data="front door", tags=["vip"], external_id="x-1",
                       location={"city": "Riga", "geo_position": {"longitude": 24.1, "latitude": 56.95}},
                       meta={"temperature": 36.6}, create_time=(now - timedelta(hours=2)).isoformat(),
                       face_attributes={"basic_attributes": {"age": 31, "gender": 1,
                                                             "ethnicities": {"predominant_ethnicity": "asian"}}},
                       aggregate_estimations={"face": {"attributes": {"emotions": {"predominant_emotion": "happiness"}}}},
                       detections=[{"samples": {"face": {"sample_id": "s-1", "detection": {
                           "rect": {"x": 10, "y": 20, "width": 100, "height": 120}}}}}])
    second = await save(vm, alice, source="hall", meta={"temperature": 38.2}, create_time=(now - timedelta(hours=1)).isoformat())
    old = await save(vm, alice, source="gate", create_time=(now - timedelta(days=40)).isoformat())
    with_handler = await vm.http.post("/6/events/raw", params={"handler_id": handler}, headers=alice,
                                      json={"events": [{"source": "door"}, {"source": "door"}]})
    assert with_handler.status_code == 201 and len(with_handler.json()["events"]) == 2

    async def ids(**params: Any) -> list[str]:
        response = await vm.http.get("/6/events", params={"order": "asc", **params}, headers=alice)
        assert response.status_code == 200, response.text
        return [e["event_id"] for e in response.json()["events"]]

    assert (await ids())[:2] == [first, second] and old not in await ids()  # the default month window
    assert await ids(create_time__gte=(now - timedelta(days=41)).isoformat(), sources="gate") == [old, first]
    assert await ids(sources="hall,gate") == [first, second]
    assert await ids(sources="gate", tags="vip", user_data="door", gender=1, age__gte=30, emotions="4") == [first]
    assert await ids(cities="Riga", origin_longitude=24.1, origin_latitude=56.95) == [first]
    assert await ids(**{"meta.temperature__gt:numeric": "37"}) == [second]
    assert len(await ids(handler_ids=handler)) == 2
    assert await ids(external_ids="x-1", ethnic_groups="3") == [first]

    event = (await vm.http.get(f"/6/events/{first}", headers=alice)).json()
    assert event["age"] == 31 and event["gender"] == 1 and event["emotion"] == 4 and event["ethnic_group"] == 3
    assert event["face_detections"][0]["sample_id"] == "s-1"
    assert event["face_detections"][0]["detection"]["rect"] == {"x": 10, "y": 20, "width": 100, "height": 120}
    assert event["location"]["geo_position"] == {"longitude": 24.1, "latitude": 56.95}
    assert event["meta"] == {"temperature": 36.6} and event["tags"] == ["vip"] and event["handler_id"] is None
    cut = (await vm.http.get(f"/6/events/{first}", params={"target": "event_id,source"}, headers=alice)).json()
    assert cut == {"event_id": first, "source": "gate"}
    assert (await vm.http.head(f"/6/events/{first}", headers=alice)).status_code == 200

    # Another account sees nothing of Alice's.
    assert (await vm.http.get(f"/6/events/{first}", headers=bob)).status_code == 404
    assert (await vm.http.get(f"/6/events/{first}", headers=bob)).json()["error_code"] == 11020
    assert (await vm.http.head(f"/6/events/{first}", headers=bob)).status_code == 404
    assert (await vm.http.get("/6/events", headers=bob)).json()["events"] == []

    stats = await vm.http.post("/6/events/stats", headers=alice, json={
        "targets": [{"column": "source", "aggregator": "group_by"}, {"column": "event_id", "aggregator": "count"}],
        "filters": {"sources": ["gate", "hall"]}, "period": [{"start": (now - timedelta(days=1)).isoformat()}]})
    assert stats.status_code == 200, stats.text
    assert stats.json() == {"fields": ["source, aggregator 'group_by'", "event_id, aggregator 'count'"],
                            "stats": [["gate", 1], ["hall", 1]]}
    meta_max = await vm.http.post("/6/events/stats", headers=alice, json={
        "targets": [{"column": "meta.temperature", "aggregator": "max"}], "filters": {"event_ids": [first, second]}})
    assert meta_max.json()["stats"] == [[38.2]]


@pytest.mark.parametrize(("params", "code"), [
    ({"stream_ids": "not-a-uuid"}, 12012),
    ({"target": "nope"}, 12012),
    ({"emotions": "9"}, 12012),
    ({"meta.a__bogus": "1"}, 12012),
    ({"origin_longitude": "24"}, 12012),
    ({"page_size": "0"}, 12012),
])
async def test_bad_filters_get_lunas_errors(vm: Manager, params: dict[str, str], code: int) -> None:
    response = await vm.http.get("/6/events", params=params, headers=vm.admin)
    assert response.status_code == 400 and response.json()["error_code"] == code, response.text


async def test_bad_saved_events_get_lunas_errors(vm: Manager) -> None:
    cases = [
        ({"user_data": "x" * 129}, 12022),
        ({"tags": ["t" * 37]}, 12022),
        ({"face_attributes": {"descriptor": {"descriptor": "not base64!", "descriptor_version": 1001}}}, 18001),
        ({"face_attributes": {"descriptor": {"descriptor": "AAAA", "descriptor_version": 1001}}}, 12034),
        ({"face_attributes": {"descriptor": {"descriptor": "AAAA", "descriptor_version": 77}}}, 12036),
        ({"body_attributes": {"descriptor": {"descriptor": b64_vector(128), "descriptor_version": 1001}}}, 12022),
        ({"detections": [{}] * 101}, 12022),
        ({"create_time": "0001-01-01T00:00:00Z"}, 12022),
    ]
    for body, code in cases:
        response = await vm.http.post("/6/events/raw", json=body, headers=vm.admin)
        assert response.status_code == 400 and response.json()["error_code"] == code, (body, response.text)
    malformed = await vm.http.post("/6/events/raw", content=b"{nope", headers={**vm.admin, "Content-Type": "application/json"})
    assert malformed.status_code == 400


async def test_where_was_this_person_seen(vm: Manager) -> None:
    """A person's events are found by matching a photo of them against events; others' events are not."""
    alice, bob = await new_account(vm), await new_account(vm)
    roxanne, astronaut = await descriptor_of(vm, "megamind_later.jpg"), await descriptor_of(vm, "astronaut.jpg")
    handler = str(uuid.uuid4())
    seen = await save(vm, alice, source="cam-1", face_attributes={"descriptor": roxanne})
    elsewhere = await save(vm, alice, source="cam-2", face_attributes={"descriptor": roxanne})
    await save(vm, alice, source="cam-1", face_attributes={"descriptor": astronaut})
    await save(vm, bob, source="cam-1", face_attributes={"descriptor": roxanne})
    response = await vm.http.post("/6/events/raw", params={"handler_id": handler}, headers=alice,
                                  json={"source": "cam-3", "face_attributes": {"descriptor": roxanne}})
    by_handler = response.json()["event_id"]

    async def match(headers: dict[str, str], reference: dict[str, Any], **filters: Any) -> list[tuple[str, float]]:
        body = {"references": [reference],
                "candidates": [{"filters": {"origin": "events", **filters}, "limit": 5, "threshold": 0.5}]}
        response = await vm.http.post("/6/matcher/faces", json=body, headers=headers)
        assert response.status_code == 200, response.text
        [result] = response.json()
        assert result["matches"][0]["filters"]["origin"] == "events"
        return [(r["event"]["event_id"], r["similarity"]) for r in result["matches"][0]["result"]]

    photo = {"type": "image", "id": "frame12", "data": b64("megamind_frame12.jpg")}
    found = await match(alice, photo)
    assert sorted(e for e, _ in found) == sorted([seen, elsewhere, by_handler])
    assert all(0.5 <= s <= 1 for _, s in found)
    assert [e for e, _ in await match(alice, photo, sources=["cam-1"])] == [seen]
    assert [e for e, _ in await match(alice, photo, handler_ids=[handler])] == [by_handler]
    assert [e for e, _ in await match(alice, photo, event_ids=[elsewhere, seen], sources=["cam-2"])] == [elsewhere]
    assert await match(alice, photo, create_time__lt="2000-01-01T00:00:00Z") == []
    control = {"references": [photo], "candidates": [{"filters": {"origin": "events", "user_data": "a\x01"}}]}
    refused = await vm.http.post("/6/matcher/faces", json=control, headers=alice)
    assert refused.status_code == 400 and refused.json()["error_code"] == 12031
    # An event as the reference matches itself best; the event answers in LUNA's shape.
    itself = await match(alice, {"type": "event", "id": seen}, sources=["cam-1"])
    assert itself[0] == (seen, 1.0)
    body = {"references": [{"type": "event", "id": seen}], "candidates": [{"filters": {"origin": "events"}, "limit": 1}]}
    [result] = (await vm.http.post("/6/matcher/faces", json=body, headers=alice)).json()
    assert {"event_id", "source", "location", "face_detections", "top_match"} <= set(result["matches"][0]["result"][0]["event"])
    # Bob never matches Alice's events, nor references them.
    bobs = await match(bob, photo)
    assert len(bobs) == 1 and bobs[0][0] not in (seen, elsewhere, by_handler)
    foreign = await vm.http.post("/6/matcher/faces", json={**body, "references": [{"type": "event", "id": seen}]}, headers=bob)
    assert foreign.status_code == 404 and foreign.json()["error_code"] == 11020
    # Faces and events in one request: each candidate set answers in its own shape.
    both = {"references": [photo], "candidates": [{"filters": {"origin": "events", "sources": ["cam-2"]}},
                                                   {"filters": {"origin": "faces"}, "limit": 1}]}
    [mixed] = (await vm.http.post("/6/matcher/faces", json=both, headers=alice)).json()
    assert "event" in mixed["matches"][0]["result"][0] and mixed["matches"][1]["filters"]["origin"] == "faces"


async def test_lunas_save_event_path_takes_a_dynamic_handler_only(vm: Manager) -> None:
    owner, other = await new_account(vm), await new_account(vm)
    dynamic = await vm.http.post("/6/handlers", json={"description": "external", "handler_type": 1}, headers=owner)
    static = await vm.http.post("/6/handlers", json={"description": "door", "policies": {}}, headers=owner)
    assert dynamic.status_code == static.status_code == 201, (dynamic.text, static.text)
    handler_id = dynamic.json()["handler_id"]
    saved = await vm.http.post(f"/6/handlers/{handler_id}/events/raw", json={"source": "external"}, headers=owner)
    assert saved.status_code == 201, saved.text
    event = (await vm.http.get(saved.json()["url"], headers=owner)).json()
    assert (event["handler_id"], event["source"]) == (handler_id, "external")
    refused = await vm.http.post(f"/6/handlers/{static.json()['handler_id']}/events/raw", json={"source": "x"}, headers=owner)
    assert refused.status_code == 403 and refused.json()["error_code"] == 34007
    foreign = await vm.http.post(f"/6/handlers/{handler_id}/events/raw", json={"source": "x"}, headers=other)
    assert foreign.status_code == 404 and foreign.json()["error_code"] == 34000

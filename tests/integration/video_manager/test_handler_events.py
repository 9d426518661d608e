"""Generate events over real HTTP: every body format LUNA accepts, the face and list policies, dynamic
handlers, bad input, and a store failing half-way (real Milvus Lite closed under the API)."""

from __future__ import annotations

import base64
import functools
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from analytics.events.chdb_warehouse import ChdbWarehouse
from analytics.recognition.face_store import FaceFilters, FaceStore
from analytics.recognition.milvus import open_milvus
from infra.settings import BrokerSettings, MilvusSettings, RedisSettings
from schemas.descriptor_formats import encode_sdk
from tests.integration.video_manager.conftest import Manager, new_account, start_manager

pytestmark = pytest.mark.asyncio(loop_scope="session")
FACES = Path(__file__).resolve().parents[2] / "data" / "faces"
STORE_ALL = {"face_sample_policy": {"store_sample": 1}, "event_policy": {"store_event": 1}}


def photo(name: str) -> bytes:
    return (FACES / name).read_bytes()


@pytest.fixture(scope="module")
def photos_server() -> Iterator[str]:
    """A real HTTP server handing out the test photos, for URL inputs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(SimpleHTTPRequestHandler, directory=str(FACES)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


async def create_list(vm: Manager, headers: dict[str, str]) -> str:
    response = await vm.http.post("/6/lists", json={"user_data": "watch"}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["list_id"]


async def create_handler(vm: Manager, headers: dict[str, str], policies: dict[str, Any] | None = None,
                         **extra: Any) -> str:
    body = {"policies": policies, **extra} if policies is not None else extra
    response = await vm.http.post("/6/handlers", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["handler_id"]


async def emit(vm: Manager, handler_id: str, headers: dict[str, str], **request: Any) -> Any:
    return await vm.http.post(f"/6/handlers/{handler_id}/events", headers=headers, **request)


async def test_every_body_format_makes_events(vm: Manager, photos_server: str) -> None:
    headers = await new_account(vm)
    handler_id = await create_handler(vm, headers, {"detect_policy": {"multiface_policy": 2},
                                                    "extract_policy": {"extract_face_descriptor": 1}})
    raw = await emit(vm, handler_id, {**headers, "Content-Type": "image/jpeg"}, content=photo("messi.jpg"))
    assert raw.status_code == 201, raw.text
    assert [e["detections"][0]["filename"] for e in raw.json()["events"]] == ["raw_image"]
    encoded = await emit(vm, handler_id, {**headers, "Content-Type": "image/x-jpeg-base64"},
                         content=base64.b64encode(photo("astronaut.jpg")))
    assert encoded.status_code == 201 and len(encoded.json()["events"]) == 1
    # Multipart with several images: one event per image, in order, and a mutual meta part.
    files = [("image", ("messi.jpg", photo("messi.jpg"), "image/jpeg")),
             ("image", ("astronaut.jpg", photo("astronaut.jpg"), "image/jpeg")),
             ("meta", ("meta.json", json.dumps({"camera": "lobby"}), "application/json"))]
    multi = await emit(vm, handler_id, headers, files=files)
    assert multi.status_code == 201, multi.text
    events = multi.json()["events"]
    assert [e["detections"][0]["filename"] for e in events] == ["messi.jpg", "astronaut.jpg"]
    assert all(e["meta"] == {"camera": "lobby"} for e in events)
    # URLs, downloaded; the URL is the event's image_origin (use_external_references).
    by_url = await emit(vm, handler_id, headers, json={"images": [{"url": f"{photos_server}/messi.jpg"}]})
    assert by_url.status_code == 201, by_url.text
    assert by_url.json()["events"][0]["detections"][0]["image_origin"] == f"{photos_server}/messi.jpg"
    # A stored face sample (a warp), by its id: no redetection.
    sample_id = events[0]["detections"][0]["samples"]["face"]["sample_id"]
    by_sample = await emit(vm, handler_id, headers, json={"images": [{"sample_id": sample_id}]})
    assert by_sample.status_code == 201, by_sample.text
    [again] = by_sample.json()["events"]
    assert again["detections"][0]["samples"]["face"]["detection"]["rect"] == {"x": 0.0, "y": 0.0, "width": 250.0, "height": 250.0}
    # An SDK descriptor as the body: an event with no detection, matched by its descriptor.
    descriptor = encode_sdk([0.01] * 128, 1001)
    by_descriptor = await emit(vm, handler_id, {**headers, "Content-Type": "application/x-sdk-descriptor"},
                               content=base64.b64decode(descriptor))
    assert by_descriptor.status_code == 201, by_descriptor.text
    [plain] = by_descriptor.json()["events"]
    assert plain["detections"] == [] and plain["face_attributes"] is not None


async def test_a_face_is_made_and_linked_to_lists_only_when_the_match_filter_holds(vm: Manager) -> None:
    headers = await new_account(vm)
    known, seen = await create_list(vm, headers), await create_list(vm, headers)
    enrolled = await vm.http.post("/6/faces", content=photo("megamind_later.jpg"), params={"list_id": known},
                                  headers={**headers, "Content-Type": "image/jpeg"})
    roxanne = enrolled.json()["face_id"]
    policies = {
        "detect_policy": {"multiface_policy": 2},
        "match_policy": [{"label": "known", "candidates": {"list_id": known}, "threshold": 0.5}],
        "storage_policy": {**STORE_ALL, "attribute_policy": {"store_attribute": 1, "ttl": 60}, "face_policy": {
            "store_face": 1, "filters": {"match": [{"label": "known", "similarity__gte": 0.5}]},
            "link_to_lists_policy": [{"list_id": seen}]}},
    }
    handler_id = await create_handler(vm, headers, policies)
    response = await emit(vm, handler_id, {**headers, "Content-Type": "image/jpeg"}, content=photo("megamind_frame12.jpg"),
                          params={"external_id": "roxanne-visit", "user_data": "lobby"})
    assert response.status_code == 201, response.text
    [event] = response.json()["events"]
    assert event["matches"][0]["candidates"][0]["face"]["face_id"] == roxanne
    face = event["face"]
    assert face is not None and event["face_id"] == face["face_id"]
    assert (face["lists"], face["external_id"], face["user_data"], face["event_id"]) == ([seen], "roxanne-visit", "lobby", event["event_id"])
    assert face["avatar"] == event["detections"][0]["samples"]["face"]["url"]
    members = (await vm.http.get("/6/faces", params={"list_id": seen}, headers=headers)).json()["faces"]
    assert [f["face_id"] for f in members] == [face["face_id"]]
    attribute = event["face_attributes"]
    assert attribute["url"] == f"/6/attributes/{attribute['attribute_id']}"
    assert attribute["samples"] == [event["detections"][0]["samples"]["face"]["sample_id"]]
    kept = await vm.http.get(attribute["url"], headers=headers)
    assert kept.status_code == 200, kept.text
    stored = (await vm.http.get(f"/6/events/{event['event_id']}", headers=headers)).json()
    assert stored["face_id"] == face["face_id"] and stored["attach_result"] == [{"list_id": seen}]
    # Someone else matches nobody in the list: no face is made for them.
    stranger = await emit(vm, handler_id, {**headers, "Content-Type": "image/jpeg"}, content=photo("messi.jpg"))
    [other] = stranger.json()["events"]
    assert other["matches"][0]["candidates"] == [] and other["face"] is None and other["face_id"] is None
    assert (await vm.http.get("/6/faces/count", params={"list_id": seen}, headers=headers)).json() == {"faces_count": 1}


async def test_a_dynamic_handler_takes_its_policies_with_each_request(vm: Manager) -> None:
    headers = await new_account(vm)
    handler_id = await create_handler(vm, headers, handler_type=1)
    policies = {"detect_policy": {"multiface_policy": 0}, "storage_policy": {"event_policy": {"store_event": 0}}}
    files = [("policies", ("policies.json", json.dumps(policies), "application/json")),
             ("image", ("frame12.jpg", photo("megamind_frame12.jpg"), "image/jpeg")),
             ("image", ("messi.jpg", photo("messi.jpg"), "image/jpeg"))]
    response = await emit(vm, handler_id, headers, files=files)
    assert response.status_code == 201, response.text
    answer = response.json()
    # multiface_policy 0: the image with two faces is refused alone (11038); the other makes its event.
    assert [(i["status"], i["error"]["error_code"]) for i in answer["images"]] == [(0, 11038), (1, 0)]
    [event] = answer["events"]
    gone = await vm.http.get(f"/6/events/{event['event_id']}", headers=headers)
    assert gone.status_code == 404  # store_event 0
    without = await emit(vm, handler_id, {**headers, "Content-Type": "image/jpeg"}, content=photo("messi.jpg"))
    assert without.status_code == 400 and without.json()["error_code"] == 12031
    bad = [("policies", ("p.json", json.dumps({"detect_policy": {"estimate_liveness": {"estimate": 1}}}), "application/json")),
           ("image", ("messi.jpg", photo("messi.jpg"), "image/jpeg"))]
    refused = await emit(vm, handler_id, headers, files=bad)
    assert refused.status_code == 400 and refused.json()["error_code"] == 200005


async def test_bad_input_gets_luna_errors(vm: Manager) -> None:
    headers, other = await new_account(vm), await new_account(vm)
    handler_id = await create_handler(vm, headers, {"storage_policy": STORE_ALL})
    jpeg = {**headers, "Content-Type": "image/jpeg"}
    for unknown in (str(uuid.uuid4()), handler_id):
        response = await emit(vm, unknown, {**other, "Content-Type": "image/jpeg"}, content=photo("messi.jpg"))
        assert response.status_code == 404 and response.json()["error_code"] == 34000
    # Per input: bad Base64 (18001), bytes that are no image (18002), a face-less photo (no event, no error).
    body = {"images": [{"image": "not base64!"}, {"image": base64.b64encode(b"junk").decode()},
                       {"image": base64.b64encode(photo("no_face_fruits.jpg")).decode()},
                       {"sample_id": str(uuid.uuid4())}]}
    response = await emit(vm, handler_id, headers, json=body)
    assert response.status_code == 201, response.text
    assert [(i["status"], i["error"]["error_code"]) for i in response.json()["images"]] == [(0, 18001), (0, 18002), (1, 0), (0, 11031)]
    assert response.json()["events"] == []
    bad_url = await emit(vm, handler_id, headers, json={"images": [{"url": "ftp://example.invalid/a.jpg"}]})
    assert bad_url.json()["images"][0]["error"]["error_code"] == 3
    for request, code in (
        ({"content": b"{not json", "headers": {**headers, "Content-Type": "application/json"}}, 12027),
        ({"content": b"x", "headers": {**headers, "Content-Type": "text/plain"}}, 12017),
        ({"json": {"images": []}, "headers": headers}, 12027),
        ({"files": [("image", (f"{n}.jpg", b"x", "image/jpeg")) for n in range(9)], "headers": headers}, 12031),
        ({"content": b"SLN1", "headers": {**headers, "Content-Type": "application/x-sdk-descriptor"}}, 201),
    ):
        response = await vm.http.post(f"/6/handlers/{handler_id}/events", **request)
        if code == 201:  # a broken descriptor is that input's error (12038), as a broken image
            assert response.json()["images"][0]["error"]["error_code"] == 12038
            continue
        assert response.status_code == 400 and response.json()["error_code"] == code, response.text
    tags = await emit(vm, handler_id, jpeg, content=photo("messi.jpg"), params={"tags": "x" * 37})
    assert tags.status_code == 400 and tags.json()["error_code"] == 12012
    aggregated = await emit(vm, handler_id, {**headers, "Content-Type": "application/x-sdk-descriptor"},
                            content=base64.b64decode(encode_sdk([0.0] * 128, 1001)), params={"aggregate_attributes": 1})
    assert aggregated.status_code == 400 and aggregated.json()["error_code"] == 34003


async def test_a_store_failing_half_way_leaves_no_face_and_no_sample(
    redis_server: RedisSettings, broker: BrokerSettings, warehouse: ChdbWarehouse, tmp_path: Path,
) -> None:
    """Milvus goes away after the sample was stored: LUNA's database error, the sample is deleted, and
    no face exists (checked on the store reopened)."""
    prefix = f"test:{uuid.uuid4().hex[:8]}"
    settings = MilvusSettings(uri=str(tmp_path / "milvus.db"), collection_prefix=prefix.replace(":", "_") + "_")
    milvus = open_milvus(settings)
    vm, stop = await start_manager(redis_server, broker, warehouse, prefix, milvus=milvus)
    try:
        headers = await new_account(vm)
        account = uuid.UUID((await vm.http.get("/6/account", headers=headers)).json()["account_id"])
        handler_id = await create_handler(vm, headers, {"detect_policy": {"multiface_policy": 2}, "storage_policy": {
            **STORE_ALL, "face_policy": {"store_face": 1}}})
        jpeg = {**headers, "Content-Type": "image/jpeg"}
        healthy = await emit(vm, handler_id, jpeg, content=photo("messi.jpg"))
        assert healthy.status_code == 201 and healthy.json()["events"][0]["face"] is not None
        assert vm.context is not None and vm.context.samples is not None
        samples = vm.context.samples
        before = await samples.storage.keys("visionlabs-samples", f"{account}/")
        assert len(before) == 1
        milvus.close()
        failed = await emit(vm, handler_id, jpeg, content=photo("astronaut.jpg"))
        assert failed.status_code == 503 and failed.json()["error_code"] == 10016, failed.text
        assert await samples.storage.keys("visionlabs-samples", f"{account}/") == before
    finally:
        await stop()
    reopened = open_milvus(settings)
    try:
        faces = FaceStore(reopened, settings)
        assert await faces.count(account, FaceFilters()) == 1  # the healthy request's face only
    finally:
        reopened.close()

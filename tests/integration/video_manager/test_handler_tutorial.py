"""LUNA's tutorial flow over real HTTP, against the real stores (Redis, chdb, Milvus Lite, local-disk
samples, the Tansu broker) and the real models:

1. create a list; 2. create a face in it from a photo; 3. create a handler with detect, extract, match
and storage policies; 4. post another photo of the same person; 5. the event matches her above the
threshold, its sample and event are stored and its notification is on the topic;

6. GET /6/events shows it; 7. a /6/ws subscriber receives the next event; 8. a verifier verifies a
photo against the face: Roxanne's photo verifies as her, the astronaut's does not.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from websockets.asyncio.client import connect

from infra.settings import BrokerSettings
from schemas.topics import EVENT_NOTIFICATIONS
from tests.integration.video_manager.conftest import Manager, new_account

pytestmark = pytest.mark.asyncio(loop_scope="session")
FACES = Path(__file__).resolve().parents[2] / "data" / "faces"


def photo(name: str) -> bytes:
    return (FACES / name).read_bytes()


async def account_id(vm: Manager, headers: dict[str, str]) -> uuid.UUID:
    return uuid.UUID((await vm.http.get("/6/account", headers=headers)).json()["account_id"])


async def notifications(bootstrap: str) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(EVENT_NOTIFICATIONS.name, bootstrap_servers=bootstrap, group_id=None,
                                auto_offset_reset="latest")
    await consumer.start()
    while not consumer.assignment():
        await consumer.getmany(timeout_ms=100)
    for partition in consumer.assignment():
        await consumer.position(partition)  # fixes "latest" now, before the event is made
    return consumer


async def next_notification(consumer: AIOKafkaConsumer, event_id: str) -> dict[str, Any]:
    async def find() -> dict[str, Any]:
        async for record in consumer:
            message = json.loads(record.value)
            if message["event"]["event_id"] == event_id:
                return message
        raise AssertionError("consumer ended")

    return await asyncio.wait_for(find(), 30)


async def test_the_tutorial_flow(vm: Manager, broker: BrokerSettings) -> None:
    headers = await new_account(vm)
    # 1. A list.
    created = await vm.http.post("/6/lists", json={"user_data": "employees"}, headers=headers)
    assert created.status_code == 201, created.text
    list_id = created.json()["list_id"]
    # 2. A face in it, from a photo of Roxanne.
    created = await vm.http.post("/6/faces", content=photo("megamind_later.jpg"), params={"list_id": list_id,
                                 "external_id": "roxanne"}, headers={**headers, "Content-Type": "image/jpeg"})
    assert created.status_code == 201, created.text
    roxanne = created.json()["face_id"]
    # 3. A handler: detect the best face, extract its descriptor, match it against the list, store it all.
    policies = {
        "detect_policy": {"detect_face": 1, "multiface_policy": 2},
        "extract_policy": {"extract_face_descriptor": 1},
        "match_policy": [{"label": "employees", "candidates": {"origin": "faces", "list_id": list_id},
                          "limit": 3, "threshold": 0.5}],
        "conditional_tags_policy": [{"tag": "employee", "filters": {"match": [{"label": "employees",
                                                                              "similarity__gte": 0.5}]}}],
        "storage_policy": {"face_sample_policy": {"store_sample": 1}, "event_policy": {"store_event": 1}},
    }
    created = await vm.http.post("/6/handlers", json={"description": "entrance", "policies": policies}, headers=headers)
    assert created.status_code == 201, created.text
    handler_id = created.json()["handler_id"]
    # 4. Another photo of her (a film frame, a man behind her), as LUNA's JSON with Base64.
    consumer = await notifications(broker.bootstrap)
    try:
        body = {"images": [{"image": base64.b64encode(photo("megamind_frame12.jpg")).decode(), "filename": "frame12.jpg"}]}
        response = await vm.http.post(f"/6/handlers/{handler_id}/events", json=body,
                                      params={"source": "door-1", "tags": "entrance", "city": "Metro City",
                                              "external_id": "visit-1"}, headers=headers)
        assert response.status_code == 201, response.text
        answer = response.json()
        # 5. One event, matching Roxanne above the threshold, tagged by the conditional tags policy.
        assert [(i["filename"], i["status"], i["error"]["error_code"]) for i in answer["images"]] == [("frame12.jpg", 1, 0)]
        [event] = answer["events"]
        [match] = event["matches"]
        assert match["label"] == "employees"
        assert [c["face"]["face_id"] for c in match["candidates"]] == [roxanne]
        assert 0.5 <= match["candidates"][0]["similarity"] <= 1
        assert event["tags"] == ["entrance", "employee"]
        assert (event["source"], event["external_id"], event["location"]["city"]) == ("door-1", "visit-1", "Metro City")
        assert event["url"] == f"/6/events/{event['event_id']}" and event["face"] is None
        [detection] = event["detections"]
        sample = detection["samples"]["face"]
        assert sample["url"] == f"/6/samples/faces/{sample['sample_id']}"
        assert sample["detection"]["rect"]["width"] > 20 and "warp" not in sample["detection"]
        # 6. GET /6/events shows the stored event: the match, the sample, the handler, the tags.
        listed = await vm.http.get("/6/events", params={"handler_ids": handler_id}, headers=headers)
        assert listed.status_code == 200, listed.text
        [stored] = listed.json()["events"]
        assert (stored["event_id"], stored["handler_id"], stored["source"]) == (event["event_id"], handler_id, "door-1")
        assert stored["tags"] == ["entrance", "employee"] and stored["external_id"] == "visit-1"
        assert stored["top_match"]["face_id"] == roxanne and stored["top_match"]["label"] == "employees"
        assert stored["face_detections"][0]["sample_id"] == sample["sample_id"]
        one = await vm.http.get(f"/6/events/{event['event_id']}", headers=headers)
        assert one.status_code == 200 and one.json()["match_result"][0]["candidates"][0]["face"]["face_id"] == roxanne
        # The notification the sender fans out: LUNA's Sender message.
        message = await next_notification(consumer, event["event_id"])
        assert (message["handler_id"], message["event"]["matches"][0]["candidates"][0]["face"]["face_id"]) == (handler_id, roxanne)
        assert message["event-create-time"] and message["account_id"] == str(await account_id(vm, headers))
        # The deprecated notification policy (on by default) reaches the /6/ws subscribers as a ws callback.
        assert message["callbacks"] == [{"type": "luna-ws-notification", "enable": 1, "filters": message["callbacks"][0]["filters"]}]
    finally:
        await consumer.stop()
    # 7. Subscribe on /6/ws (LUNA's handshake filters) and receive the next event the handler makes.
    url = f"{vm.url.replace('http://', 'ws://')}/6/ws?handler_ids={handler_id}"
    async with connect(url, additional_headers=headers) as ws:
        await asyncio.sleep(0.2)  # the server registers the subscription after the upgrade
        response = await vm.http.post(f"/6/handlers/{handler_id}/events", content=photo("megamind_later.jpg"),
                                      headers={**headers, "Content-Type": "image/jpeg"})
        assert response.status_code == 201, response.text
        [event] = response.json()["events"]
        message = json.loads(await asyncio.wait_for(ws.recv(), 15))
        assert (message["event"]["event_id"], message["handler_id"]) == (event["event_id"], handler_id)
        assert message["event"]["matches"][0]["candidates"][0]["face"]["face_id"] == roxanne
    # 8. 1:1: a verifier checks a photo against her face, with LUNA's verification_threshold.
    created = await vm.http.post("/6/verifiers", json={"description": "door check",
                                 "policies": {"verification_threshold": 0.5}}, headers=headers)
    assert created.status_code == 201, created.text
    verifier_id = created.json()["verifier_id"]
    verdicts = {}
    for name in ("megamind_frame12.jpg", "astronaut.jpg"):
        response = await vm.http.post(f"/6/verifiers/{verifier_id}/verifications", content=photo(name),
                                      params={"face_ids": roxanne}, headers={**headers, "Content-Type": "image/jpeg"})
        assert response.status_code == 200, response.text
        [image] = response.json()["images"]
        front = max(image["detections"]["face_detections"],
                    key=lambda d: d["sample"]["face"]["detection"]["rect"]["width"])
        [verdict] = front["verifications"]
        assert verdict["face"]["face_id"] == roxanne
        verdicts[name] = (verdict["status"], verdict["similarity"])
    assert verdicts["megamind_frame12.jpg"][0] is True and verdicts["megamind_frame12.jpg"][1] > 0.5
    assert verdicts["astronaut.jpg"][0] is False and verdicts["astronaut.jpg"][1] <= 0.5

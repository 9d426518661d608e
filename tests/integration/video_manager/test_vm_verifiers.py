"""Verifiers over real HTTP: CRUD and count in Redis, policy refusals, and verifications of real photos
(SCRFD + dlib, samples in the image store) and descriptors against faces in Milvus Lite."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from schemas.descriptor_formats import encode_raw, encode_sdk
from tests.integration.video_manager.conftest import Manager, new_account

pytestmark = pytest.mark.asyncio(loop_scope="session")
FACES = Path(__file__).resolve().parents[2] / "data" / "faces"
JPEG = {"Content-Type": "image/jpeg"}


def photo(name: str) -> bytes:
    return (FACES / name).read_bytes()


async def create_verifier(vm: Manager, policies: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
                          description: str = "strict verifier") -> str:
    body = {"description": description, "policies": policies or {}}
    response = await vm.http.post("/6/verifiers", json=body, headers=headers or vm.admin)
    assert response.status_code == 201, response.text
    assert response.json()["url"] == f"/6/verifiers/{response.json()['verifier_id']}"
    return response.json()["verifier_id"]


async def enrol(vm: Manager, image: str, headers: dict[str, str] | None = None, **extra: Any) -> str:
    body = {"image": base64.b64encode(photo(image)).decode(), **extra}
    response = await vm.http.post("/6/faces", json=body, headers=headers or vm.admin)
    assert response.status_code == 201, response.text
    return response.json()["face_id"]


async def verify(vm: Manager, verifier_id: str, content: bytes, params: dict[str, str],
                 content_type: str = "image/jpeg", headers: dict[str, str] | None = None) -> Any:
    return await vm.http.post(f"/6/verifiers/{verifier_id}/verifications", content=content, params=params,
                              headers={**(headers or vm.admin), "Content-Type": content_type})


def results(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return response.json()["images"]


def by_face(detection: dict[str, Any]) -> dict[str, tuple[float, bool]]:
    return {v["face"]["face_id"]: (v["similarity"], v["status"]) for v in detection["verifications"]}


@pytest.fixture(scope="module")
async def people(vm: Manager) -> dict[str, str]:
    return {
        "roxanne": await enrol(vm, "megamind_later.jpg", external_id="roxanne"),
        "astronaut": await enrol(vm, "astronaut.jpg", external_id="astronaut"),
    }


async def test_crud_count_and_versions(vm: Manager) -> None:
    owner = await new_account(vm)
    verifier_id = await create_verifier(vm, {"verification_threshold": 0.7, "detect_policy": {"estimate_head_pose": 1}},
                                        headers=owner, description="front door")
    await create_verifier(vm, headers=owner, description="back door")
    got = (await vm.http.get(f"/6/verifiers/{verifier_id}", headers=owner)).json()
    assert (got["verifier_id"], got["description"], got["version"]) == (verifier_id, "front door", 0)
    policies = got["policies"]
    assert policies["verification_threshold"] == 0.7 and policies["detect_policy"]["estimate_head_pose"] == 1
    assert policies["detect_policy"]["multiface_policy"] == 1  # LUNA's defaults fill the rest
    assert policies["storage_policy"] == {"attribute_policy": {"store_attribute": 0},
                                          "face_sample_policy": {"store_sample": 1, "ttl": None}}
    listed = (await vm.http.get("/6/verifiers", params={"description": "door"}, headers=owner)).json()
    assert [v["description"] for v in listed] == ["back door", "front door"]  # newest first
    assert (await vm.http.get("/6/verifiers", params={"page_size": 1, "page": 2}, headers=owner)).json()[0]["verifier_id"] == verifier_id
    count = await vm.http.get("/6/verifiers/count", params={"description": "front"}, headers=owner)
    assert count.json() == {"verifiers_count": 1}

    replaced = await vm.http.put(f"/6/verifiers/{verifier_id}", json={"description": "side door"}, headers=owner)
    assert replaced.status_code == 200 and replaced.json() == {"version": 1}
    got = (await vm.http.get(f"/6/verifiers/{verifier_id}", headers=owner)).json()
    assert got["description"] == "side door" and got["policies"]["verification_threshold"] == 0.5  # all replaced
    assert got["last_update_time"] > got["create_time"]

    # Another account sees nothing of it, and cannot change it.
    stranger = await new_account(vm)
    for method in ("GET", "HEAD", "DELETE"):
        answer = await vm.http.request(method, f"/6/verifiers/{verifier_id}", headers=stranger)
        assert answer.status_code == 404, method
    put = await vm.http.put(f"/6/verifiers/{verifier_id}", json={}, headers=stranger)
    assert put.status_code == 404 and put.json()["error_code"] == 11020
    assert (await vm.http.get("/6/verifiers/count", headers=stranger)).json() == {"verifiers_count": 0}

    assert (await vm.http.head(f"/6/verifiers/{verifier_id}", headers=owner)).status_code == 200
    assert (await vm.http.delete(f"/6/verifiers/{verifier_id}", headers=owner)).status_code == 204
    assert (await vm.http.get(f"/6/verifiers/{verifier_id}", headers=owner)).status_code == 404
    assert (await vm.http.get("/6/verifiers/count", headers=owner)).json() == {"verifiers_count": 1}


@pytest.mark.parametrize(("policies", "code", "named"), [
    ({"detect_policy": {"estimate_emotions": 1}}, 200005, "emotions"),
    ({"detect_policy": {"estimate_liveness": {"estimate": 1}}}, 200005, "liveness"),
    ({"detect_policy": {"mask_states": [1]}}, 200005, "mask"),
    ({"extract_policy": {"extract_basic_attributes": 1}}, 200005, "basic_attributes"),
    ({"storage_policy": {"attribute_policy": {"store_attribute": 1}}}, 12031, "store_attribute"),
    ({"storage_policy": {"face_sample_policy": {"ttl": 8}}}, 12031, "ttl"),
    ({"verification_threshold": 1.5}, 12022, "verification_threshold"),
    ({"detect_policy": {"estimate_everything": 1}}, 12022, "estimate_everything"),
])
async def test_policies_selene_cannot_honour_are_refused(vm: Manager, policies: dict[str, Any], code: int, named: str) -> None:
    for send in (lambda: vm.http.post("/6/verifiers", json={"policies": policies}, headers=vm.admin),):
        response = await send()
        assert response.status_code == 400 and response.json()["error_code"] == code, response.text
        assert named in response.json()["detail"]
    verifier_id = await create_verifier(vm)
    response = await vm.http.put(f"/6/verifiers/{verifier_id}", json={"policies": policies}, headers=vm.admin)
    assert response.status_code == 400 and response.json()["error_code"] == code
    assert (await vm.http.get(f"/6/verifiers/{verifier_id}", headers=vm.admin)).json()["version"] == 0


async def test_luna_example_verifier_is_refused_only_for_its_mask_flag(vm: Manager) -> None:
    """003's own example asks for masks: no model here."""
    luna = {"verification_threshold": 0.5, "detect_policy": {"estimate_mask": 1},
            "extract_policy": {"extract_basic_attributes": 0}, "storage_policy": {"face_sample_policy": {"store_sample": 1}}}
    response = await vm.http.post("/6/verifiers", json={"description": "new verifier", "policies": luna}, headers=vm.admin)
    assert response.status_code == 400 and response.json()["error_code"] == 200005 and "mask" in response.json()["detail"]
    luna["detect_policy"] = {"estimate_head_pose": 1}
    assert (await vm.http.post("/6/verifiers", json={"policies": luna}, headers=vm.admin)).status_code == 201


async def test_a_photo_is_verified_against_faces_and_its_samples_are_stored(vm: Manager, people: dict[str, str]) -> None:
    """Frame 12 shows Roxanne in front and a man behind her: both faces are verified (multiface 1), only
    Roxanne's verifies as Roxanne, and each face's sample is in the image store."""
    verifier_id = await create_verifier(vm, {"detect_policy": {"estimate_head_pose": 1},
                                             "storage_policy": {"face_sample_policy": {"ttl": 1}}})
    ids = f"{people['roxanne']},{people['astronaut']}"
    [image] = results(await verify(vm, verifier_id, photo("megamind_frame12.jpg"), {"face_ids": ids}))
    assert (image["status"], image["error"]["error_code"], image["filename"]) == (1, 0, "raw image")
    detections = image["detections"]["face_detections"]
    assert len(detections) == 2
    front = max(detections, key=lambda d: d["sample"]["face"]["detection"]["rect"]["width"])
    behind = next(d for d in detections if d is not front)
    similarity, status = by_face(front)[people["roxanne"]]
    assert status is True and 0.5 < similarity <= 1
    assert by_face(front)[people["astronaut"]][1] is False and by_face(behind)[people["roxanne"]][1] is False
    assert list(by_face(front)) == [people["roxanne"], people["astronaut"]]  # the candidates' order
    assert "head_pose" in front["sample"]["face"]["detection"]["attributes"]
    assert "warp" not in front["sample"]["face"]["detection"]  # the sample is stored, not echoed
    sample = front["sample"]["face"]
    assert sample["url"] == f"/6/samples/faces/{sample['sample_id']}"
    stored = await vm.http.get(sample["url"], headers=vm.admin)
    assert stored.status_code == 200 and stored.content[:2] == b"\xff\xd8"  # a JPEG, in the samples bucket
    expiry = datetime.fromisoformat(stored.headers["X-Luna-Expiry-Date"])  # face_sample_policy.ttl: 1 day
    assert abs(expiry - datetime.now(UTC) - timedelta(days=1)) < timedelta(minutes=5)


async def test_multiface_policy_pose_filters_and_no_sample(vm: Manager, people: dict[str, str]) -> None:
    params = {"face_ids": people["roxanne"]}
    one = await create_verifier(vm, {"detect_policy": {"multiface_policy": 0}})
    [image] = results(await verify(vm, one, photo("megamind_frame12.jpg"), params))
    assert image["status"] == 0 and image["error"]["error_code"] == 11038
    largest = await create_verifier(vm, {"detect_policy": {"multiface_policy": 2},
                                         "storage_policy": {"face_sample_policy": {"store_sample": 0}}})
    [image] = results(await verify(vm, largest, photo("megamind_frame12.jpg"), params))
    [detection] = image["detections"]["face_detections"]
    assert by_face(detection)[people["roxanne"]][1] is True and "sample_id" not in detection["sample"]["face"]
    strict = await create_verifier(vm, {"detect_policy": {"yaw_threshold": 0}})  # every face turns a little
    [image] = results(await verify(vm, strict, photo("megamind_frame12.jpg"), params))
    assert image["status"] == 1 and image["detections"]["face_detections"] == []
    filtered = image["detections"]["filtered_detections"]["face_detections"]
    assert len(filtered) == 2 and all(f["filter_reasons"] == ["yaw_threshold"] for f in filtered)


async def test_several_inputs_descriptors_and_external_ids(vm: Manager, people: dict[str, str]) -> None:
    verifier_id = await create_verifier(vm, {"verification_threshold": 0.5})
    boundary = "selene-boundary"
    parts = b"".join(
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}\"\r\n"
        f"Content-Type: image/jpeg\r\n\r\n".encode() + data + b"\r\n"
        for name, data in (("astronaut.jpg", photo("astronaut.jpg")), ("broken.jpg", b"not a jpeg"),
                           ("fruits.jpg", photo("no_face_fruits.jpg")))
    ) + f"--{boundary}--\r\n".encode()
    astronaut, broken, fruits = results(await verify(
        vm, verifier_id, parts, {"external_ids": "astronaut,roxanne"}, f"multipart/form-data; boundary={boundary}"))
    assert astronaut["filename"] == "astronaut.jpg" and astronaut["status"] == 1
    [detection] = astronaut["detections"]["face_detections"]
    assert by_face(detection)[people["astronaut"]][1] is True and by_face(detection)[people["roxanne"]][1] is False
    assert (broken["status"], broken["error"]["error_code"]) == (0, 18002)
    assert (fruits["status"], fruits["error"]["error_code"]) == (0, 4003)

    # A descriptor as the input: Roxanne's own descriptor is Roxanne at similarity 1.
    face = (await vm.http.get(f"/6/faces/{people['roxanne']}", params={"targets": "face_descriptor"}, headers=vm.admin)).json()
    vector = np.frombuffer(base64.b64decode(face["descriptor"]), "<f4")
    sdk = encode_sdk(vector, 1001)
    for content, content_type in ((sdk.encode(), "application/x-sdk-descriptor-base64"),
                                  (base64.b64decode(sdk), "application/x-sdk-descriptor")):
        [image] = results(await verify(vm, verifier_id, content, {"face_ids": people["roxanne"]}, content_type))
        [detection] = image["detections"]["face_detections"]
        assert detection["verifications"] == [{"face": {"face_id": people["roxanne"]}, "similarity": 1.0, "status": True}]
        assert detection["sample"] == {"face": {}}
    [image] = results(await verify(vm, verifier_id, b"AAAA", {"face_ids": people["roxanne"]}, "application/x-sdk-descriptor-base64"))
    assert (image["status"], image["error"]["error_code"]) == (0, 12038)


async def test_a_photo_is_verified_against_events(vm: Manager, people: dict[str, str]) -> None:
    """Events saved with a face descriptor (LUNA's save event) are candidates by ``event_ids``."""
    face = (await vm.http.get(f"/6/faces/{people['roxanne']}", params={"targets": "face_descriptor"}, headers=vm.admin)).json()
    saved = []
    for descriptor in (face["descriptor"], None):  # the second event has no face descriptor
        body = {"source": "gate"} | ({"face_attributes": {"descriptor": {"descriptor": descriptor, "descriptor_version": 1001}}}
                                     if descriptor else {})
        response = await vm.http.post("/6/events/raw", json=body, headers=vm.admin)
        assert response.status_code == 201, response.text
        saved.append(response.json()["event_id"])
    verifier_id = await create_verifier(vm, {"detect_policy": {"multiface_policy": 2}})
    [image] = results(await verify(vm, verifier_id, photo("megamind_frame12.jpg"), {"event_ids": saved[0]}))
    [detection] = image["detections"]["face_detections"]
    [verification] = detection["verifications"]
    assert verification["event"] == {"event_id": saved[0]} and "face" not in verification
    assert verification["status"] is True and verification["similarity"] > 0.5
    missing = await verify(vm, verifier_id, photo("megamind_frame12.jpg"), {"event_ids": ",".join(saved)})
    assert missing.status_code == 404 and saved[1] in missing.json()["detail"]
    stranger = await new_account(vm)
    own = await create_verifier(vm, headers=stranger)
    foreign = await verify(vm, own, photo("megamind_frame12.jpg"), {"event_ids": saved[0]}, headers=stranger)
    assert foreign.status_code == 404 and foreign.json()["error_code"] == 11020


async def test_a_photo_is_verified_against_temporary_attributes(vm: Manager, people: dict[str, str]) -> None:
    """A temporary attribute made of Roxanne's descriptor (``POST /6/attributes``) is a candidate too."""
    face = (await vm.http.get(f"/6/faces/{people['roxanne']}", params={"targets": "face_descriptor"}, headers=vm.admin)).json()
    created = await vm.http.post("/6/attributes", json={"face_descriptors": [face["descriptor"]]}, headers=vm.admin)
    assert created.status_code == 201, created.text
    attribute_id = created.json()["attribute_id"]
    verifier_id = await create_verifier(vm, {"detect_policy": {"multiface_policy": 2}})
    [image] = results(await verify(vm, verifier_id, photo("megamind_frame12.jpg"), {"attribute_ids": attribute_id}))
    [detection] = image["detections"]["face_detections"]
    [verification] = detection["verifications"]
    assert verification["attribute"] == {"attribute_id": attribute_id} and verification["status"] is True
    [image] = results(await verify(vm, verifier_id, photo("astronaut.jpg"), {"attribute_ids": attribute_id}))
    assert image["detections"]["face_detections"][0]["verifications"][0]["status"] is False
    stranger = await new_account(vm)
    own = await create_verifier(vm, headers=stranger)
    foreign = await verify(vm, own, photo("astronaut.jpg"), {"attribute_ids": attribute_id}, headers=stranger)
    assert foreign.status_code == 404 and foreign.json()["error_code"] == 11020


async def test_bad_requests_get_luna_codes(vm: Manager, people: dict[str, str]) -> None:
    verifier_id = await create_verifier(vm)
    jpeg = photo("astronaut.jpg")

    async def code(response: Any) -> tuple[int, int]:
        return response.status_code, response.json()["error_code"]

    assert await code(await verify(vm, str(uuid.uuid4()), jpeg, {"face_ids": people["roxanne"]})) == (404, 11020)
    assert await code(await verify(vm, verifier_id, jpeg, {"face_ids": str(uuid.uuid4())})) == (404, 11020)
    assert await code(await verify(vm, verifier_id, jpeg, {"external_ids": "nobody"})) == (404, 11020)
    assert await code(await verify(vm, verifier_id, jpeg, {"face_ids": "not-a-uuid"})) == (400, 12012)
    assert await code(await verify(vm, verifier_id, jpeg, {})) == (400, 12012)
    both = {"face_ids": people["roxanne"], "external_ids": "roxanne"}
    assert await code(await verify(vm, verifier_id, jpeg, both)) == (400, 12012)
    assert await code(await verify(vm, verifier_id, jpeg, {"event_ids": str(uuid.uuid4())})) == (404, 11020)
    assert await code(await verify(vm, verifier_id, jpeg, {"attribute_ids": str(uuid.uuid4())})) == (404, 11020)
    assert await code(await verify(vm, verifier_id, jpeg, {"face_ids": people["roxanne"]}, "text/plain")) == (400, 12017)
    too_many = ",".join(str(uuid.uuid4()) for _ in range(1001))
    assert await code(await verify(vm, verifier_id, jpeg, {"face_ids": too_many})) == (400, 12012)

    # Another account can use neither the verifier nor the faces.
    stranger = await new_account(vm)
    assert await code(await verify(vm, verifier_id, jpeg, {"face_ids": people["roxanne"]}, headers=stranger)) == (404, 11020)
    own = await create_verifier(vm, headers=stranger)
    assert await code(await verify(vm, own, jpeg, {"face_ids": people["roxanne"]}, headers=stranger)) == (404, 11020)


async def test_raw_verification(vm: Manager) -> None:
    verifier_id = await create_verifier(vm, {"verification_threshold": 0.8})
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=128).astype(np.float32) * 0.05, rng.normal(size=128).astype(np.float32) * 0.05
    near = a + 0.01

    def raw(name: str, vector: np.ndarray, version: int = 1001) -> dict[str, Any]:
        return {"type": "raw_descriptor", "id": name, "data": {"descriptor": encode_raw(vector), "descriptor_version": version}}

    body = {"references": [raw("a", a)], "candidates": [raw("b", b), {"type": "sdk_descriptor", "id": "near", "data": encode_sdk(near, 1001)}, raw("a", a)]}
    response = await vm.http.post(f"/6/verifiers/{verifier_id}/raw", json=body, headers=vm.admin)
    assert response.status_code == 200, response.text
    [reference] = response.json()["matches"]
    assert reference["reference_id"] == "a"
    assert [(m["candidate_id"], m["status"]) for m in reference["matches"]] == [("b", False), ("near", True), ("a", True)]
    assert reference["matches"][2]["similarity"] == 1.0 and 0.8 < reference["matches"][1]["similarity"] < 1.0

    body = {"references": [raw("a", a)], "candidates": [raw("body", np.ones(1280, np.float32), 2001)]}
    response = await vm.http.post(f"/6/verifiers/{verifier_id}/raw", json=body, headers=vm.admin)
    assert response.status_code == 400 and response.json()["error_code"] == 31005
    body = {"references": [raw("a", a)], "candidates": [raw("short", a[:100])]}
    response = await vm.http.post(f"/6/verifiers/{verifier_id}/raw", json=body, headers=vm.admin)
    assert response.status_code == 400 and response.json()["error_code"] == 12034
    body["candidates"] = [{"type": "sdk_descriptor", "id": "x", "data": "@@@"}]
    response = await vm.http.post(f"/6/verifiers/{verifier_id}/raw", json=body, headers=vm.admin)
    assert response.status_code == 400 and response.json()["error_code"] == 18001
    stranger = await new_account(vm)
    body["candidates"] = [raw("a", a)]
    response = await vm.http.post(f"/6/verifiers/{verifier_id}/raw", json=body, headers=stranger)
    assert response.status_code == 404 and response.json()["error_code"] == 11020

"""Detector, extractor, temporary attributes and face attributes over real HTTP: real images, the real
SCRFD and dlib models, samples on local disk, attributes in the real Redis, faces in Milvus Lite."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from schemas.descriptor_formats import encode_raw, encode_sdk
from tests.integration.video_manager.conftest import Manager, new_account

pytestmark = pytest.mark.asyncio(loop_scope="session")
FACES = Path(__file__).resolve().parents[2] / "data" / "faces"
JPEG = {"content-type": "image/jpeg"}


def photo(name: str) -> bytes:
    return (FACES / name).read_bytes()


def b64(name: str) -> str:
    return base64.b64encode(photo(name)).decode()


async def detect(vm: Manager, name: str, query: str = "", headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = await vm.http.post(f"/6/detector{query}", content=photo(name), headers={**JPEG, **(headers or vm.admin)})
    assert response.status_code == 201, response.text
    [image] = response.json()["images"]
    return image


async def extract(vm: Manager, sample_ids: list[str], query: str = "", headers: dict[str, str] | None = None) -> Any:
    return await vm.http.post(f"/6/extractor{query}", json=sample_ids, headers=headers or vm.admin)


async def similarity(vm: Manager, face_id: str, image: str) -> float:
    body = {"references": [{"type": "image", "id": "probe", "data": b64(image)}],
            "candidates": [{"filters": {"face_ids": [face_id]}, "limit": 1}]}
    response = await vm.http.post("/6/matcher/faces", json=body, headers=vm.admin)
    assert response.status_code == 200, response.text
    result = response.json()[0]["matches"][0]["result"]
    return result[0]["similarity"] if result else 0.0


def multipart(parts: list[tuple[str, str, str, bytes]]) -> tuple[bytes, dict[str, str]]:
    """(field name, filename, content type, payload) parts as a multipart/form-data body."""
    boundary = uuid.uuid4().hex
    body = b""
    for name, filename, content_type, payload in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += (f"--{boundary}\r\nContent-Disposition: {disposition}\r\nContent-Type: {content_type}\r\n\r\n"
                 .encode() + payload + b"\r\n")
    return body + f"--{boundary}--\r\n".encode(), {"content-type": f"multipart/form-data; boundary={boundary}"}


async def test_a_sample_becomes_an_attribute_and_a_face_that_matches_the_person(vm: Manager) -> None:
    image = await detect(vm, "megamind_frame12.jpg", "?estimate_head_pose=1&estimate_quality=1")
    assert image["status"] == 1 and image["error"]["error_code"] == 0
    samples = image["detections"]["samples"]
    assert len(samples) == 2  # Roxanne in front, a man behind her
    for sample in samples:
        face = sample["face"]
        assert face["url"] == f"/6/samples/faces/{face['sample_id']}"
        detection = face["detection"]
        assert len(detection["landmarks5"]) == 5 and detection["rect"]["width"] > 30
        assert -90 < detection["attributes"]["head_pose"]["yaw"] < 90 and 0 <= detection["quality"]["dark"] <= 1
        assert "warp" not in detection  # stored as the sample, not sent back
    roxanne = max(samples, key=lambda s: s["face"]["detection"]["rect"]["width"])["face"]["sample_id"]
    stored_sample = await vm.http.get(f"/6/samples/faces/{roxanne}", headers=vm.admin)
    assert stored_sample.status_code == 200 and stored_sample.headers["content-type"] == "image/jpeg"
    assert cv2.imdecode(np.frombuffer(stored_sample.content, np.uint8), cv2.IMREAD_COLOR).shape == (250, 250, 3)

    response = await extract(vm, [roxanne], "?ttl=600")
    assert response.status_code == 201, response.text
    [attribute] = response.json()
    assert attribute["samples"] == [roxanne] and attribute["score"] is None and attribute["basic_attributes"] is None
    assert attribute["url"] == f"/6/attributes/{attribute['attribute_id']}"
    assert attribute["external_url"].endswith(attribute["url"]) and attribute["external_url"].startswith("http")

    stored = (await vm.http.get(attribute["url"], headers=vm.admin)).json()
    assert stored["face_descriptor_samples"] == [roxanne] and stored["descriptor_version"] == 1001
    assert len(base64.b64decode(stored["face_descriptor"])) == 128 * 4

    created = await vm.http.post("/6/faces", json={"attribute": {"attribute_id": attribute["attribute_id"]},
                                                   "external_id": "roxanne"}, headers=vm.admin)
    assert created.status_code == 201, created.text
    face_id = created.json()["face_id"]
    # The sample's descriptor is Roxanne's: another shot of her matches, other people do not.
    assert await similarity(vm, face_id, "megamind_later.jpg") >= 0.5
    assert await similarity(vm, face_id, "astronaut.jpg") < 0.5
    attributes = (await vm.http.get(f"/6/faces/{face_id}/attributes", headers=vm.admin)).json()["attributes"]
    assert attributes["face_descriptor_samples"] == [roxanne] and attributes["face_descriptor"] == stored["face_descriptor"]
    samples_of_face = (await vm.http.get(f"/6/faces/{face_id}/attributes/samples", headers=vm.admin)).json()
    assert samples_of_face == {"face_descriptor_samples": [roxanne], "basic_attributes_samples": []}
    # An attribute makes one face only.
    again = await vm.http.post("/6/faces", json={"attribute": {"attribute_id": attribute["attribute_id"]}},
                               headers=vm.admin)
    assert again.status_code == 409 and again.json()["error_code"] == 22001


async def test_aggregated_attribute_of_two_samples(vm: Manager) -> None:
    later = (await detect(vm, "megamind_later.jpg", "?multiface_policy=2"))["detections"]["samples"]
    front = (await detect(vm, "megamind_frame12.jpg", "?multiface_policy=2"))["detections"]["samples"]
    assert len(later) == 1 and len(front) == 1  # policy 2: the largest face only
    ids = [later[0]["face"]["sample_id"], front[0]["face"]["sample_id"]]
    response = await extract(vm, ids, "?aggregate_attributes=1")
    assert response.status_code == 201, response.text
    [attribute] = response.json()
    assert attribute["samples"] == ids
    separate = await extract(vm, ids)
    assert [a["samples"] for a in separate.json()] == [[ids[0]], [ids[1]]]
    vectors = []
    for a in separate.json():
        raw = (await vm.http.get(a["url"], headers=vm.admin)).json()["face_descriptor"]
        vectors.append(np.frombuffer(base64.b64decode(raw), "<f4"))
    mean = np.frombuffer(base64.b64decode((await vm.http.get(attribute["url"], headers=vm.admin)).json()["face_descriptor"]), "<f4")
    assert np.allclose(mean, np.mean(vectors, axis=0), atol=1e-6)


async def test_multiface_policy_pose_filters_and_per_image_errors(vm: Manager) -> None:
    refused = await detect(vm, "megamind_frame12.jpg", "?multiface_policy=0")
    assert refused["status"] == 0 and refused["error"]["error_code"] == 11038 and refused["detections"]["samples"] == []
    filtered = await detect(vm, "megamind_frame12.jpg", "?yaw_threshold=5")
    faces = filtered["detections"]["filtered_detections"]["face_detections"]
    assert filtered["status"] == 1 and faces  # both faces are turned by more than 5 degrees
    assert all(f["filter_reasons"] == ["yaw_threshold"] for f in faces)
    assert len(faces) + len(filtered["detections"]["samples"]) == 2
    none = await detect(vm, "no_face_fruits.jpg")
    assert none["status"] == 1 and none["detections"]["samples"] == []

    body, headers = multipart([("a", "astronaut.jpg", "image/jpeg", photo("astronaut.jpg")),
                               ("b", "broken.jpg", "image/jpeg", b"not an image"),
                               ("c", "messi.jpg", "image/jpeg", photo("messi.jpg"))])
    response = await vm.http.post("/6/detector", content=body, headers={**headers, **vm.admin})
    assert response.status_code == 201, response.text
    images = response.json()["images"]
    assert [i["filename"] for i in images] == ["astronaut.jpg", "broken.jpg", "messi.jpg"]
    assert [i["status"] for i in images] == [1, 0, 1] and images[1]["error"]["error_code"] == 18002
    assert len(images[0]["detections"]["samples"]) == 1 and len(images[2]["detections"]["samples"]) == 1


async def test_face_bounding_boxes_in_json_and_multipart(vm: Manager) -> None:
    whole = (await detect(vm, "megamind_frame12.jpg"))["detections"]["samples"]
    man = min(whole, key=lambda s: s["face"]["detection"]["rect"]["width"])["face"]["detection"]["rect"]
    # JSON: the box of the man behind Roxanne gives his face only.
    body = {"images": [{"image": b64("megamind_frame12.jpg"), "filename": "frame", "face_bounding_boxes": [man]}]}
    response = await vm.http.post("/6/detector", json=body, headers=vm.admin)
    assert response.status_code == 201, response.text
    [sample] = response.json()["images"][0]["detections"]["samples"]
    rect = sample["face"]["detection"]["rect"]
    assert abs(rect["x"] - man["x"]) < 4 and abs(rect["width"] - man["width"]) < 4
    # Multipart: a JSON part named like its image part; a box over no face finds nothing.
    empty = {"face_bounding_boxes": [{"x": 0, "y": 0, "width": 60, "height": 60}]}
    parts, headers = multipart([
        ("frame", "frame.jpg", "image/jpeg", photo("megamind_frame12.jpg")),
        ("frame", "", "application/json", json.dumps({"face_bounding_boxes": [man]}).encode()),
        ("fruit", "fruit.jpg", "image/jpeg", photo("no_face_fruits.jpg")),
        ("fruit", "", "application/json", json.dumps(empty).encode()),
    ])
    response = await vm.http.post("/6/detector", content=parts, headers={**headers, **vm.admin})
    assert response.status_code == 201, response.text
    frame, fruit = response.json()["images"]
    assert len(frame["detections"]["samples"]) == 1 and fruit["detections"]["samples"] == []
    orphan, headers = multipart([("a", "a.jpg", "image/jpeg", photo("messi.jpg")),
                                 ("b", "", "application/json", json.dumps(empty).encode())])
    response = await vm.http.post("/6/detector", content=orphan, headers={**headers, **vm.admin})
    assert response.status_code == 400 and response.json()["error_code"] == 12039
    # /6/sdk cannot honour boxes: it refuses them rather than ignoring them.
    response = await vm.http.post("/6/sdk", json=body)
    assert response.status_code == 400 and response.json()["error_code"] == 12031


async def test_unavailable_estimators_and_bad_requests(vm: Manager) -> None:
    for flag in ("estimate_emotions", "estimate_mask", "estimate_gaze", "extract_exif", "estimate_face_quality"):
        response = await vm.http.post(f"/6/detector?{flag}=1", content=photo("messi.jpg"), headers={**JPEG, **vm.admin})
        assert response.status_code == 400 and response.json()["error_code"] == 200005, (flag, response.text)
    warp = await vm.http.post("/6/detector?warped_image=1&estimate_head_pose=1", content=photo("messi.jpg"),
                              headers={**JPEG, **vm.admin})
    assert warp.json()["error_code"] == 12012
    not_a_warp = await detect(vm, "messi.jpg", "?warped_image=1")
    assert not_a_warp["status"] == 0 and not_a_warp["error"]["error_code"] == 11030
    anonymous = await vm.http.post("/6/detector", content=photo("messi.jpg"), headers=JPEG)
    assert anonymous.status_code == 401
    wrong_type = await vm.http.post("/6/detector", content=b"x", headers={"content-type": "text/plain", **vm.admin})
    assert wrong_type.json()["error_code"] == 12017

    [sample] = (await detect(vm, "messi.jpg"))["detections"]["samples"]
    sample_id = sample["face"]["sample_id"]
    basic = await extract(vm, [sample_id], "?extract_basic_attributes=1")
    assert basic.status_code == 400 and basic.json()["error_code"] == 200005
    unknown = await extract(vm, [str(uuid.uuid4())])
    assert unknown.status_code == 400 and unknown.json()["error_code"] == 11031
    other = await new_account(vm)
    foreign = await extract(vm, [sample_id], headers=other)  # another account's sample does not exist for it
    assert foreign.json()["error_code"] == 11031
    for query in ("?ttl=0", "?ttl=86401", "?score_threshold=0.5"):
        assert (await extract(vm, [sample_id], query)).status_code == 400, query
    assert (await extract(vm, [])).status_code == 400
    assert (await extract(vm, [sample_id] * 9)).status_code == 400


async def test_temporary_attributes_from_descriptors(vm: Manager) -> None:
    vector = np.random.default_rng(3).normal(0, 0.1, 128).astype(np.float32)
    sample = str(uuid.uuid4())
    body = {"face_descriptors": [{"descriptor": encode_raw(vector), "version": 1001}],
            "face_descriptor_samples": [sample], "basic_attributes": {"age": 29, "gender": 1, "ethnicity": 3}}
    response = await vm.http.post("/6/attributes?ttl=600", json=body, headers=vm.admin)
    assert response.status_code == 201, response.text
    first = response.json()["attribute_id"]
    sdk = await vm.http.post("/6/attributes", json={"face_descriptors": [{"descriptor": encode_sdk(vector, 1001)}]},
                             headers=vm.admin)
    second = sdk.json()["attribute_id"]

    one = (await vm.http.get(f"/6/attributes/{first}", headers=vm.admin)).json()
    assert one["basic_attributes"] == {"age": 29, "gender": 1, "ethnicity": 3} and one["face_descriptor_samples"] == [sample]
    assert np.allclose(np.frombuffer(base64.b64decode(one["face_descriptor"]), "<f4"), vector)
    narrow = (await vm.http.get(f"/6/attributes/{first}?targets=account_id,basic_attributes", headers=vm.admin)).json()
    assert set(narrow) == {"account_id", "basic_attributes"}
    listed = await vm.http.get(f"/6/attributes?attribute_ids={first},{second},{uuid.uuid4()}&targets=attribute_id",
                               headers=vm.admin)
    assert listed.json() == {"attributes": [{"attribute_id": first}, {"attribute_id": second}]}
    assert (await vm.http.get(f"/6/attributes/{first}?descriptor_version=1002", headers=vm.admin)).json()["error_code"] == 22018
    assert (await vm.http.get(f"/6/attributes/{first}?targets=nose", headers=vm.admin)).status_code == 400
    assert (await vm.http.get(f"/6/attributes/{first}/samples", headers=vm.admin)).json() == {
        "face_descriptor_samples": [sample], "basic_attributes_samples": []}

    other = await new_account(vm)
    assert (await vm.http.get(f"/6/attributes/{first}", headers=other)).json()["error_code"] == 22011
    assert (await vm.http.head(f"/6/attributes/{first}", headers=other)).status_code == 404
    assert (await vm.http.delete(f"/6/attributes/{first}", headers=other)).status_code == 404
    assert (await vm.http.get(f"/6/attributes?attribute_ids={first}", headers=other)).json() == {"attributes": []}
    assert (await vm.http.head(f"/6/attributes/{first}", headers=vm.admin)).status_code == 200
    assert (await vm.http.delete(f"/6/attributes/{first}", headers=vm.admin)).status_code == 204
    assert (await vm.http.get(f"/6/attributes/{first}", headers=vm.admin)).status_code == 404

    bad = {
        12034: {"face_descriptors": [{"descriptor": encode_raw(vector[:64]), "version": 1001}]},
        12036: {"face_descriptors": [{"descriptor": encode_raw(vector), "version": 9999}]},
        18001: {"face_descriptors": [{"descriptor": "not base64!", "version": 1001}]},
        22022: {"face_descriptor_samples": []},
        22023: {"basic_attributes_samples": [sample], "face_descriptors": [encode_raw(vector)]},
        22024: {"face_descriptors": [encode_raw(vector), {"descriptor": encode_raw(vector), "version": 1001}]},
    }
    for code, payload in bad.items():
        response = await vm.http.post("/6/attributes", json=payload, headers=vm.admin)
        assert response.status_code == 400 and response.json()["error_code"] == code, (code, response.text)


async def test_an_attribute_expires_with_its_ttl(vm: Manager) -> None:
    body = {"basic_attributes": {"age": 40, "gender": 0, "ethnicity": 4}}
    attribute_id = (await vm.http.post("/6/attributes?ttl=1", json=body, headers=vm.admin)).json()["attribute_id"]
    assert (await vm.http.head(f"/6/attributes/{attribute_id}", headers=vm.admin)).status_code == 200
    await asyncio.sleep(1.3)
    gone = await vm.http.get(f"/6/attributes/{attribute_id}", headers=vm.admin)
    assert gone.status_code == 404 and gone.json()["error_code"] == 22011
    face = await vm.http.post("/6/faces", json={"attribute": {"attribute_id": attribute_id}}, headers=vm.admin)
    assert face.status_code == 404 and face.json()["error_code"] == 22011


async def test_put_get_and_delete_face_attributes(vm: Manager) -> None:
    made = await vm.http.post("/6/faces", json={"image": b64("astronaut.jpg")}, headers=vm.admin)
    face_id = made.json()["face_id"]
    bare = (await vm.http.get(f"/6/faces/{face_id}/attributes", headers=vm.admin)).json()["attributes"]
    assert bare["face_descriptor_samples"] == [] and bare["basic_attributes"] is None and bare["descriptor_version"] == 1001
    assert await similarity(vm, face_id, "astronaut.jpg") > 0.9

    [sample] = (await detect(vm, "messi.jpg"))["detections"]["samples"]
    [attribute] = (await extract(vm, [sample["face"]["sample_id"]])).json()
    put = await vm.http.put(f"/6/faces/{face_id}/attributes", json={"attribute_id": attribute["attribute_id"]},
                            headers=vm.admin)
    assert put.status_code == 204, put.text
    # The face is Messi's now: his photo matches it and the astronaut's no longer does.
    assert await similarity(vm, face_id, "messi.jpg") >= 0.5
    assert await similarity(vm, face_id, "astronaut.jpg") < 0.5
    now = (await vm.http.get(f"/6/faces/{face_id}/attributes?targets=face_descriptor_samples", headers=vm.admin)).json()
    assert now == {"attributes": {"face_descriptor_samples": [sample["face"]["sample_id"]]}}
    face = (await vm.http.get(f"/6/faces/{face_id}", headers=vm.admin)).json()
    assert face["face_id"] == face_id and face["lists"] == []

    count = (await vm.http.get("/6/faces/attributes/count", headers=vm.admin)).json()["faces_count"]
    assert count >= 1
    other = await new_account(vm)
    assert (await vm.http.get(f"/6/faces/{face_id}/attributes", headers=other)).status_code == 404
    assert (await vm.http.get("/6/faces/attributes/count", headers=other)).json() == {"faces_count": 0}
    put_other = await vm.http.put(f"/6/faces/{face_id}/attributes", json={"attribute_id": attribute["attribute_id"]},
                                  headers=other)
    assert put_other.status_code == 404
    refused = await vm.http.delete(f"/6/faces/{face_id}/attributes", headers=vm.admin)
    assert refused.status_code == 409 and refused.json()["error_code"] == 45031
    assert (await vm.http.delete(f"/6/faces/{uuid.uuid4()}/attributes", headers=vm.admin)).status_code == 404
    wrong = await vm.http.get(f"/6/faces/{face_id}/attributes?descriptor_version=1002", headers=vm.admin)
    assert wrong.status_code == 404 and wrong.json()["error_code"] == 22018


async def test_token_permissions_for_samples_and_attributes(vm: Manager) -> None:
    user = await new_account(vm)

    async def token(permissions: dict[str, list[str]]) -> dict[str, str]:
        made = await vm.http.post("/6/tokens", json={"permissions": permissions}, headers=user)
        assert made.status_code == 201, made.text
        return {"Authorization": f"Bearer {made.json()['token']}"}

    faces_only = await token({"face": ["creation", "view"]})
    denied = await vm.http.post("/6/detector", content=photo("messi.jpg"), headers={**JPEG, **faces_only})
    assert denied.status_code == 403 and denied.json()["error_code"] == 11059 and "face_sample" in denied.json()["detail"]
    samples_only = await token({"face_sample": ["creation"]})
    [sample] = (await detect(vm, "messi.jpg", headers=samples_only))["detections"]["samples"]
    refused = await extract(vm, [sample["face"]["sample_id"]], headers=samples_only)
    assert refused.status_code == 403 and "attribute" in refused.json()["detail"]
    extractor = await token({"attribute": ["creation"]})
    assert (await extract(vm, [sample["face"]["sample_id"]], headers=extractor)).status_code == 201

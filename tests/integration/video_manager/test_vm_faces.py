"""Faces, lists and matching over real HTTP, with the real Milvus Lite store and the real dlib model."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from schemas.descriptor_formats import encode_raw, encode_sdk
from tests.integration.video_manager.conftest import Manager, new_account

pytestmark = pytest.mark.asyncio(loop_scope="session")
FACES = Path(__file__).resolve().parents[2] / "data" / "faces"


def b64(name: str) -> str:
    return base64.b64encode((FACES / name).read_bytes()).decode()


async def create_list(vm: Manager, headers: dict[str, str] | None = None) -> str:
    response = await vm.http.post("/6/lists", json={"user_data": "watch"}, headers=headers or vm.admin)
    assert response.status_code == 201, response.text
    return response.json()["list_id"]


async def enrol(vm: Manager, image: str, lists: list[str], headers: dict[str, str] | None = None, **extra: Any) -> str:
    body = {"image": b64(image), "lists": lists, **extra}
    response = await vm.http.post("/6/faces", json=body, headers=headers or vm.admin)
    assert response.status_code == 201, response.text
    return response.json()["face_id"]


async def match(vm: Manager, reference: dict[str, Any], list_id: str, headers: dict[str, str] | None = None,
                threshold: float = 0.5) -> Any:
    body = {"references": [reference], "candidates": [{"filters": {"list_id": list_id}, "limit": 5, "threshold": threshold}]}
    return await vm.http.post("/6/matcher/faces", json=body, headers=headers or vm.admin)


def hits(response: Any) -> list[tuple[str, float]]:
    assert response.status_code == 200, response.text
    [reference] = response.json()
    return [(r["face"]["face_id"], r["similarity"]) for r in reference["matches"][0]["result"]]


async def test_the_same_face_in_another_photo_matches_and_other_people_do_not(vm: Manager) -> None:
    list_id = await create_list(vm)
    roxanne = await enrol(vm, "megamind_later.jpg", [list_id], external_id="roxanne")
    astronaut = await enrol(vm, "astronaut.jpg", [list_id])
    # Frame 12 shows Roxanne in front and a man behind her: the best face is hers.
    found = hits(await match(vm, {"type": "image", "id": "frame12", "data": b64("megamind_frame12.jpg")}, list_id))
    assert [face for face, _ in found] == [roxanne]
    assert 0.5 <= found[0][1] <= 1
    for other in ("messi.jpg", "basketball.jpg"):
        assert hits(await match(vm, {"type": "image", "id": other, "data": b64(other)}, list_id)) == []
    # A face matches itself best, at similarity 1, and the other list member scores lower.
    everyone = hits(await match(vm, {"type": "face", "id": astronaut}, list_id, threshold=0))
    assert everyone[0] == (astronaut, 1.0) and everyone[1][0] == roxanne and everyone[1][1] < 0.5


async def test_a_photo_as_the_request_body_and_the_face_fields(vm: Manager) -> None:
    list_id = await create_list(vm)
    response = await vm.http.post(
        "/6/faces", content=(FACES / "messi.jpg").read_bytes(),
        params={"external_id": "m10", "user_data": "striker", "list_id": list_id},
        headers={**vm.admin, "Content-Type": "image/jpeg"},
    )
    assert response.status_code == 201, response.text
    face_id = response.json()["face_id"]
    face = (await vm.http.get(f"/6/faces/{face_id}", params={"targets": "face_descriptor"}, headers=vm.admin)).json()
    assert (face["external_id"], face["user_data"], face["lists"], face["descriptor_version"]) == ("m10", "striker", [list_id], 1001)
    assert len(base64.b64decode(face["descriptor"])) == 128 * 4
    assert (await vm.http.head(f"/6/faces/{face_id}", headers=vm.admin)).status_code == 200
    patched = await vm.http.patch(f"/6/faces/{face_id}", json={"user_data": "captain"}, headers=vm.admin)
    assert patched.status_code == 204
    listed = (await vm.http.get("/6/faces", params={"list_id": list_id}, headers=vm.admin)).json()["faces"]
    assert [(f["face_id"], f["user_data"]) for f in listed] == [(face_id, "captain")]
    counted = await vm.http.get("/6/faces/count", params={"external_ids": "m10,nobody"}, headers=vm.admin)
    assert counted.json()["faces_count"] == 1
    assert (await vm.http.get(f"/6/lists/{list_id}", headers=vm.admin)).json()["faces_count"] == 1


async def test_deleted_and_detached_faces_are_never_matched_again(vm: Manager) -> None:
    list_id = await create_list(vm)
    face_id = await enrol(vm, "astronaut.jpg", [list_id])
    reference = {"type": "face", "id": face_id}
    assert [f for f, _ in hits(await match(vm, reference, list_id))] == [face_id]
    detach = {"action": "detach", "face_ids": [face_id]}
    assert (await vm.http.patch(f"/6/lists/{list_id}/faces", json=detach, headers=vm.admin)).status_code == 204
    assert hits(await match(vm, reference, list_id)) == []
    attach = {"action": "attach", "face_ids": [face_id]}
    assert (await vm.http.patch(f"/6/lists/{list_id}/faces", json=attach, headers=vm.admin)).status_code == 204
    assert [f for f, _ in hits(await match(vm, reference, list_id))] == [face_id]
    descriptor = {"type": "raw_descriptor", "id": "kept", "data": {
        "descriptor": (await vm.http.get(f"/6/faces/{face_id}", params={"targets": "face_descriptor"}, headers=vm.admin)).json()["descriptor"],
        "descriptor_version": 1001,
    }}
    assert (await vm.http.delete(f"/6/faces/{face_id}", headers=vm.admin)).status_code == 204
    assert hits(await match(vm, descriptor, list_id, threshold=0)) == []
    gone = await vm.http.get(f"/6/faces/{face_id}", headers=vm.admin)
    assert gone.status_code == 404 and gone.json()["error_code"] == 11020
    assert (await match(vm, reference, list_id)).json()["error_code"] == 11020


async def test_lists_delete_with_their_faces_and_list_pages(vm: Manager) -> None:
    keep, drop = await create_list(vm), await create_list(vm)
    face_id = await enrol(vm, "messi.jpg", [keep, drop])
    lists = (await vm.http.get("/6/lists", params={"list_ids": f"{keep},{drop}"}, headers=vm.admin)).json()["lists"]
    assert {fl["list_id"]: fl["faces_count"] for fl in lists} == {keep: 1, drop: 1}
    assert (await vm.http.delete(f"/6/lists/{drop}", params={"with_faces": 0}, headers=vm.admin)).status_code == 204
    assert (await vm.http.get(f"/6/faces/{face_id}", headers=vm.admin)).json()["lists"] == [keep]
    assert (await vm.http.delete(f"/6/lists/{keep}", params={"with_faces": 1}, headers=vm.admin)).status_code == 204
    assert (await vm.http.get(f"/6/faces/{face_id}", headers=vm.admin)).status_code == 404
    assert (await vm.http.get(f"/6/lists/{keep}", headers=vm.admin)).json()["error_code"] == 11020


async def test_one_account_cannot_see_or_match_anothers_faces_and_lists(vm: Manager) -> None:
    alice, bob = await new_account(vm), await new_account(vm)
    list_id = await create_list(vm, alice)
    face_id = await enrol(vm, "astronaut.jpg", [list_id], alice)
    assert (await vm.http.get(f"/6/faces/{face_id}", headers=bob)).status_code == 404
    assert (await vm.http.get(f"/6/lists/{list_id}", headers=bob)).status_code == 404
    denied = await match(vm, {"type": "image", "id": "x", "data": b64("astronaut.jpg")}, list_id, bob)
    assert denied.status_code == 404 and denied.json()["error_code"] == 11020
    everything = {"references": [{"type": "image", "id": "x", "data": b64("astronaut.jpg")}], "candidates": [{"threshold": 0}]}
    result = await vm.http.post("/6/matcher/faces", json=everything, headers=bob)
    assert result.status_code == 200 and result.json()[0]["matches"][0]["result"] == []
    attach = {"action": "attach", "face_ids": [face_id]}
    bobs = await create_list(vm, bob)
    refused = await vm.http.patch(f"/6/lists/{bobs}/faces", json=attach, headers=bob)
    assert refused.status_code == 404 and refused.json()["error_code"] == 11020
    assert (await vm.http.get("/6/faces/count", headers=bob)).json()["faces_count"] == 0


@pytest.mark.parametrize(("body", "code"), [
    ({"image": b64("no_face_fruits.jpg")}, 4003),
    ({"image": base64.b64encode(b"\xff\xd8 not a jpeg at all").decode()}, 18002),
    ({"image": "%%% not base64"}, 18001),
    ({"image": b64("megamind_frame12.jpg")}, 11038),
    ({"descriptor": {"descriptor": encode_raw(np.ones(100)), "descriptor_version": 1001}}, 12034),
    ({"descriptor": {"descriptor": encode_raw(np.ones(128)), "descriptor_version": 77}}, 12036),
    ({"sdk_descriptor": base64.b64encode(b"XXXX" + bytes(512)).decode()}, 12038),
    ({"lists": [str(uuid.uuid4())], "descriptor": {"descriptor": encode_raw(np.ones(128))}}, 11020),
    ({}, 12027),
])
async def test_bad_faces_get_lunas_errors(vm: Manager, body: dict[str, Any], code: int) -> None:
    response = await vm.http.post("/6/faces", json=body, headers=vm.admin)
    assert response.json()["error_code"] == code, response.text
    assert response.status_code in (400, 404) and {"desc", "detail", "link"} <= set(response.json())


async def test_a_face_from_a_descriptor_and_raw_matching(vm: Manager) -> None:
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=128).astype(np.float32) * 0.09, rng.normal(size=128).astype(np.float32) * 0.09
    created = await vm.http.post("/6/faces", json={"sdk_descriptor": encode_sdk(a, 1001)}, headers=vm.admin)
    assert created.status_code == 201, created.text
    body = {
        "references": [{"type": "raw_descriptor", "id": "a", "data": {"descriptor": encode_raw(a), "descriptor_version": 1001}}],
        "candidates": [{"type": "sdk_descriptor", "id": "b", "data": encode_sdk(b, 1001)},
                       {"type": "sdk_descriptor", "id": "a-again", "data": encode_sdk(a, 1001)}],
    }
    response = await vm.http.post("/6/matcher/raw", json=body, headers=vm.admin)
    assert response.status_code == 200, response.text
    [result] = response.json()["matches"]
    assert result["reference_id"] == "a" and [m["candidate_id"] for m in result["matches"]] == ["a-again", "b"]
    expected = max(0.0, 1 - float(np.linalg.norm(a - b)) / 1.2)
    assert result["matches"][0]["similarity"] == 1.0 and result["matches"][1]["similarity"] == pytest.approx(expected, abs=1e-4)
    mixed = {**body, "candidates": [{"type": "raw_descriptor", "id": "body", "data": {
        "descriptor": encode_raw(np.ones(1280)), "descriptor_version": 2001}}]}
    assert (await vm.http.post("/6/matcher/raw", json=mixed, headers=vm.admin)).json()["error_code"] == 31005
    too_many = {"references": [{"type": "face", "id": created.json()["face_id"]}], "candidates": [{"limit": 101}]}
    assert (await vm.http.post("/6/matcher/faces", json=too_many, headers=vm.admin)).json()["error_code"] == 31007

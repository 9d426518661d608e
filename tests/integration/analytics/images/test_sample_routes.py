"""/6/samples/{faces|bodies} over real HTTP, with warps cut from real photos: LUNA's warp sizes, samples
kept as JPEG, the face_sample/body_sample rights, and another account's samples invisible."""

from __future__ import annotations

import uuid
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.integration.video_manager.conftest import Manager, new_account

pytestmark = pytest.mark.asyncio(loop_scope="session")
DATA = Path(__file__).resolve().parents[3] / "data"


def warp(width: int, height: int, extension: str = ".jpg", photo: str = "faces/astronaut.jpg") -> bytes:
    """A real photo resized to a warp's size and encoded (the bytes a client would send)."""
    image = cv2.imread(str(DATA / photo))
    ok, encoded = cv2.imencode(extension, cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA))
    assert ok
    return encoded.tobytes()


async def save(api: Manager, kind: str, data: bytes, content_type: str = "image/jpeg",
               headers: dict[str, str] | None = None) -> dict[str, str]:
    response = await api.http.post(f"/6/samples/{kind}", content=data,
                                   headers={**(headers or api.admin), "Content-Type": content_type})
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_face_warp_is_saved_and_read_back(api: Manager) -> None:
    face = warp(250, 250)
    body = await save(api, "faces", face)
    assert body["url"] == f"/6/samples/faces/{body['sample_id']}"
    got = await api.http.get(body["url"], headers=api.admin)
    assert got.status_code == 200 and got.content == face and got.headers["content-type"] == "image/jpeg"
    head = await api.http.head(body["url"], headers=api.admin)
    assert head.status_code == 200 and int(head.headers["content-length"]) == len(face)
    # Faces and bodies are two buckets: the id is not a body sample.
    assert (await api.http.get(f"/6/samples/bodies/{body['sample_id']}", headers=api.admin)).status_code == 404
    assert (await api.http.delete(body["url"], headers=api.admin)).status_code == 204
    gone = await api.http.get(body["url"], headers=api.admin)
    assert gone.status_code == 404 and gone.json()["error_code"] == 13003


async def test_a_png_body_warp_is_kept_as_jpeg(api: Manager) -> None:
    body = await save(api, "bodies", warp(128, 250, ".png", "vtest_0000.jpg"), "image/png")
    got = await api.http.get(body["url"], headers=api.admin)
    assert got.headers["content-type"] == "image/jpeg" and got.content.startswith(b"\xff\xd8\xff")
    decoded = cv2.imdecode(np.frombuffer(got.content, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == (250, 128, 3)


async def test_warps_of_the_wrong_size_and_non_images_are_refused(api: Manager) -> None:
    for kind, data, size in (("faces", warp(128, 250), "250x250"), ("bodies", warp(250, 250), "128x250"),
                             ("bodies", warp(250, 128), "128x250"), ("faces", warp(251, 250), "250x250")):
        response = await api.http.post(f"/6/samples/{kind}", content=data, headers={**api.admin, "Content-Type": "image/jpeg"})
        assert response.status_code == 400 and response.json()["error_code"] == 11030, (kind, response.text)
        assert response.json()["detail"] == f"Image size is not equal to {size}"
    not_image = await api.http.post("/6/samples/faces", content=b"\x00" * 64, headers={**api.admin, "Content-Type": "image/jpeg"})
    assert not_image.status_code == 400 and not_image.json()["error_code"] == 18002
    wrong_type = await api.http.post("/6/samples/faces", content=warp(250, 250), headers={**api.admin, "Content-Type": "application/json"})
    assert wrong_type.status_code == 400 and wrong_type.json()["error_code"] == 11028
    unknown_kind = await api.http.post("/6/samples/cars", content=warp(250, 250), headers={**api.admin, "Content-Type": "image/jpeg"})
    assert unknown_kind.status_code == 400, unknown_kind.text


async def test_another_accounts_samples_do_not_exist_for_it(api: Manager) -> None:
    owner, other = await new_account(api), await new_account(api)
    body = await save(api, "faces", warp(250, 250), headers=owner)
    for method in ("GET", "HEAD", "DELETE"):
        foreign = await api.http.request(method, body["url"], headers=other)
        assert foreign.status_code == 404, method
    assert (await api.http.get(body["url"], headers=owner)).status_code == 200
    unknown = await api.http.get(f"/6/samples/faces/{uuid.uuid4()}", headers=owner)
    assert unknown.status_code == 404 and unknown.json()["error_code"] == 13003


async def test_face_and_body_samples_need_their_own_rights(api: Manager) -> None:
    made = await api.http.post("/6/tokens", json={"permissions": {"face_sample": ["creation", "view"]}}, headers=api.admin)
    assert made.status_code == 201, made.text
    bearer = {"Authorization": f"Bearer {made.json()['token']}"}
    body = await save(api, "faces", warp(250, 250), headers=bearer)
    assert (await api.http.get(body["url"], headers=bearer)).status_code == 200
    for method, url in (("DELETE", body["url"]), ("GET", f"/6/samples/bodies/{uuid.uuid4()}")):
        denied = await api.http.request(method, url, headers=bearer)
        assert denied.status_code == 403 and denied.json()["error_code"] == 11059, (method, url)
    denied = await api.http.post("/6/samples/bodies", content=warp(128, 250), headers={**bearer, "Content-Type": "image/jpeg"})
    assert denied.status_code == 403 and denied.json()["error_code"] == 11059

"""/6/images and /6/objects over real HTTP: bytes and metadata back as stored, TTL, LUNA's errors for bad
content, sizes and ttl values, and no object visible to another account."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.integration.video_manager.conftest import Manager, new_account

pytestmark = pytest.mark.asyncio(loop_scope="session")
PHOTO = Path(__file__).resolve().parents[3] / "data" / "faces" / "astronaut.jpg"
LIMIT = 16 * 1024 * 1024  # ImageStoreSettings.max_object_bytes's default


async def post_image(api: Manager, data: bytes, content_type: str = "image/jpeg", **headers: str) -> str:
    response = await api.http.post("/6/images", content=data, headers={**api.admin, "Content-Type": content_type, **headers})
    assert response.status_code == 201, response.text
    return response.json()["image_id"]


async def test_an_image_comes_back_byte_for_byte_with_its_meta(api: Manager) -> None:
    photo = PHOTO.read_bytes()
    headers = {**api.admin, "Content-Type": "image/jpeg", "X-Luna-Meta-Camera": "gate-3", "X-Luna-Meta-Floor": "2"}
    response = await api.http.post("/6/images", content=photo, headers=headers)
    assert response.status_code == 201, response.text
    body = response.json()
    image_id = body["image_id"]
    assert body["url"] == f"/6/images/{image_id}"
    assert body["external_url"] == f"{api.url}/6/images/{image_id}"

    got = await api.http.get(body["url"], headers=api.admin)
    assert got.status_code == 200
    assert got.content == photo and got.headers["content-type"] == "image/jpeg"
    assert "x-luna-meta-camera" not in got.headers  # metadata only on request
    assert "x-luna-expiry-date" not in got.headers  # no TTL: kept until deleted
    with_meta = await api.http.get(body["url"], params={"with_meta": 1}, headers=api.admin)
    assert (with_meta.headers["x-luna-meta-camera"], with_meta.headers["x-luna-meta-floor"]) == ("gate-3", "2")

    head = await api.http.head(body["url"], params={"with_meta": 1}, headers=api.admin)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(photo)
    assert head.headers["x-luna-meta-camera"] == "gate-3"

    assert (await api.http.delete(body["url"], headers=api.admin)).status_code == 204
    gone = await api.http.get(body["url"], headers=api.admin)
    assert gone.status_code == 404 and gone.json()["error_code"] == 13003
    assert (await api.http.head(body["url"], headers=api.admin)).status_code == 404
    assert (await api.http.delete(body["url"], headers=api.admin)).json()["error_code"] == 13003


async def test_a_ttl_in_days_sets_the_expiry_date(api: Manager) -> None:
    before = datetime.now(UTC)
    response = await api.http.post("/6/images", params={"ttl": 7}, content=PHOTO.read_bytes(),
                                   headers={**api.admin, "Content-Type": "image/jpeg"})
    assert response.status_code == 201, response.text
    head = await api.http.head(response.json()["url"], headers=api.admin)
    expiry = datetime.fromisoformat(head.headers["x-luna-expiry-date"])
    assert before + timedelta(days=7) <= expiry <= datetime.now(UTC) + timedelta(days=7)
    forever = await api.http.post("/6/images", params={"ttl": -1}, content=PHOTO.read_bytes(),
                                  headers={**api.admin, "Content-Type": "image/jpeg"})
    head = await api.http.head(forever.json()["url"], headers=api.admin)
    assert head.status_code == 200 and "x-luna-expiry-date" not in head.headers
    for bad in (0, 8, 366, -2):  # LUNA's TTL values are a fixed set of days
        refused = await api.http.post("/6/images", params={"ttl": bad}, content=PHOTO.read_bytes(),
                                      headers={**api.admin, "Content-Type": "image/jpeg"})
        assert refused.status_code == 400 and refused.json()["error_code"] == 12012, (bad, refused.text)


async def test_bad_images_are_refused_with_lunas_codes(api: Manager) -> None:
    wrong_type = await api.http.post("/6/images", content=PHOTO.read_bytes(), headers={**api.admin, "Content-Type": "text/plain"})
    assert wrong_type.status_code == 400 and wrong_type.json()["error_code"] == 11028
    assert "text/plain" in wrong_type.json()["detail"]
    garbage = await api.http.post("/6/images", content=b"not an image at all", headers={**api.admin, "Content-Type": "image/png"})
    assert garbage.status_code == 400 and garbage.json()["error_code"] == 18002
    truncated = await api.http.post("/6/images", content=b"", headers={**api.admin, "Content-Type": "image/jpeg"})
    assert truncated.status_code == 400 and truncated.json()["error_code"] == 18002
    huge_meta = await api.http.post("/6/images", content=PHOTO.read_bytes(),
                                    headers={**api.admin, "Content-Type": "image/jpeg", "X-Luna-Meta-Note": "x" * 3000})
    assert huge_meta.status_code == 400 and huge_meta.json()["error_code"] == 12031


async def test_an_oversize_body_is_37003_even_without_a_content_length(api: Manager) -> None:
    async def chunks():  # chunked transfer: the size is known only while reading
        for _ in range(LIMIT // (1024 * 1024) + 1):
            yield b"\xff" * (1024 * 1024)

    response = await api.http.post("/6/objects", content=chunks(), headers={**api.admin, "Content-Type": "application/zip"})
    assert response.status_code == 413 and response.json()["error_code"] == 37003


async def test_another_accounts_images_and_objects_do_not_exist_for_it(api: Manager) -> None:
    owner, other = await new_account(api), await new_account(api)
    image = await api.http.post("/6/images", content=PHOTO.read_bytes(), headers={**owner, "Content-Type": "image/jpeg"})
    stored = await api.http.post("/6/objects", content=b"report", headers={**owner, "Content-Type": "text/plain"})
    for url, code in ((image.json()["url"], 13003), (stored.json()["url"], 13007)):
        for method in ("GET", "DELETE"):
            foreign = await api.http.request(method, url, headers=other)
            assert foreign.status_code == 404 and foreign.json()["error_code"] == code, (method, url)
        assert (await api.http.head(url, headers=other)).status_code == 404
        assert (await api.http.get(url, headers=owner)).status_code == 200  # the other's DELETE removed nothing
    unknown = await api.http.get(f"/6/images/{uuid.uuid4()}", headers=owner)
    assert unknown.status_code == 404 and unknown.json()["error_code"] == 13003


async def test_a_token_without_the_image_right_is_refused(api: Manager) -> None:
    made = await api.http.post("/6/tokens", json={"permissions": {"object": ["creation", "view"]}}, headers=api.admin)
    assert made.status_code == 201, made.text
    bearer = {"Authorization": f"Bearer {made.json()['token']}"}
    denied = await api.http.post("/6/images", content=PHOTO.read_bytes(), headers={**bearer, "Content-Type": "image/jpeg"})
    assert denied.status_code == 403 and denied.json()["error_code"] == 11059
    allowed = await api.http.post("/6/objects", content=b"ok", headers={**bearer, "Content-Type": "text/plain"})
    assert allowed.status_code == 201, allowed.text
    refused = await api.http.delete(allowed.json()["url"], headers=bearer)
    assert refused.status_code == 403 and refused.json()["error_code"] == 11059


async def test_objects_keep_any_bytes_and_their_content_type(api: Manager) -> None:
    payload = bytes(range(256)) * 10
    response = await api.http.post("/6/objects", params={"ttl": 1}, content=payload,
                                   headers={**api.admin, "Content-Type": "application/x-selene-test"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["url"] == f"/6/objects/{body['object_id']}" and body["external_url"].endswith(body["url"])
    got = await api.http.get(body["url"], headers=api.admin)
    assert got.content == payload and got.headers["content-type"] == "application/x-selene-test"
    assert got.headers["content-disposition"] == f'attachment; filename="{body["object_id"]}.bin"'  # unknown type
    head = await api.http.head(body["url"], headers=api.admin)
    assert int(head.headers["content-length"]) == len(payload)
    assert datetime.fromisoformat(head.headers["x-luna-expiry-date"]) > datetime.now(UTC) + timedelta(hours=23)

    text = await api.http.post("/6/objects", content=b"example", headers={**api.admin, "Content-Type": "text/plain"})
    got = await api.http.get(text.json()["url"], headers=api.admin)
    assert got.text == "example" and got.headers["content-disposition"].endswith('.txt"')
    assert (await api.http.delete(text.json()["url"], headers=api.admin)).status_code == 204
    gone = await api.http.get(text.json()["url"], headers=api.admin)
    assert gone.status_code == 404 and gone.json()["error_code"] == 13007

"""The Remote SDK over real HTTP with real images and the real models: /6/sdk (raw, multipart, JSON
Base64, several images, aggregation), /6/iso, /6/liveness and /6/features."""

from __future__ import annotations

import asyncio
import base64
import shutil
from pathlib import Path

import pytest

from schemas.descriptor_formats import decode_sdk
from tests.integration.video_manager.conftest import Manager

pytestmark = pytest.mark.asyncio(loop_scope="session")
DATA = Path(__file__).resolve().parents[2] / "data"
FACES = DATA / "faces"
JPEG = {"content-type": "image/jpeg"}


def photo(name: str) -> bytes:
    return (FACES / name).read_bytes()


async def test_the_done_when_command_answers_luna_shape(vm: Manager) -> None:
    """The issue's ``curl -F image=@photo.jpg '.../6/sdk?estimate_head_pose=1&estimate_quality=1&...'``,
    run by curl itself: basic attributes are unavailable, so LUNA's 200005 names them; without that flag
    the same command answers LUNA's shape with plausible values."""
    if shutil.which("curl") is None:
        pytest.skip("no curl on this machine")
    url = f"{vm.url}/6/sdk?estimate_head_pose=1&estimate_quality=1"

    async def curl(query: str) -> tuple[int, dict]:
        process = await asyncio.create_subprocess_exec(
            "curl", "-s", "-w", "\n%{http_code}", "-F", f"image=@{FACES / 'astronaut.jpg'}", url + query,
            stdout=asyncio.subprocess.PIPE)
        out, _ = await process.communicate()
        body, _, status = out.decode().rpartition("\n")
        import json

        return int(status), json.loads(body)

    status, body = await curl("&estimate_basic_attributes=1")
    assert status == 400 and body["error_code"] == 200005 and "basic_attributes" in body["detail"]
    status, body = await curl("")
    assert status == 200, body
    [image] = body["images_estimations"]
    assert image["status"] == 1 and image["error"]["error_code"] == 0 and image["filename"] == "astronaut.jpg"
    [estimation] = image["estimations"]
    detection = estimation["face"]["detection"]
    pose = detection["attributes"]["head_pose"]
    assert abs(pose["yaw"]) < 10 and abs(pose["pitch"]) < 10 and abs(pose["roll"]) < 10
    assert set(detection["quality"]) == {"dark", "light", "blurriness", "illumination", "specularity"}
    assert all(0 <= v <= 1 for v in detection["quality"].values()) and detection["quality"]["dark"] > 0.5
    rect = detection["rect"]
    assert 100 < rect["x"] < 140 and 40 < rect["y"] < 80 and 70 < rect["width"] < 110
    version, vector = decode_sdk(detection["attributes"]["descriptor"]["sdk_descriptor"])  # LUNA's default on
    assert version == 1001 and vector.shape == (128,)


async def test_raw_body_estimators_and_warps(vm: Manager) -> None:
    query = ("estimate_landmarks5=1&estimate_landmarks68=1&estimate_eyes_attributes=1&estimate_mouth_attributes=1"
             "&estimate_face_warp=1&estimate_face_descriptor=0")
    response = await vm.http.post(f"/6/sdk?{query}", content=photo("astronaut.jpg"), headers=JPEG)
    assert response.status_code == 200, response.text
    detection = response.json()["images_estimations"][0]["estimations"][0]["face"]["detection"]
    assert len(detection["landmarks5"]) == 5 and len(detection["landmarks68"]) == 68
    attributes = detection["attributes"]
    assert attributes["eyes_attributes"] == {"left_eye": {"state": "open"}, "right_eye": {"state": "open"}}
    assert 0 < attributes["mouth_attributes"]["opened"] <= 1 and "descriptor" not in attributes
    assert detection["warp"].startswith(base64.b64encode(b"\xff\xd8\xff").decode()[:3])
    assert "head_pose" not in attributes and "quality" not in detection  # not asked for


async def test_multipart_several_images_and_a_broken_one(vm: Manager) -> None:
    files = [("image", ("astronaut.jpg", photo("astronaut.jpg"), "image/jpeg")),
             ("image", ("broken.jpg", b"not an image", "image/jpeg")),
             ("image", ("fruit.jpg", photo("no_face_fruits.jpg"), "image/jpeg")),
             ("image", ("messi.jpg", photo("messi.jpg"), "image/jpeg"))]
    response = await vm.http.post("/6/sdk?estimate_head_pose=1&aggregate_attributes=1", files=files)
    assert response.status_code == 200, response.text
    body = response.json()
    names = [i["filename"] for i in body["images_estimations"]]
    assert names == ["astronaut.jpg", "broken.jpg", "fruit.jpg", "messi.jpg"]  # the order of the request
    astronaut, broken, fruit, messi = body["images_estimations"]
    assert broken["status"] == 0 and broken["error"]["error_code"] == 18002
    assert fruit["status"] == 1 and fruit["estimations"] == []
    assert messi["estimations"][0]["face"]["detection"]["attributes"]["head_pose"]["yaw"] > 20
    version, _ = decode_sdk(body["aggregate_estimations"]["face"]["attributes"]["descriptor"]["sdk_descriptor"])
    assert version == 1001


async def test_json_base64_people_count_and_bodies(vm: Manager) -> None:
    frame = base64.b64encode((DATA / "vtest_0000.jpg").read_bytes()).decode()
    body = {"images": [{"image": frame, "filename": "vtest"}, {"image": "@@not base64@@"}]}
    query = "estimate_people_count=1&people_count_coordinates=1&detect_body=1&estimate_body_warp=1"
    response = await vm.http.post(f"/6/sdk?{query}", json=body)
    assert response.status_code == 200, response.text
    vtest, bad = response.json()["images_estimations"]
    assert bad["status"] == 0 and bad["error"]["error_code"] == 18001
    people = vtest["image_estimations"]["people"]
    assert people["count"] >= 3 and len(people["coordinates"]) == people["count"]
    bodies = [e["body"]["detection"] for e in vtest["estimations"] if "body" in e]
    assert len(bodies) == people["count"]
    assert all(d["warp"] and decode_sdk(d["attributes"]["descriptor"]["sdk_descriptor"])[0] == 2001 for d in bodies)


async def test_multiface_policy_and_pose_filter(vm: Manager) -> None:
    frame = photo("megamind_frame12.jpg")  # two faces
    one = await vm.http.post("/6/sdk?detect_face=1&estimate_face_descriptor=0&multiface_policy=0", content=frame,
                             headers=JPEG)
    assert one.json()["images_estimations"][0]["error"]["error_code"] == 11038
    best = await vm.http.post("/6/sdk?detect_face=1&estimate_face_descriptor=0&multiface_policy=2", content=frame,
                              headers=JPEG)
    assert len(best.json()["images_estimations"][0]["estimations"]) == 1
    frontal = await vm.http.post("/6/sdk?detect_face=1&estimate_face_descriptor=0&yaw_threshold=10",
                                 content=photo("messi.jpg"), headers=JPEG)
    assert frontal.json()["images_estimations"][0]["estimations"] == []  # Messi looks away: filtered


async def test_unavailable_estimators_and_bad_requests(vm: Manager) -> None:
    for flag in ("estimate_emotions", "estimate_mask", "estimate_glasses", "estimate_gaze", "estimate_liveness",
                 "estimate_deepfake", "estimate_upper_body", "extract_exif"):
        response = await vm.http.post(f"/6/sdk?{flag}=1", content=photo("astronaut.jpg"), headers=JPEG)
        assert response.status_code == 400 and response.json()["error_code"] == 200005, (flag, response.text)
    wrong_type = await vm.http.post("/6/sdk?detect_face=1", content=b"x", headers={"content-type": "text/plain"})
    assert wrong_type.json()["error_code"] == 12017
    bad_flag = await vm.http.post("/6/sdk?detect_face=7", content=photo("astronaut.jpg"), headers=JPEG)
    assert bad_flag.status_code == 400
    on_a_warp = await vm.http.post("/6/sdk?image_type=1&estimate_head_pose=1", content=photo("astronaut.jpg"),
                                   headers=JPEG)
    assert on_a_warp.json()["error_code"] == 12012 and "warped" in on_a_warp.json()["detail"]


async def test_a_face_warp_goes_back_in_as_a_sample(vm: Manager) -> None:
    response = await vm.http.post("/6/sdk?estimate_face_warp=1&estimate_face_descriptor=0",
                                  content=photo("astronaut.jpg"), headers=JPEG)
    warp = base64.b64decode(response.json()["images_estimations"][0]["estimations"][0]["face"]["detection"]["warp"])
    again = await vm.http.post("/6/sdk?image_type=1&estimate_quality=1&estimate_eyes_attributes=1", content=warp,
                               headers=JPEG)
    assert again.status_code == 200, again.text
    [estimation] = again.json()["images_estimations"][0]["estimations"]
    detection = estimation["face"]["detection"]
    assert detection["rect"] == {"x": 0.0, "y": 0.0, "width": 250.0, "height": 250.0}
    assert detection["quality"]["blurriness"] > 0.5 and detection["attributes"]["eyes_attributes"]["left_eye"]["state"] == "open"


async def test_iso_lists_what_it_cannot_check(vm: Manager) -> None:
    response = await vm.http.post("/6/iso", content=photo("astronaut.jpg"), headers=JPEG)
    assert response.status_code == 200, response.text
    [image] = response.json()["images"]
    assert image["status"] == 1
    iso = image["estimations"][0]["face"]["detection"]["iso"]
    checks = {c["name"]: c for c in iso["checks"]}
    assert checks["image_format"] == {"name": "image_format", "object_value": "JPEG", "result": 1,
                                      "threshold_value": ["JPEG", "JPEG2000", "PNG"], "estimated": True}
    assert checks["head_roll"]["threshold_value"] == {"min": -8.0, "max": 8.0}
    assert checks["face_color_type"]["object_value"] == "color" and checks["left_eye"]["object_value"] == "open"
    assert checks["dark_quality"]["result"] == 1 and checks["eye_distance"]["result"] == 0  # 40 px apart, 90 needed
    for name in ("gaze_yaw", "glasses", "background_uniformity", "head_width", "red_eyes"):
        assert checks[name]["estimated"] is False and checks[name]["result"] is None
    assert iso["status"] == 0  # never passes while a check is not estimated
    none = await vm.http.post("/6/iso", content=photo("no_face_fruits.jpg"), headers=JPEG)
    assert none.json()["images"][0]["error"]["error_code"] == 4003


async def test_liveness_answers_not_available(vm: Manager) -> None:
    files = [("images", ("selfie.jpg", photo("astronaut.jpg"), "image/jpeg"))]
    response = await vm.http.post("/6/liveness", files=files)
    assert response.status_code == 400 and response.json()["error_code"] == 200005
    assert "liveness" in response.json()["detail"]
    malformed = await vm.http.post("/6/liveness", content=b"{}", headers={"content-type": "application/json"})
    assert malformed.json()["error_code"] == 12027


async def test_features_list_the_estimators(vm: Manager) -> None:
    estimators = {e["name"]: e for e in (await vm.http.get("/6/features")).json()["estimators"]}
    assert estimators["head_pose"]["available"] and "estimate_head_pose" in estimators["head_pose"]["flags"]
    assert estimators["quality"]["model"].startswith("none: computed")
    assert not estimators["basic_attributes"]["available"] and "license" in estimators["basic_attributes"]["reason"]
    assert not estimators["liveness"]["available"]
    assert estimators["face_descriptor"]["license"].startswith("dlib-shape-predictor-5: CC0")

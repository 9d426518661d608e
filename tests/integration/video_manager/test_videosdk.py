"""``POST /6/videosdk`` through the API: the sample clip by path and as an upload gives the same results
as ``selene analyze``'s logic, and bad input gets LUNA's 43xxx errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.root.stack import SAMPLE_CLIP
from tests.integration.video_manager.conftest import Manager

pytestmark = pytest.mark.asyncio(loop_scope="session")
# Every 30th frame of the 30 s clip: ten detections keep the test short.
ANALYTICS = [{"name": "people_count", "parameters": {"rate": {"period": 30, "unit": "frame"}, "probe_count": 1}}]


def _shape(result: dict) -> tuple:
    crowd = result["analytics"][0]["result"]["crowd"]["events"]
    return (result["analytics"][0]["name"], [e["people_count"] for e in crowd],
            [e["video_segment"] for e in crowd], result["video_data"]["frames_count"])


async def test_a_video_by_url_and_by_upload_is_analysed(vm: Manager) -> None:
    by_url = await vm.http.post("/6/videosdk", json={"video": {"url": str(SAMPLE_CLIP)}, "analytics": ANALYTICS},
                                headers=vm.admin, timeout=120)
    assert by_url.status_code == 200, by_url.text
    result = by_url.json()
    assert result["video_data"]["frames_count"] == 300 and result["video_data"]["frame_rate"] == 10
    events = result["analytics"][0]["result"]["crowd"]["events"]
    assert events and all(e["people_count"] >= 1 for e in events)
    uploaded = await vm.http.post("/6/videosdk", content=SAMPLE_CLIP.read_bytes(), params={"analytics": json.dumps(ANALYTICS)},
                                  headers={**vm.admin, "Content-Type": "video/mp4"}, timeout=120)
    assert uploaded.status_code == 200, uploaded.text
    assert _shape(uploaded.json()) == _shape(result)


async def test_bad_input_gets_lunas_errors(vm: Manager, tmp_path: Path) -> None:
    async def error(**request: object) -> tuple[int, int]:
        response = await vm.http.post("/6/videosdk", headers={**vm.admin, **request.pop("headers", {})}, **request)
        return response.status_code, response.json()["error_code"]

    video = {"url": str(SAMPLE_CLIP)}
    assert await error(json={"video": video, "analytics": [{"name": "face_count"}]}) == (403, 43006)
    assert await error(json={"video": video, "analytics": [{"name": "people_count", "parameters": {"probe_count": 0}}]}) == (400, 43008)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    assert await error(json={"video": {"url": str(broken)}, "analytics": ANALYTICS}) == (400, 43004)
    assert await error(content=b"\x00" * 1000, params={"analytics": json.dumps(ANALYTICS)},
                       headers={"Content-Type": "application/octet-stream"}) == (400, 43004)
    assert (await vm.http.post("/6/videosdk", json={"video": video, "analytics": ANALYTICS})).status_code == 401

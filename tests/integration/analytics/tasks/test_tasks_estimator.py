"""The estimator task end to end: a ZIP of real face photos (and one broken file) uploaded to /6/objects,
a handler run over it by the tests' task worker through the real SDK, events in chdb, face samples in
the image store; the result lists every image, and the events are the ones GET /6/events shows."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

from analytics.tasks.kinds import KINDS
from schemas.tasks import TaskType
from tests.integration.analytics.tasks.conftest import finished, resources, result, submit
from tests.integration.video_manager.conftest import Manager, new_account

pytestmark = pytest.mark.asyncio(loop_scope="session")
FACES = Path(__file__).resolve().parents[3] / "data" / "faces"
GOOD = ("astronaut.jpg", "messi.jpg", "megamind_later.jpg")
POLICIES = {"detect_policy": {"multiface_policy": 0}, "extract_policy": {"extract_face_descriptor": 1},
            "storage_policy": {"event_policy": {"store_event": 1, "wait_saving": 1}}}


def archive(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for name, data in files.items():
            out.writestr(name, data)
    return buffer.getvalue()


async def upload(api: Manager, headers: dict[str, str], data: bytes) -> str:
    response = await api.http.post("/6/objects", content=data, headers={**headers, "Content-Type": "application/zip"})
    assert response.status_code == 201, response.text
    return response.json()["object_id"]


async def handler(api: Manager, headers: dict[str, str], policies: dict[str, Any] | None = POLICIES) -> str:
    body = {"policies": policies} if policies is not None else {"handler_type": 1}
    response = await api.http.post("/6/handlers", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["handler_id"]


async def test_each_image_of_a_zip_gets_its_events_or_its_error(api: Manager) -> None:
    headers = api.admin
    files = {f"photos/{n}": (FACES / n).read_bytes() for n in GOOD} | {"photos/broken.jpg": b"\xff\xd8 not a jpeg"}
    object_id = await upload(api, headers, archive(files))
    handler_id = await handler(api, headers)
    content = {"handler": {"handler_id": handler_id}, "source": {"source_type": "zip", "reference": object_id}}
    task_id = await submit(api, "estimator", content, headers)
    task, _ = await finished(api, task_id, timeout=240)
    assert task["task_status"] == 5 and task["task_type"] == 9, task
    assert task["count_task_parts_all"] == 2  # 4 images, 2 per subtask
    images = {i["filename"]: i for i in (await result(api, task_id)).json()["result"]}
    assert sorted(images) == sorted(files)
    broken = images["photos/broken.jpg"]
    assert broken["status"] == 0 and broken["error"]["error_code"] != 0 and "event_ids" not in broken
    assert all(images[f"photos/{n}"]["status"] == 1 for n in GOOD), images
    event_ids = {n: images[f"photos/{n}"]["event_ids"] for n in GOOD}
    assert all(images[f"photos/{n}"]["status"] == 1 and len(ids) == 1 for n, ids in event_ids.items()), images
    listed = await api.http.get("/6/events", params={"handler_ids": handler_id, "page_size": 100}, headers=headers)
    assert listed.status_code == 200, listed.text
    assert {e["event_id"] for e in listed.json()["events"]} == {i for ids in event_ids.values() for i in ids}
    one = await api.http.get(f"/6/events/{event_ids['messi.jpg'][0]}", headers=headers)
    assert one.status_code == 200 and one.json()["handler_id"] == handler_id


async def test_a_redone_task_image_makes_the_same_event_ids(api: Manager) -> None:
    """Ids derive from (task id, image name): running a subtask again reuses them (no duplicate events)."""
    headers = api.admin
    object_id = await upload(api, headers, archive({"messi.jpg": (FACES / "messi.jpg").read_bytes()}))
    handler_id = await handler(api, headers)
    content = {"handler": {"handler_id": handler_id}, "source": {"source_type": "zip", "reference": object_id}}
    task_id = await submit(api, "estimator", content, headers)
    task, _ = await finished(api, task_id, timeout=240)
    assert task["task_status"] == 5, task
    first = (await result(api, task_id)).json()["result"][0]["event_ids"]
    res = resources(api)  # the kind itself runs the subtask again, as a redelivered subtask would

    stored = await res.store.task(task_id)
    assert stored is not None
    kind = KINDS[TaskType.estimator]
    subtask = (await res.store.subtasks_of(task_id))[0]
    again = await kind.run(res, stored, kind.content(stored), 0, subtask.content)
    assert again[0]["event_ids"] == first
    listed = await api.http.get("/6/events", params={"handler_ids": handler_id}, headers=headers)
    assert [e["event_id"] for e in listed.json()["events"]] == first


async def test_inline_policies_make_a_static_handler_and_a_folder_is_a_source(api: Manager, tmp_path: Path) -> None:
    headers = api.admin
    resources(api).settings.estimator_directories = [str(tmp_path)]
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "messi.jpg").write_bytes((FACES / "messi.jpg").read_bytes())
    (tmp_path / "notes.txt").write_text("skipped by the postfix")
    content = {"handler": {"policies": POLICIES},
               "source": {"source_type": "network_disk", "path": str(tmp_path), "postfix": ".jpg"}}
    task, _ = await finished(api, await submit(api, "estimator", content, headers), timeout=240)
    assert task["task_status"] == 5, task
    body = (await result(api, task["task_id"])).json()["result"]
    assert [(i["filename"], i["status"], len(i["event_ids"])) for i in body] == [("a/messi.jpg", 1, 1)]
    event = (await api.http.get(f"/6/events/{body[0]['event_ids'][0]}", headers=headers)).json()
    made = await api.http.get(f"/6/handlers/{event['handler_id']}", headers=headers)
    assert made.status_code == 200 and made.json()["handler_type"] == 0 and made.json()["description"] == "estimator task"


async def test_a_missing_handler_or_archive_is_refused_with_lunas_codes(api: Manager) -> None:
    headers, other = await new_account(api), await new_account(api)
    handler_id = await handler(api, headers)
    foreign = await upload(api, other, archive({"messi.jpg": b"x"}))
    cases = [
        ({"handler_id": "00000000-0000-4000-8000-000000000000"}, {"source_type": "zip", "reference": foreign}, 404, 34000),
        ({"handler_id": handler_id}, {"source_type": "zip", "reference": foreign}, 400, 28026),  # another account's
        ({"handler_id": handler_id}, {"source_type": "network_disk", "path": "/nonexistent/dir"}, 400, 28028),
        ({"handler_id": handler_id}, {"source_type": "network_disk", "path": "/etc"}, 400, 28028),  # not allowed
        ({"handler_id": handler_id, "policies": POLICIES}, {"source_type": "zip", "reference": foreign}, 400, 12031),
    ]
    for given, source, status, code in cases:
        response = await api.http.post("/6/tasks/estimator", json={"content": {"handler": given, "source": source}},
                                       headers=headers)
        assert (response.status_code, response.json()["error_code"]) == (status, code), (given, response.text)
    not_zip = await upload(api, headers, b"PK not really")
    response = await api.http.post("/6/tasks/estimator", headers=headers, json={"content": {
        "handler": {"handler_id": handler_id}, "source": {"source_type": "zip", "reference": not_zip}}})
    assert response.status_code == 400 and response.json()["error_code"] == 28026

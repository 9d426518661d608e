"""Task info, errors, cancellation, accounts and schedules over HTTP, with LUNA's error codes."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.integration.analytics.tasks.conftest import face, finished, resources, submit, vector
from tests.integration.video_manager.conftest import Manager, new_account
from tests.support import eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_task_errors_are_listed_counted_and_read_by_id(api: Manager) -> None:
    missing = str(uuid.uuid4())
    real = await face(api, vector((50, 0.5)))
    task_id = await submit(api, "roc", {"markup": [{"face_id": real, "label": 1}, {"face_id": missing, "label": 2}]})
    task, _ = await finished(api, task_id)
    assert task["task_status"] == 3
    [error] = (await api.http.get(f"/6/tasks/{task_id}/errors", headers=api.admin)).json()["errors"]
    assert error["error_code"] == 28023 and missing in error["detail"] and error["task_id"] == task_id
    by_filters = await api.http.get("/6/tasks/errors", params={"task_ids": str(task_id), "error_code": 28023}, headers=api.admin)
    assert [e["error_id"] for e in by_filters.json()["errors"]] == [error["error_id"]]
    count = await api.http.get("/6/tasks/errors/count", params={"task_ids": str(task_id)}, headers=api.admin)
    assert count.json() == {"count": 1}
    one = await api.http.get(f"/6/tasks/errors/{error['error_id']}", headers=api.admin)
    assert one.json() == error
    unknown = await api.http.get("/6/tasks/errors/999999999", headers=api.admin)
    assert unknown.status_code == 404 and unknown.json()["error_code"] == 28003
    no_result = await api.http.get(f"/6/tasks/{task_id}/result", headers=api.admin)
    assert no_result.status_code == 404 and no_result.json()["error_code"] == 28020


async def test_tasks_are_filtered_counted_and_invisible_to_other_accounts(api: Manager) -> None:
    ids = [await submit(api, "gc", {"filters": {"user_data": "nothing-here"}}) for _ in range(2)]
    for task_id in ids:
        await finished(api, task_id)
    listed = await api.http.get("/6/tasks", params={"task_ids": ",".join(map(str, ids)), "task_type": 4}, headers=api.admin)
    assert [t["task_id"] for t in listed.json()["tasks"]] == ids[::-1]  # newest first
    count = await api.http.get("/6/tasks/count", params={"task_ids": ",".join(map(str, ids)), "task_status": 5}, headers=api.admin)
    assert count.json() == {"count": 2}
    other = await new_account(api)
    for path in (f"/6/tasks/{ids[0]}", f"/6/tasks/{ids[0]}/result", f"/6/tasks/{ids[0]}/subtasks"):
        response = await api.http.get(path, headers=other)
        assert response.status_code == 404 and response.json()["error_code"] == 28001, path
    assert (await api.http.get("/6/tasks", params={"task_ids": str(ids[0])}, headers=other)).json() == {"tasks": []}
    assert (await api.http.delete(f"/6/tasks/{ids[0]}", headers=other)).status_code == 404
    assert (await api.http.delete(f"/6/tasks/{ids[0]}", headers=api.admin)).status_code == 204
    gone = await api.http.get(f"/6/tasks/{ids[0]}", headers=api.admin)
    assert gone.status_code == 404 and gone.json()["error_code"] == 28001


@pytest.mark.parametrize(("kind", "content", "status", "code"), [
    ("linker", {"objects_type": "events", "create_list": 1, "filters": {"list_id": str(uuid.uuid4())}}, 400, 12022),
    ("clustering", {"objects_type": "events", "filters": {"face_id__gte": str(uuid.uuid4())}}, 400, 12022),
    ("gc", {"target": "events", "filters": {"list_id": str(uuid.uuid4())}}, 400, 12022),
    ("exporter", {"objects_type": "events", "columns": ["avatar"]}, 400, 12022),
    ("exporter", {"columns": ["password"]}, 400, 12022),
    ("linker", {"create_list": 1, "list_id": str(uuid.uuid4())}, 400, 12022),
    ("cross_match", {"references": {}, "candidates": {}, "limit": 0}, 400, 12022),
    ("reporter", {"task_id": 999999999}, 404, 28001),
    ("roc", {"markup": []}, 400, 12022),
    ("gc", {"unknown": 1}, 400, 12022),
])
async def test_bad_content_gets_lunas_errors(api: Manager, kind: str, content: dict, status: int, code: int) -> None:
    response = await api.http.post(f"/6/tasks/{kind}", json={"content": content}, headers=api.admin)
    assert (response.status_code, response.json()["error_code"]) == (status, code), response.text


PARTS = 40


async def test_cancel_stops_the_remaining_subtasks(api: Manager) -> None:
    res = resources(api)
    res.settings.subtask_size = 1
    try:
        # Enough one-face subtasks that the cancel, sent at once, lands while some are still queued.
        ids = [await face(api, vector((60, 0.5)), user_data="cancel-me") for _ in range(PARTS)]
        task_id = await submit(api, "gc", {"filters": {"user_data": "cancel-me"}})
        cancel = await api.http.patch(f"/6/tasks/{task_id}", headers=api.admin)
        assert cancel.status_code == 204
    finally:
        res.settings.subtask_size = 2
    task, _ = await finished(api, task_id)
    assert task["task_status"] == 2 and task["end_time"] is not None

    async def statuses() -> list[int]:
        subtasks = (await api.http.get(f"/6/tasks/{task_id}/subtasks", headers=api.admin)).json()["subtasks"]
        return [s["subtask_status"] for s in subtasks]

    # The worker drains the skipped subtasks: each one ends done (before the cancel) or cancelled.
    ended = await eventually(statuses, lambda found: set(found) <= {2, 5}, timeout=30)
    after = (await api.http.get(f"/6/tasks/{task_id}", headers=api.admin)).json()
    assert after["count_task_parts_all"] == PARTS and ended.count(2) > 0
    assert ended.count(5) == after["count_task_parts_done"] < PARTS
    remaining = (await api.http.get("/6/faces/count", params={"user_data": "cancel-me"}, headers=api.admin)).json()
    assert 0 < remaining["faces_count"] <= len(ids)
    again = await api.http.patch(f"/6/tasks/{task_id}", headers=api.admin)
    assert again.status_code == 400 and again.json()["error_code"] == 28019


async def test_a_cron_schedule_fires_gc_tasks(api: Manager) -> None:
    body = {"task": {"task_type": 4, "content": {"filters": {"user_data": "sched"}}, "description": "every 2 s"},
            "trigger": {"cron": "* * * * * */2", "cron_timezone": "utc"}}
    created = await api.http.post("/6/tasks/schedules", json=body, headers=api.admin)
    assert created.status_code == 201, created.text
    schedule_id = created.json()["schedule_id"]
    url = f"/6/tasks/schedules/{schedule_id}"
    schedule = (await api.http.get(url, headers=api.admin)).json()
    assert schedule["status"] == "running" and schedule["next_run_time"] is not None
    for round_ in range(2):
        await face(api, vector((70, 0.5)), user_data="sched")

        async def gone() -> int:
            return (await api.http.get("/6/faces/count", params={"user_data": "sched"}, headers=api.admin)).json()["faces_count"]

        await eventually(gone, lambda n: n == 0, timeout=30)
    tasks = (await api.http.get("/6/tasks", params={"schedule_id": schedule_id, "page_size": 100}, headers=api.admin)).json()["tasks"]
    assert len(tasks) >= 2 and {t["task_type"] for t in tasks} == {4} and {t["schedule_id"] for t in tasks} == {schedule_id}
    assert set((await api.http.get(url, headers=api.admin)).json()["task_ids"]) >= {t["task_id"] for t in tasks}
    paused = await api.http.patch(url, params={"action": "pause"}, headers=api.admin)
    assert paused.status_code == 204
    await asyncio.sleep(0.5)  # a fire claimed before the pause finishes
    before = (await api.http.get("/6/tasks/count", params={"schedule_id": schedule_id}, headers=api.admin)).json()["count"]
    await asyncio.sleep(3)
    after = (await api.http.get("/6/tasks/count", params={"schedule_id": schedule_id}, headers=api.admin)).json()["count"]
    assert after == before and (await api.http.get(url, headers=api.admin)).json()["status"] == "stopped"
    other = await new_account(api)
    assert (await api.http.get(url, headers=other)).json()["error_code"] == 28040
    bad = await api.http.post("/6/tasks/schedules", json={**body, "trigger": {"cron": "every day"}}, headers=api.admin)
    assert bad.status_code == 400 and bad.json()["error_code"] == 12022
    assert (await api.http.delete(url, headers=api.admin)).status_code == 204
    assert (await api.http.get(url, headers=api.admin)).status_code == 404

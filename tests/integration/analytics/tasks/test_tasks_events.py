"""Events as the source of gc and exporter: events saved over HTTP (warehouse rows in chdb, face
descriptors in Milvus Lite), the tasks over the real broker to the tests' task worker."""

from __future__ import annotations

import csv
import io
import uuid
import zipfile
from typing import Any

import numpy as np
import pytest

from schemas.descriptor_formats import encode_raw
from schemas.tasks import EVENT_COLUMNS
from tests.integration.analytics.tasks.conftest import face, finished, result, submit, vector
from tests.integration.video_manager.conftest import Manager, new_account

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def event(api: Manager, v: np.ndarray, **fields: Any) -> str:
    descriptor = {"descriptor": encode_raw(v), "descriptor_version": 1001}
    response = await api.http.post("/6/events/raw", json={"face_attributes": {"descriptor": descriptor}, **fields},
                                   headers=api.admin)
    assert response.status_code == 201, response.text
    return response.json()["event_id"]


async def listed(api: Manager, **params: Any) -> set[str]:
    response = await api.http.get("/6/events", params={"page_size": 100, **params}, headers=api.admin)
    assert response.status_code == 200, response.text
    return {e["event_id"] for e in response.json()["events"]}


async def candidates(api: Manager, reference: str, source: str) -> set[str]:
    body = {"references": [{"type": "face", "id": reference}],
            "candidates": [{"filters": {"origin": "events", "sources": [source]}, "limit": 100, "threshold": 0.5}]}
    response = await api.http.post("/6/matcher/faces", json=body, headers=api.admin)
    assert response.status_code == 200, response.text
    return {r["event"]["event_id"] for r in response.json()[0]["matches"][0]["result"]}


async def test_gc_deletes_exactly_the_matching_events_and_their_descriptors(api: Manager) -> None:
    source = f"gc-{uuid.uuid4().hex[:8]}"
    v = vector((7, 0.6))
    doomed = {await event(api, v, source=source, user_data="old") for _ in range(5)}
    kept = {await event(api, v, source=source, user_data="new") for _ in range(2)}
    reference = await face(api, v)
    assert await candidates(api, reference, source) == doomed | kept
    task_id = await submit(api, "gc", {"target": "events", "filters": {"sources": [source], "user_data": "old"}})
    task, _ = await finished(api, task_id)
    assert task["task_status"] == 5 and task["count_task_parts_all"] == 3  # 5 events, 2 per subtask
    body = (await result(api, task_id)).json()
    assert body["errors"] == [] and body["result"]["removed_events"] == 5
    assert sorted(body["result"]["event_ids"]) == sorted(doomed)  # each once
    assert await listed(api, sources=source) == kept
    for event_id in doomed:
        assert (await api.http.get(f"/6/events/{event_id}", headers=api.admin)).status_code == 404
    assert await candidates(api, reference, source) == kept
    # Run again: nothing left to match, nothing else touched.
    again, _ = await finished(api, await submit(api, "gc", {"target": "events", "filters": {"sources": [source],
                                                                                            "user_data": "old"}}))
    assert (await result(api, again["task_id"])).json()["result"]["removed_events"] == 0
    assert await listed(api, sources=source) == kept


async def test_gc_of_events_never_reaches_another_accounts_events(api: Manager) -> None:
    source = f"gc-{uuid.uuid4().hex[:8]}"
    mine = await event(api, vector((8, 0.5)), source=source)
    headers = await new_account(api)
    task_id = await submit(api, "gc", {"target": "events", "filters": {"event_ids": [mine]}}, headers=headers)
    task, _ = await finished(api, task_id, headers=headers)
    response = await api.http.get(f"/6/tasks/{task_id}/result", headers=headers)
    assert task["task_status"] == 5 and response.json()["result"]["removed_events"] == 0
    assert await listed(api, sources=source) == {mine}


async def test_exporter_writes_one_row_per_matching_event_with_lunas_event_columns(api: Manager) -> None:
    source = f"exp-{uuid.uuid4().hex[:8]}"
    ids = {await event(api, vector((9, 0.5)), source=source, external_id=f"e{i}", tags=["t"]) for i in range(3)}
    await event(api, vector((9, 0.5)), source=source, external_id="untagged")
    content = {"objects_type": "events", "filters": {"sources": [source], "tags": ["t"]}, "csv_delimiter": ";"}
    task, _ = await finished(api, await submit(api, "exporter", content))
    assert task["task_status"] == 5 and task["count_task_parts_all"] == 2
    archive = zipfile.ZipFile(io.BytesIO((await result(api, task["task_id"])).content))
    rows = list(csv.reader(io.StringIO(archive.read("events.csv").decode()), delimiter=";"))
    assert rows[0] == list(EVENT_COLUMNS)
    assert len(rows) == 4 and {r[0] for r in rows[1:]} == ids  # one row per event, none twice
    column = {name: i for i, name in enumerate(rows[0])}
    assert sorted(r[column["external_id"]] for r in rows[1:]) == ["e0", "e1", "e2"]
    assert {r[column["source"]] for r in rows[1:]} == {source} and {r[column["tags"]] for r in rows[1:]} == {"t"}
    chosen = {**content, "columns": ["external_id", "event_id"]}
    task, _ = await finished(api, await submit(api, "exporter", chosen))
    archive = zipfile.ZipFile(io.BytesIO((await result(api, task["task_id"])).content))
    rows = list(csv.reader(io.StringIO(archive.read("events.csv").decode()), delimiter=";"))
    assert rows[0] == ["external_id", "event_id"] and {r[1] for r in rows[1:]} == ids

"""Events as the source of tasks (gc, exporter, clustering with its reporter, cross-match, linker): events saved over HTTP (warehouse rows in chdb, face
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
from tests.integration.analytics.tasks.conftest import dlib_similarity, face, finished, result, submit, vector
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


async def test_clustering_of_events_and_its_report_name_events(api: Manager) -> None:
    source = f"cl-{uuid.uuid4().hex[:8]}"
    people = {"a": [vector((50, 0.5)), vector((50, 0.5), (51, 0.1))], "b": [vector((52, 0.5))]}
    members = {p: {await event(api, v, source=source, user_data=p) for v in vs} for p, vs in people.items()}
    bare = await api.http.post("/6/events/raw", json={"source": source}, headers=api.admin)
    assert bare.status_code == 201  # an event without a descriptor: left out
    content = {"objects_type": "events", "filters": {"sources": [source]}, "threshold": 0.8}
    task, _ = await finished(api, await submit(api, "clustering", content))
    clustered = (await result(api, task["task_id"])).json()["result"]
    assert [set(c) for c in clustered["clusters"]] == [members["a"], members["b"]] and clustered["total_objects"] == 3
    report, _ = await finished(api, await submit(api, "reporter", {"task_id": task["task_id"], "columns": ["user_data", "source"]}))
    archive = zipfile.ZipFile(io.BytesIO((await result(api, report["task_id"])).content))
    rows = list(csv.reader(io.StringIO(archive.read("report.csv").decode())))
    assert rows[0] == ["cluster_id", "event_id", "user_data", "source"]
    assert sorted(rows[1:]) == sorted([["1", e, "a", source] for e in members["a"]] + [["2", e, "b", source] for e in members["b"]])
    refused = await api.http.post("/6/tasks/reporter", json={"content": {"task_id": task["task_id"], "columns": ["lists"]}},
                                  headers=api.admin)
    assert refused.status_code == 400 and refused.json()["error_code"] == 28014  # a face column, not an event's


async def test_cross_match_of_events_against_faces(api: Manager) -> None:
    source = f"xm-{uuid.uuid4().hex[:8]}"
    refs = {"r0": vector((60, 0.5)), "r1": vector((61, 0.5))}
    cands = {"c0": vector((60, 0.5), (62, 0.1)), "c1": vector((61, 0.5), (62, 0.2))}
    ref_ids = {await event(api, v, source=source): k for k, v in refs.items()}
    cand_ids = {await face(api, v, user_data=f"{source}-cand"): k for k, v in cands.items()}
    content = {"references": {"objects_type": "events", "filters": {"sources": [source]}},
               "candidates": {"filters": {"user_data": f"{source}-cand"}}, "limit": 1, "threshold": 0.5}
    task, _ = await finished(api, await submit(api, "cross_match", content))
    assert task["task_status"] == 5 and task["count_task_parts_all"] == 2  # one reference per subtask
    got = {ref_ids[m["reference_id"]]: [(cand_ids[c["candidate_id"]], round(c["similarity"], 5)) for c in m["candidates"]]
           for m in (await result(api, task["task_id"])).json()["result"]}
    assert got == {"r0": [("c0", round(dlib_similarity(refs["r0"], cands["c0"]), 5))],
                   "r1": [("c1", round(dlib_similarity(refs["r1"], cands["c1"]), 5))]}
    # Events as candidates too: each event's best match among the others is itself.
    both = {**content, "candidates": {"objects_type": "events", "filters": {"sources": [source]}}}
    task, _ = await finished(api, await submit(api, "cross_match", both))
    assert {m["reference_id"]: m["candidates"][0]["candidate_id"] for m in (await result(api, task["task_id"])).json()["result"]} \
        == {e: e for e in ref_ids}


async def test_linker_makes_one_face_per_event_and_again_makes_none(api: Manager) -> None:
    source = f"ln-{uuid.uuid4().hex[:8]}"
    events = {await event(api, vector((70, 0.5), (71, 0.1 * i)), source=source, external_id=f"x{i}", user_data="seen")
              for i in range(3)}
    bare = await api.http.post("/6/events/raw", json={"source": source}, headers=api.admin)
    assert bare.status_code == 201  # an event without a descriptor: no face
    content = {"objects_type": "events", "filters": {"sources": [source]}, "create_list": 1}
    task, _ = await finished(api, await submit(api, "linker", content))
    linked = (await result(api, task["task_id"])).json()["result"]
    assert task["task_status"] == 5 and linked["linked_faces_count"] == 3
    list_id = linked["list_id"]
    faces = (await api.http.get("/6/faces", params={"list_id": list_id, "page_size": 100}, headers=api.admin)).json()["faces"]
    assert {f["event_id"] for f in faces} == events and {f["external_id"] for f in faces} == {"x0", "x1", "x2"}
    # Linked again, to the same list: the same faces, none made twice.
    again, _ = await finished(api, await submit(api, "linker", {**content, "create_list": 0, "list_id": list_id}))
    assert set((await result(api, again["task_id"])).json()["result"]["face_ids"]) == {f["face_id"] for f in faces}
    count = await api.http.get("/6/faces/count", params={"event_id": sorted(events)[0]}, headers=api.admin)
    assert count.status_code == 200 and count.json()["faces_count"] == 1
    # The new faces match like any other: an event's descriptor finds its own face.
    reference = {"references": [{"type": "face", "id": faces[0]["face_id"]}],
                 "candidates": [{"filters": {"list_id": list_id}, "limit": 1}]}
    matched = (await api.http.post("/6/matcher/faces", json=reference, headers=api.admin)).json()
    assert matched[0]["matches"][0]["result"][0]["face"]["face_id"] == faces[0]["face_id"]

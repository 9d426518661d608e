"""Each task type end to end: submit over HTTP, the subtasks over the real broker to a task worker, the
faces in Milvus Lite, task state in Redis, the result from the task-result bucket; every answer is
checked against one worked out by hand on a few faces whose descriptors are built for it."""

from __future__ import annotations

import csv
import io
import itertools
import uuid
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.integration.analytics.tasks.conftest import dlib_similarity, face, finished, resources, result, submit, vector
from tests.integration.video_manager.conftest import Manager

pytestmark = pytest.mark.asyncio(loop_scope="session")
JPEG = (Path(__file__).resolve().parents[3] / "data" / "faces" / "messi.jpg").read_bytes()


async def faces_with(api: Manager, user_data: str) -> set[str]:
    response = await api.http.get("/6/faces", params={"user_data": user_data, "page_size": 100}, headers=api.admin)
    assert response.status_code == 200, response.text
    return {f["face_id"] for f in response.json()["faces"]}


async def test_gc_deletes_the_selected_faces_in_several_subtasks(api: Manager) -> None:
    old = {await face(api, vector((i, 0.5)), user_data="gc-old") for i in range(5)}
    kept = {await face(api, vector((i, 0.5)), user_data="gc-kept") for i in range(2)}
    task_id = await submit(api, "gc", {"target": "faces", "filters": {"user_data": "gc-old"}})
    task, progress = await finished(api, task_id)
    assert task["task_status"] == 5 and task["task_type"] == 4
    assert task["count_task_parts_all"] == 3  # 5 faces, 2 per subtask
    assert progress[-1] == (3, 3) and all(done <= total for done, total in progress)
    body = (await result(api, task_id)).json()
    assert body["errors"] == [] and body["result"]["removed_faces"] == 5
    assert sorted(body["result"]["face_ids"]) == sorted(old)
    assert await faces_with(api, "gc-old") == set() and await faces_with(api, "gc-kept") == kept
    subtasks = (await api.http.get(f"/6/tasks/{task_id}/subtasks", headers=api.admin)).json()["subtasks"]
    assert [s["index"] for s in subtasks] == [0, 1, 2] and {s["subtask_status"] for s in subtasks} == {5}


async def test_exporter_writes_lunas_columns_with_the_delimiter_and_the_images(api: Manager) -> None:
    res = resources(api)
    account = uuid.UUID((await api.http.get("/6/account", headers=api.admin)).json()["account_id"])
    sample = await api.context.samples.put(account, "faces", JPEG)  # type: ignore[union-attr]
    ids = {await face(api, vector((3, 0.4)), user_data="exp", external_id=f"x{i}",
                      avatar=f"/6/samples/faces/{sample}" if i == 0 else "") for i in range(3)}
    content = {"objects_type": "faces", "filters": {"user_data": "exp"}, "columns": ["face_id", "external_id", "user_data"],
               "csv_delimiter": ";", "save_images": 1}
    task, _ = await finished(api, await submit(api, "exporter", content))
    assert task["task_status"] == 5 and task["count_task_parts_all"] == 2
    response = await result(api, task["task_id"])
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    rows = list(csv.reader(io.StringIO(archive.read("faces.csv").decode()), delimiter=";"))
    assert rows[0] == ["face_id", "external_id", "user_data"]
    assert len(rows) == 4 and {r[0] for r in rows[1:]} == ids  # one row per face, none twice
    assert sorted(r[1] for r in rows[1:]) == ["x0", "x1", "x2"] and {r[2] for r in rows[1:]} == {"exp"}
    [image] = [n for n in archive.namelist() if n.startswith("images/")]
    assert archive.read(image) == JPEG
    assert res.settings.subtask_size == 2


async def test_linker_attaches_by_filters_and_again_changes_nothing(api: Manager) -> None:
    ids = {await face(api, vector((5, 0.5)), user_data="link") for _ in range(3)}
    task, _ = await finished(api, await submit(api, "linker", {"filters": {"user_data": "link"}, "create_list": 1,
                                                               "list_user_data": "linked"}))
    linked = (await result(api, task["task_id"])).json()["result"]
    assert set(linked["face_ids"]) == ids and linked["linked_faces_count"] == 3
    list_id = linked["list_id"]
    again, _ = await finished(api, await submit(api, "linker", {"filters": {"user_data": "link"}, "list_id": list_id}))
    assert again["task_status"] == 5
    faces = (await api.http.get("/6/faces", params={"list_id": list_id}, headers=api.admin)).json()["faces"]
    assert {f["face_id"] for f in faces} == ids and all(f["lists"] == [list_id] for f in faces)
    missing = await api.http.post("/6/tasks/linker", json={"content": {"list_id": str(uuid.uuid4())}}, headers=api.admin)
    assert missing.status_code == 404 and missing.json()["error_code"] == 11020


async def test_cross_match_keeps_the_limit_best_above_the_threshold(api: Manager) -> None:
    refs = {"r0": vector((10, 0.5)), "r1": vector((11, 0.5))}
    cands = {"c0": vector((10, 0.5), (12, 0.1)), "c1": vector((10, 0.5), (12, 0.2)), "c2": vector((10, 0.5), (12, 0.3)),
             "c3": vector((11, 0.5), (12, 0.1))}
    ref_ids = {await face(api, v, user_data="xm-ref", external_id=k): k for k, v in refs.items()}
    cand_ids = {await face(api, v, user_data="xm-cand", external_id=k): k for k, v in cands.items()}
    content = {"references": {"filters": {"user_data": "xm-ref"}}, "candidates": {"filters": {"user_data": "xm-cand"}},
               "limit": 2, "threshold": 0.5}
    task, _ = await finished(api, await submit(api, "cross_match", content))
    assert task["task_status"] == 5 and task["count_task_parts_all"] == 2  # one reference per subtask
    got = {ref_ids[m["reference_id"]]: [(cand_ids[c["candidate_id"]], round(c["similarity"], 5)) for c in m["candidates"]]
           for m in (await result(api, task["task_id"])).json()["result"]}
    expected = {}
    for name, r in refs.items():
        scored = sorted(((dlib_similarity(r, c), k) for k, c in cands.items()), reverse=True)[:2]
        expected[name] = [(k, round(s, 5)) for s, k in scored if s >= 0.5]
    assert got == expected
    assert got["r1"] == [("c3", round(1 - 0.1 / 1.2, 5))]  # c0..c2 are 0.71+ away from r1: under 0.5


async def test_cross_match_reads_the_candidates_once_per_task(api: Manager, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(3):
        await face(api, vector((13, 0.5), (14, 0.1 * i)), user_data="xm-once-ref")
    await face(api, vector((13, 0.5)), user_data="xm-once-cand")
    store = resources(api).recognition.store
    read_for: list[str | None] = []
    query = store.query

    async def counted(account_id: Any, filters: Any, **kwargs: Any) -> Any:
        read_for.append(filters.user_data)
        return await query(account_id, filters, **kwargs)

    monkeypatch.setattr(store, "query", counted)
    content = {"references": {"filters": {"user_data": "xm-once-ref"}},
               "candidates": {"filters": {"user_data": "xm-once-cand"}}, "limit": 1}
    task, _ = await finished(api, await submit(api, "cross_match", content))
    assert task["task_status"] == 5 and task["count_task_parts_all"] == 3
    matched = (await result(api, task["task_id"])).json()["result"]
    assert len(matched) == 3 and all(len(m["candidates"]) == 1 for m in matched)
    assert read_for.count("xm-once-cand") == 1  # three subtasks, one read of the candidates


async def test_clustering_finds_the_connected_components(api: Manager) -> None:
    people = {  # within a person at most 0.2 apart (similarity >= 0.83), across people 0.7+ (<= 0.41)
        "a": [vector((20, 0.5)), vector((20, 0.5), (30, 0.1)), vector((20, 0.5), (30, 0.2))],
        "b": [vector((21, 0.5)), vector((21, 0.5), (31, 0.15))],
        "c": [vector((22, 0.5))],
    }
    members = {p: {await face(api, v, user_data="cluster") for v in vs} for p, vs in people.items()}
    for p, q in itertools.combinations(people, 2):
        assert max(dlib_similarity(x, y) for x in people[p] for y in people[q]) < 0.8
    task, _ = await finished(api, await submit(api, "clustering", {"filters": {"user_data": "cluster"}, "threshold": 0.8}))
    clustered = (await result(api, task["task_id"])).json()["result"]
    assert clustered["total_objects"] == 6 and clustered["total_clusters"] == 3
    assert [set(c) for c in clustered["clusters"]] == [members["a"], members["b"], members["c"]]
    # The reporter: the clusters as CSV rows (cluster number, face id, columns) in a ZIP.
    report, _ = await finished(api, await submit(api, "reporter", {"task_id": task["task_id"], "columns": ["user_data"]}))
    archive = zipfile.ZipFile(io.BytesIO((await result(api, report["task_id"])).content))
    rows = list(csv.reader(io.StringIO(archive.read("report.csv").decode())))
    assert rows[0] == ["cluster_id", "face_id", "user_data"]
    by_cluster: dict[str, set[str]] = {}
    for number, face_id, user_data in rows[1:]:
        assert user_data == "cluster"
        by_cluster.setdefault(number, set()).add(face_id)
    assert by_cluster == {"1": members["a"], "2": members["b"], "3": members["c"]}
    refused = await api.http.post("/6/tasks/reporter", json={"content": {"task_id": report["task_id"]}}, headers=api.admin)
    assert refused.status_code == 400 and refused.json()["error_code"] == 28013
    empty, _ = await finished(api, await submit(api, "clustering", {"filters": {"user_data": "nobody"}}))
    assert empty["task_status"] == 3
    errors = (await api.http.get(f"/6/tasks/{empty['task_id']}/errors", headers=api.admin)).json()["errors"]
    assert [e["error_code"] for e in errors] == [28010]


async def test_roc_from_labelled_faces(api: Manager) -> None:
    labelled = [("p", vector((40, 0.5))), ("p", vector((40, 0.5), (41, 0.3))), ("q", vector((42, 0.5))),
                ("q", vector((42, 0.5), (43, 0.4))), ("r", vector((40, 0.5), (41, 0.5)))]
    ids = [await face(api, v, user_data="roc") for _, v in labelled]
    markup = [{"face_id": i, "label": label} for i, (label, _) in zip(ids, labelled)]
    task, _ = await finished(api, await submit(api, "roc", {"markup": markup, "limit": 2}))
    assert task["task_status"] == 5, task
    curve = (await result(api, task["task_id"])).json()["result"]
    # By hand: AUC = share of (positive, negative) pairs where the positive pair is the more similar.
    pairs = [(labelled[i][0] == labelled[j][0], dlib_similarity(labelled[i][1], labelled[j][1]))
             for i, j in itertools.combinations(range(5), 2)]
    positives, negatives = [s for same, s in pairs if same], [s for same, s in pairs if not same]
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    assert curve["auc"] == pytest.approx(wins / (len(positives) * len(negatives)))
    assert (curve["positive_pairs"], curve["negative_pairs"]) == (2, 8)
    assert curve["roc_curve"][-1]["fpr"] == 1.0 and curve["roc_curve"][-1]["tpr"] == 1.0
    # Top-1 by hand: face 1's nearest is r (0.2 away) not p (0.3 away); the others' nearest share their label.
    assert curve["top_n"][0]["hit_probability"] == pytest.approx(3 / 4)
    assert curve["top_n"][1]["hit_probability"] == 1.0

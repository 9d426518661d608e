"""The Tasks service at scale (issue 13): each task with 1 and then 2 task workers in the same run, the
speed-up, and a baseline that does the same work without the task machinery.

- gc of N events (``--events``) against one raw ``DELETE`` of the same rows;
- cross-match of R references x C candidates (``--refs``, ``--faces``) against an exact numpy top-k
  (matmul) over the same descriptors in memory;
- clustering of C descriptors (the candidates) against scikit-learn's DBSCAN over the same array;
- export of N events against a raw ``SELECT`` of the same rows and columns.

The issue's sizes are ``--events 1000000 --refs 10000 --faces 100000``; the defaults are ten times
smaller. Each task runs from its submission (planning included) until it is done, over a Tansu broker,
redis-server, chdb and Milvus Lite of the bench's own. Milvus Lite and chdb admit one process each, so
both workers are members of one consumer group in this process (as the API runs its worker beside Lite):
they overlap on store I/O, not on Python CPU. Events are rows without descriptors.
Run: `python -m bench.tasks [--events N] [--refs R] [--faces C]`.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import tempfile
import time
import uuid
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import redis.asyncio as aioredis
from sklearn.cluster import DBSCAN

from analytics.events.chdb_warehouse import ChdbWarehouse
from analytics.events.luna_event_store import LunaEventStore
from analytics.events.setup import open_warehouse
from analytics.images.backend import open_image_store
from analytics.recognition.event_descriptors import EventArchive, EventDescriptorStore
from analytics.recognition.face_store import FaceStore, StoredFace
from analytics.recognition.milvus import open_milvus
from analytics.recognition.service import Recognition, open_lists
from analytics.tasks.kinds import KINDS
from analytics.tasks.publisher import SubtaskPublisher
from analytics.tasks.resources import Resources
from analytics.tasks.results import Results
from analytics.tasks.service import Tasks
from analytics.tasks.similarity import cutoff
from analytics.tasks.store import TaskStore
from analytics.tasks.worker import TaskWorker
from bench.common import record, scratch_processes, table
from infra.kafka import ensure_topics
from infra.settings import CommonSettings, ImageStoreSettings, MilvusSettings, TasksSettings, WarehouseSettings
from schemas.descriptors import FACE_DLIB_RESNET_128
from schemas.tasks import Task, TaskStatus, TaskType

DIM = 128
PEOPLE_SHARE = 5  # candidates per person: clustering and cross-match have real neighbours to find
NOISE = 0.03  # per axis: faces of one person lie some 0.34 apart (similarity ~0.7), other people ~1.4 (0)
LIMIT = 3  # cross-match candidates per reference
THRESHOLD = 0.5  # clustering's similarity threshold
PREFIX = "bench:tasks"
FINISHED = {TaskStatus.done, TaskStatus.failed, TaskStatus.cancelled}


@dataclass
class Stack:
    res: Resources
    tasks: Tasks
    bootstrap: str
    warehouse: ChdbWarehouse
    account: uuid.UUID


@asynccontextmanager
async def stack(workdir: Path) -> AsyncIterator[Stack]:
    with scratch_processes(workdir) as (broker, redis_settings):
        await ensure_topics(broker.bootstrap, broker.topic_partitions)
        warehouse = await open_warehouse(WarehouseSettings(path=workdir / "ch", database="bench"), CommonSettings())
        assert isinstance(warehouse, ChdbWarehouse)
        milvus = open_milvus(MilvusSettings(uri=str(workdir / "milvus.db")))
        client = aioredis.from_url(redis_settings.url)
        images = open_image_store(ImageStoreSettings(root=workdir / "images"), workdir)
        await images.start()
        collections = MilvusSettings()
        events = EventArchive(LunaEventStore(warehouse), EventDescriptorStore(milvus, collections),
                              EventDescriptorStore(milvus, collections, kind="body"))
        recognition = Recognition(FaceStore(milvus, collections), open_lists(client, PREFIX), events)
        res = Resources(recognition, images.images.storage, TaskStore(client, PREFIX), TasksSettings())
        publisher = SubtaskPublisher(broker.bootstrap)
        await publisher.start()
        tasks = Tasks(res, publisher)
        await tasks.start()
        try:
            yield Stack(res, tasks, broker.bootstrap, warehouse, uuid.uuid4())
        finally:
            await publisher.stop()
            await images.stop()
            await client.aclose()
            recognition.close()
            milvus.close()
            await warehouse.stop()


async def run_task(s: Stack, workers: int, task_type: TaskType, content: dict[str, Any]) -> tuple[float, Task]:
    """Seconds from submission until done with ``workers`` members of the task workers' group, and the task."""
    members = [TaskWorker(s.bootstrap, f"{PREFIX}-workers", s.res) for _ in range(workers)]
    for member in members:
        await member.start()
    try:
        for member in members:  # every member has its partitions: the group does not rebalance mid-task
            await member.hold_positions()
        kind_content = _kind_content(task_type, content)
        started = time.perf_counter()
        task = await s.tasks.create(s.account, task_type, kind_content)
        while (current := await s.res.store.task(task.task_id)) is not None and current.task_status not in FINISHED:
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
    finally:
        for member in members:
            await member.stop()
    assert current is not None and current.task_status == TaskStatus.done, current
    return elapsed, current


def _kind_content(task_type: TaskType, content: dict[str, Any]) -> Any:
    return KINDS[task_type].content_model.model_validate(content)


async def result_of(s: Stack, task: Task) -> Any:
    return await Results(s.res.storage).json(task)


# ---- data ---------------------------------------------------------------------------------------------
async def fill_events(s: Stack, n: int) -> None:
    db = s.warehouse.database
    await s.warehouse.execute(
        f"INSERT INTO {db}.luna_events (event_id, account_id, create_time, end_time, external_id, user_data, "
        "source, tags, has_tags, face_descriptor, body_descriptor) "
        f"SELECT generateUUIDv4(), toUUID('{s.account}'), now64(3) - toIntervalMillisecond(number), "
        "now64(3) - toIntervalMillisecond(number), concat('ext-', toString(number)), 'bench', 'camera', [], 0, [], [] "
        f"FROM numbers({n})"
    )


async def count_events(s: Stack) -> int:
    rows = await s.warehouse.query(
        f"SELECT count() AS n FROM {s.warehouse.database}.luna_events FINAL WHERE account_id = '{s.account}'")
    return int(rows[0]["n"])


def descriptors(rng: np.random.Generator, people: np.ndarray, n: int) -> np.ndarray:
    """``n`` faces of the given people (row i of person i % len(people)), each near its person's centre."""
    noisy = people[np.arange(n) % len(people)] + rng.normal(0, NOISE, (n, DIM)).astype(np.float32)
    return noisy.astype(np.float32)


async def fill_faces(s: Stack, vectors: np.ndarray, tag: str) -> None:
    created = datetime.now(UTC)
    faces = [StoredFace(uuid.uuid4(), s.account, None, tag, "", None, created, [], FACE_DLIB_RESNET_128,
                        [float(x) for x in v]) for v in vectors]
    for start in range(0, len(faces), 5000):
        await s.res.recognition.store.insert(*faces[start : start + 5000])


# ---- baselines -----------------------------------------------------------------------------------------
def numpy_top_k(refs: np.ndarray, candidates: np.ndarray, k: int) -> np.ndarray:
    """Exact top-k by Euclidean distance, the squared distance from one matmul per block of references."""
    norms = (candidates**2).sum(axis=1)
    out = []
    for start in range(0, len(refs), 1000):
        block = refs[start : start + 1000]
        d2 = norms[None, :] - 2 * block @ candidates.T
        top = np.argpartition(d2, k - 1, axis=1)[:, :k]
        out.append(np.take_along_axis(top, np.argsort(np.take_along_axis(d2, top, axis=1), axis=1), axis=1))
    return np.concatenate(out)


async def timed(fn: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = await fn()
    return time.perf_counter() - started, value


# ---- the four tasks ------------------------------------------------------------------------------------
TASKS = ("gc", "export", "cross_match", "clustering")
EVENTS = {"objects_type": "events", "filters": {}}


async def bench_gc(s: Stack, n: int) -> list[str]:
    times = []
    for workers in (1, 2):
        await fill_events(s, n)
        elapsed, task = await run_task(s, workers, TaskType.gc, {"target": "events", "filters": {}})
        removed = (await result_of(s, task))["removed_events"]
        assert removed == n and await count_events(s) == 0, (removed, n)
        times.append(elapsed)
    await fill_events(s, n)
    raw, _ = await timed(lambda: s.warehouse.execute(
        f"DELETE FROM {s.warehouse.database}.luna_events WHERE account_id = '{s.account}'"))
    assert await count_events(s) == 0
    return row(f"gc of {n:,} events", times, "one raw DELETE", raw)


async def bench_export(s: Stack, n: int) -> list[str]:
    await fill_events(s, n)
    times = []
    for workers in (1, 2):
        elapsed, task = await run_task(s, workers, TaskType.exporter, EVENTS)
        result = await Results(s.res.storage).result(task)
        assert result is not None
        with zipfile.ZipFile(io.BytesIO(result.data)) as archive:
            lines = archive.read("events.csv").count(b"\n")
        assert lines == n + 1, (lines, n)
        times.append(elapsed)
    store = s.res.recognition.events.store if s.res.recognition.events else None
    assert store is not None
    raw, rows = await timed(lambda: s.warehouse.query(
        f"SELECT {store.COLUMNS} FROM {store.table} FINAL WHERE account_id = '{s.account}' ORDER BY event_id"))
    assert len(rows) == n
    await s.warehouse.execute(f"DELETE FROM {s.warehouse.database}.luna_events WHERE account_id = '{s.account}'")
    return row(f"export of {n:,} events", times, "raw SELECT of the rows", raw)


async def bench_cross_match(s: Stack, refs: np.ndarray, candidates: np.ndarray) -> list[str]:
    s.res.settings.cross_match_general_limit = max(s.res.settings.cross_match_general_limit, len(refs) * len(candidates))
    content = {"references": {"filters": {"user_data": "ref"}}, "candidates": {"filters": {"user_data": "cand"}},
               "limit": LIMIT, "threshold": 0.0}
    times = []
    for workers in (1, 2):
        elapsed, task = await run_task(s, workers, TaskType.cross_match, content)
        matched = await result_of(s, task)
        assert len(matched) == len(refs) and all(len(m["candidates"]) == LIMIT for m in matched)
        times.append(elapsed)
    raw, top = await timed(lambda: asyncio.to_thread(numpy_top_k, refs, candidates, LIMIT))
    assert top.shape == (len(refs), LIMIT)
    return row(f"cross-match {len(refs):,} x {len(candidates):,}", times, "numpy matmul top-k in memory", raw)


async def bench_clustering(s: Stack, candidates: np.ndarray) -> list[str]:
    content = {"filters": {"user_data": "cand"}, "threshold": THRESHOLD}
    times, clusters = [], 0
    for workers in (1, 2):
        elapsed, task = await run_task(s, workers, TaskType.clustering, content)
        found = await result_of(s, task)
        assert found["total_objects"] == len(candidates)
        clusters = found["total_clusters"]
        times.append(elapsed)
    eps = cutoff(THRESHOLD, FACE_DLIB_RESNET_128)
    raw, labels = await timed(lambda: asyncio.to_thread(
        lambda: DBSCAN(eps=eps, min_samples=1, metric="euclidean").fit(candidates).labels_))
    assert len(set(labels.tolist())) == clusters, (len(set(labels.tolist())), clusters)
    return row(f"clustering of {len(candidates):,}", times, "DBSCAN over the array in memory", raw)


def row(what: str, times: list[float], baseline: str, raw: float) -> list[str]:
    one, two = times
    return [what, f"{one:.2f}", f"{two:.2f}", f"{one / two:.2f}", f"{baseline}: {raw:.2f}", f"{raw / one:.2f}"]


async def main(events: int, refs: int, faces: int, only: set[str]) -> None:
    rng = np.random.default_rng(13)
    people = rng.normal(0, 1, (max(1, faces // PEOPLE_SHARE), DIM)).astype(np.float32)
    people /= np.linalg.norm(people, axis=1, keepdims=True)
    candidates, references = descriptors(rng, people, faces), descriptors(rng, people[::-1], refs)
    with tempfile.TemporaryDirectory() as tmp:
        async with stack(Path(tmp)) as s:
            rows = []
            if "gc" in only:
                rows.append(await bench_gc(s, events))
            if "export" in only:
                rows.append(await bench_export(s, events))
            fill = time.perf_counter()
            if {"cross_match", "clustering"} & only:
                await fill_faces(s, candidates, "cand")
                await fill_faces(s, references, "ref")
            filled = time.perf_counter() - fill
            if "cross_match" in only:
                rows.append(await bench_cross_match(s, references, candidates))
            if "clustering" in only:
                rows.append(await bench_clustering(s, candidates))
    record("Tasks at scale (bench/tasks.py)", table(
        ["task", "1 worker s", "2 workers s", "speed-up", "baseline s", "baseline / 1 worker"], rows),
        f"Sizes: --events {events} --refs {refs} --faces {faces} (issue 13: 1000000, 10000, 100000). Both workers "
        "share this process (Milvus Lite and chdb admit one each), so they overlap on store I/O only. Times run "
        "from submission to done. Events carry no descriptors; faces are 128-D (version 1001), "
        f"{PEOPLE_SHARE} per person; inserting the faces took {filled:.1f} s.")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000, help="events for gc and export (issue: 1000000)")
    parser.add_argument("--refs", type=int, default=1_000, help="cross-match references (issue: 10000)")
    parser.add_argument("--faces", type=int, default=10_000,
                        help="cross-match candidates and clustering descriptors (issue: 100000)")
    parser.add_argument("--tasks", default=",".join(TASKS), help=f"a comma-separated subset of {','.join(TASKS)}")
    args = parser.parse_args()
    asyncio.run(main(args.events, args.refs, args.faces, set(args.tasks.split(","))))

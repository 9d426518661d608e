"""`POST /6/matcher/faces` and `POST /6/matcher/raw` end to end at scale, against baselines in the same run.

The API runs in a child process (so the clients do not share its loop) with the recognition service over a
Milvus server (or Milvus Lite: --engine lite) holding N clustered 128-D faces (dlib's version 1001) in one
list of the admin's account. It measures:
  - the bare store search (FaceStore.search in the API process, before serving): p50/p99, the baseline of
    what HTTP, auth, validation and the response add;
  - `/matcher/faces`, a raw-descriptor reference against the list, top 5: one client (p50/p99) and
    50 concurrent clients (QPS, p50/p99); a trivial endpoint in the same process under the same 50 clients;
  - `/matcher/raw`, one reference against 100 raw candidates (no store): 50 clients, QPS and p99.
ef is SELENE_MILVUS_HNSW_EF (measure it with `selene milvus calibrate`).
Run: `python -m bench.matcher [--faces 1000000] [--engine server|lite]`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
import uvicorn
from fastapi import FastAPI

from analytics.recognition.face_store import FaceStore, StoredFace
from analytics.recognition.milvus import open_milvus
from analytics.recognition.service import Recognition, open_lists
from bench.common import record, scratch_processes, table, wait_until_serving
from infra.health import HealthMonitor
from infra.kafka import ensure_topics
from infra.process import free_port
from infra.root import embedded
from infra.root.api import ManagerParts
from infra.root.app import ApiContext, create_api
from infra.settings import (
    BrokerSettings,
    ManagerSettings,
    MilvusSettings,
    RedisSettings,
)

DIM, K, BATCH = 128, 5, 5000
CLIENTS, REQUESTS_PER_CLIENT, SINGLE = 50, 20, 300
SETTINGS = ManagerSettings(admin_login="bench@selene", admin_password="bench-password")
AUTH = {"Authorization": "Basic " + base64.b64encode(b"bench@selene:bench-password").decode()}


def clustered(n: int, rng: np.random.Generator) -> np.ndarray:
    centres = rng.standard_normal((1000, DIM), dtype=np.float32) * 0.1
    return centres[rng.integers(0, 1000, n)] + rng.standard_normal((n, DIM), dtype=np.float32) * 0.03


def raw(vector: np.ndarray) -> dict[str, object]:
    return {"descriptor": base64.b64encode(vector.astype("<f4").tobytes()).decode(), "descriptor_version": 1001}


def quantiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49] * 1000, cuts[98] * 1000


async def serve(redis_url: str, bootstrap: str, milvus_uri: str, faces: int, port: int, trivial_port: int) -> None:
    """The child process: load the faces, time the bare store, then serve the API and a trivial endpoint."""
    prefix = f"bench:{uuid.uuid4().hex[:6]}"
    parts = ManagerParts(redis_url, bootstrap, SETTINGS, prefix=prefix)
    await parts.start()
    account_id = uuid.UUID(await parts.auth.registry.accounts.id_by_name(SETTINGS.admin_login))
    settings = MilvusSettings(uri=milvus_uri, collection_prefix=f"b{uuid.uuid4().hex[:8]}_")
    client = open_milvus(settings)
    store = FaceStore(client, settings)
    recognition = Recognition(store, open_lists(parts.redis, prefix))
    face_list = await recognition.create_list(account_id, "bench")
    rng = np.random.default_rng(7)
    data = clustered(faces, rng)
    began = time.perf_counter()
    now = datetime.now(UTC)
    for start in range(0, faces, BATCH):
        await store.insert(*[
            StoredFace(face_id=uuid.uuid4(), account_id=account_id, external_id=None, user_data="", avatar="",
                       event_id=None, create_time=now, lists=[face_list.list_id], descriptor_version=1001,
                       vector=[float(x) for x in row])
            for row in data[start : start + BATCH]
        ])
    insert_rate = faces / (time.perf_counter() - began)
    name = next(n for n in client.list_collections() if n.startswith(settings.collection_prefix))
    client.flush(name)
    while int(client.describe_index(name, "vector").get("pending_index_rows", 0)) > 0:
        await asyncio.sleep(2)
    picks = data[rng.integers(0, faces, 200)] + rng.standard_normal((200, DIM), dtype=np.float32) * 0.005
    bare = []
    for q in picks:
        t = time.perf_counter()
        await store.search(account_id, 1001, [q.tolist()], list_ids=[face_list.list_id], limit=K)
        bare.append(time.perf_counter() - t)
    Path(sys.argv[-1]).write_text(json.dumps({
        "list_id": str(face_list.list_id), "insert_rate": insert_rate, "bare": bare, "queries": picks.tolist(),
    }))
    context = ApiContext(warehouse=None, health=HealthMonitor({}, 1, 1), manager=parts.manager, auth=parts.auth,  # type: ignore[arg-type]
                         recognition=recognition)
    trivial = FastAPI()

    @trivial.post("/6/matcher/faces")
    async def match() -> list[dict[str, object]]:
        return [{"reference": {"id": "q", "type": "raw_descriptor"}, "matches": []}]

    servers = [
        uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=p, log_config=None, access_log=False))
        for app, p in ((create_api(context), port), (trivial, trivial_port))
    ]
    await asyncio.gather(*(s.serve() for s in servers))


async def load(url: str, bodies: list[dict[str, object]], clients: int, per_client: int, path: str) -> tuple[list[float], float]:
    times: list[float] = []
    async with httpx.AsyncClient(base_url=url, headers=AUTH, timeout=60,
                                 limits=httpx.Limits(max_connections=clients)) as http:
        await http.post(path, json=bodies[0])  # warm up (the first Basic login pays scrypt)

        async def client(offset: int) -> None:
            for i in range(per_client):
                t = time.perf_counter()
                response = await http.post(path, json=bodies[(offset + i) % len(bodies)])
                times.append(time.perf_counter() - t)
                assert response.status_code == 200, response.text

        began = time.perf_counter()
        await asyncio.gather(*(client(c * per_client) for c in range(clients)))
        return times, len(times) / (time.perf_counter() - began)


async def measure(workdir: Path, faces: int, engine: str) -> tuple[list[list[str]], float]:
    with scratch_processes(workdir) as (broker, redis):
        return await measure_on(workdir, broker, redis, faces, engine)


async def measure_on(
    workdir: Path, broker: BrokerSettings, redis: RedisSettings, faces: int, engine: str
) -> tuple[list[list[str]], float]:
    server = None
    if engine == "server":
        server = embedded.MilvusServerProcess(workdir / "milvus")
        server.start()
        milvus_uri = server.uri
    else:
        milvus_uri = str(workdir / "milvus.db")
    port, trivial_port = free_port(), free_port()
    handoff = workdir / "handoff.json"
    child = subprocess.Popen([sys.executable, "-m", "bench.matcher", "serve", redis.url, broker.bootstrap, milvus_uri,
                              str(faces), str(port), str(trivial_port), str(handoff)])
    try:
        await ensure_topics(broker.bootstrap, broker.topic_partitions)
        while not handoff.exists():
            if child.poll() is not None:
                raise RuntimeError("the API process died while loading")
            await asyncio.sleep(1)
        facts = json.loads(handoff.read_text())
        await wait_until_serving(port)
        candidates = [{"filters": {"list_id": facts["list_id"]}, "limit": K}]
        bodies = [{"references": [{"type": "raw_descriptor", "id": "q", "data": raw(np.asarray(q))}],
                   "candidates": candidates} for q in facts["queries"]]
        api = f"http://127.0.0.1:{port}"
        single, _ = await load(api, bodies, 1, SINGLE, "/6/matcher/faces")
        many, qps = await load(api, bodies, CLIENTS, REQUESTS_PER_CLIENT, "/6/matcher/faces")
        trivial, trivial_qps = await load(f"http://127.0.0.1:{trivial_port}", bodies, CLIENTS, REQUESTS_PER_CLIENT,
                                          "/6/matcher/faces")
        rng = np.random.default_rng(1)
        raw_bodies = [{"references": [{"type": "raw_descriptor", "id": "q", "data": raw(np.asarray(q))}],
                       "candidates": [{"type": "raw_descriptor", "id": f"c{i}", "data": raw(rng.standard_normal(DIM))}
                                      for i in range(100)]} for q in facts["queries"][:20]]
        raw_times, raw_qps = await load(api, raw_bodies, CLIENTS, REQUESTS_PER_CLIENT, "/6/matcher/raw")
        rows = []
        for label, samples, rate in (
            ("bare store search (baseline)", facts["bare"], None), ("/matcher/faces, 1 client", single, None),
            (f"/matcher/faces, {CLIENTS} clients", many, qps), (f"trivial endpoint, {CLIENTS} clients", trivial, trivial_qps),
            (f"/matcher/raw (100 candidates), {CLIENTS} clients", raw_times, raw_qps),
        ):
            p50, p99 = quantiles(samples)
            rows.append([label, f"{p50:.1f}", f"{p99:.1f}", f"{rate:,.0f}" if rate else ""])
        return rows, facts["insert_rate"]
    finally:
        child.terminate()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
        if server is not None:
            server.stop()


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        redis_url, bootstrap, milvus_uri, faces, port, trivial_port = sys.argv[2:8]
        asyncio.run(serve(redis_url, bootstrap, milvus_uri, int(faces), int(port), int(trivial_port)))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--faces", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=["server", "lite"], default="server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows, insert_rate = asyncio.run(measure(Path(tmp), args.faces, args.engine))
    body = table(["request", "p50 ms", "p99 ms", "QPS"], rows)
    body += f"\n\nLoading {args.faces:,} faces through FaceStore.insert (batches of {BATCH}): {insert_rate:,.0f} faces/s."
    notes = (f"Milvus {args.engine}, {args.faces:,} clustered 128-D faces in one list, top {K}, "
             f"ef = SELENE_MILVUS_HNSW_EF ({MilvusSettings().hnsw_ef}); Basic auth; the trivial endpoint answers from "
             "the API's own process and event loop.")
    record(f"Matching end to end (bench/matcher.py, {args.engine})", body, notes)


if __name__ == "__main__":
    main()

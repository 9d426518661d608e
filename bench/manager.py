"""The video manager's REST API and assignment, against baselines in the same run.

  create / get      p50 and p99 latency of POST /6/streams and GET /6/streams/{id} under 50 concurrent
                    clients (Basic auth, Redis registry, stream-config publishing to Tansu), against a
                    trivial FastAPI endpoint served by the same process and event loop; ratio = the
                    manager's latency / the trivial one's, pooled over rounds that alternate the sides
  assignment        time for the leader's rounds to assign 10,000 pending streams across 200 Kafka agents
                    (50 slots each) and send every start command (issue 15's assign_10k_s)
Run: `python -m bench.manager` (`python -m bench.manager assign`: the assignment alone, not recorded). The
API runs in a child process, so the clients do not share its loop.
"""

from __future__ import annotations

import asyncio
import base64
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from bench.common import record, scratch_processes, summarize, table, wait_until_serving
from infra.health import HealthMonitor
from infra.kafka import ensure_topics
from infra.process import free_port
from infra.root.api import ManagerParts
from infra.root.app import ApiContext, create_api
from infra.settings import ManagerSettings
from schemas.agents import AgentRegistration
from schemas.streams import StreamCreate

CLIENTS, REQUESTS_PER_CLIENT, ROUNDS = 50, 20, 4
STREAMS, AGENTS, CREATE_BATCH = 10_000, 200, 100
# The bench agent never reports: a long alive_period keeps it ready for the whole run.
SETTINGS = ManagerSettings(admin_login="bench@selene", admin_password="bench-password", alive_period=3600)
AUTH = {"Authorization": "Basic " + base64.b64encode(b"bench@selene:bench-password").decode()}
BODY = {"data": {"type": "stream", "reference": "rtsp://cam/1"}, "analytics": [{"name": "people_count"}]}


async def serve(redis_url: str, bootstrap: str, port: int, trivial_port: int) -> None:
    """The child process: the manager's API and a trivial endpoint, on one event loop."""
    parts = ManagerParts(redis_url, bootstrap, SETTINGS, prefix=f"bench:{uuid.uuid4().hex[:6]}")
    await parts.start()
    await parts.manager.agents.register(
        AgentRegistration(name="bench", max_stream_count=1_000_000, analytic_names=["people_count"]), "rest"
    )
    context = ApiContext(warehouse=None, health=HealthMonitor({}, 1, 1), manager=parts.manager, auth=parts.auth)  # type: ignore[arg-type]
    trivial = FastAPI()

    @trivial.post("/6/streams", status_code=201)
    async def create() -> dict[str, object]:
        return {"stream_id": str(uuid.uuid4()), "version": 1}

    @trivial.get("/6/streams/{stream_id}")
    async def get(stream_id: uuid.UUID) -> dict[str, object]:
        return {"stream_id": str(stream_id), **BODY}

    servers = [
        uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=p, log_config=None, access_log=False, timeout_keep_alive=60))
        for app, p in ((create_api(context), port), (trivial, trivial_port))
    ]
    await asyncio.gather(*(s.serve() for s in servers))


async def load(base_url: str) -> tuple[list[float], list[float]]:
    creates: list[float] = []
    gets: list[float] = []
    async with httpx.AsyncClient(
        base_url=base_url, headers=AUTH, limits=httpx.Limits(max_connections=CLIENTS), timeout=60  # a loaded machine
    ) as http:

        async def client() -> None:
            for _ in range(REQUESTS_PER_CLIENT):
                started = time.perf_counter()
                created = await http.post("/6/streams", json=BODY)
                creates.append(time.perf_counter() - started)
                assert created.status_code == 201, created.text
                started = time.perf_counter()
                got = await http.get(f"/6/streams/{created.json()['stream_id']}")
                gets.append(time.perf_counter() - started)
                assert got.status_code == 200, got.text

        await http.post("/6/streams", json=BODY)  # warm up (the first Basic login pays scrypt)
        await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return creates, gets


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49] * 1000, cuts[98] * 1000


async def assignment(redis_url: str, bootstrap: str) -> float:
    parts = ManagerParts(redis_url, bootstrap, SETTINGS, prefix=f"bench:{uuid.uuid4().hex[:6]}")
    await parts.bus.start()
    await parts.manager.start()
    manager = parts.manager
    try:
        for i in range(AGENTS):
            registration = AgentRegistration(name=f"agent-{i}", max_stream_count=STREAMS // AGENTS, analytic_names=["people_count"])
            await manager.agents.register(registration, "kafka", uuid.uuid4())
        body = StreamCreate.model_validate(BODY)
        account = uuid.uuid4()
        for _ in range(STREAMS // CREATE_BATCH):
            await asyncio.gather(*(manager.streams.create(account, body) for _ in range(CREATE_BATCH)))
        started = time.perf_counter()
        while await manager.registry.streams.pending_ids():
            await manager.assignment.assign_pending()
        await manager.assignment.dispatch()
        took = time.perf_counter() - started
        loads = [len(await manager.registry.streams.ids_of_agent(a.agent.agent_id)) for a in await manager.registry.agents.all()]
        assert loads == [STREAMS // AGENTS] * AGENTS, loads
        assert not await manager.registry.streams.unstarted_ids()  # every start handed over
        return took
    finally:
        await manager.stop()
        await parts.bus.stop()
        await parts.redis.aclose()


async def measure(workdir: Path) -> tuple[list[list[str]], float, float]:
    with scratch_processes(workdir) as (broker, redis):
        port, trivial_port = free_port(), free_port()
        child = subprocess.Popen(
            [sys.executable, "-m", "bench.manager", "serve", redis.url, broker.bootstrap, str(port), str(trivial_port)]
        )
        try:
            await ensure_topics(broker.bootstrap, broker.topic_partitions)
            await wait_until_serving(port)
            trivial: tuple[list[float], list[float]] = ([], [])
            manager: tuple[list[float], list[float]] = ([], [])
            # Rounds alternate which side goes first, so the machine's drift (other jobs) hits both alike.
            for i in range(ROUNDS):
                sides = [(trivial, trivial_port), (manager, port)]
                for samples, at in sides if i % 2 == 0 else sides[::-1]:
                    creates, gets = await load(f"http://127.0.0.1:{at}")
                    samples[0].extend(creates)
                    samples[1].extend(gets)
            rows, ratios = [], []
            for name, base, ours in (("create", trivial[0], manager[0]), ("get", trivial[1], manager[1])):
                (b50, b99), (m50, m99) = percentiles(base), percentiles(ours)
                ratios.append(m99 / b99)
                rows.append([name, f"{b50:.1f}", f"{b99:.1f}", f"{m50:.1f}", f"{m99:.1f}", f"{m50 / b50:.2f}", f"{m99 / b99:.2f}"])
            child.terminate()
            child.wait(10)
            return rows, max(ratios), await assignment(redis.url, broker.bootstrap)
        finally:
            if child.poll() is None:
                child.kill()


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        redis_url, bootstrap, port, trivial_port = sys.argv[2:6]
        asyncio.run(serve(redis_url, bootstrap, int(port), int(trivial_port)))
        return
    if sys.argv[1:2] == ["assign"]:  # the assignment alone, printed, not recorded
        with tempfile.TemporaryDirectory() as tmp, scratch_processes(Path(tmp)) as (broker, redis):
            asyncio.run(ensure_topics(broker.bootstrap, broker.topic_partitions))
            print(f"assigned {STREAMS} streams across {AGENTS} agents in {asyncio.run(assignment(redis.url, broker.bootstrap)):.2f} s")
        return
    with tempfile.TemporaryDirectory() as tmp:
        rows, api_ratio, assign = asyncio.run(measure(Path(tmp)))
    body = table(
        ["request", "trivial p50 ms", "trivial p99 ms", "manager p50 ms", "manager p99 ms", "p50 ratio", "p99 ratio"], rows
    )
    body += f"\n\nAssigning {STREAMS} pending streams across {AGENTS} agents (start commands sent): {assign:.2f} s."
    notes = (
        f"{CLIENTS} concurrent clients x {REQUESTS_PER_CLIENT} create+get each, {ROUNDS} rounds per side, alternating "
        "which goes first; the trivial endpoint answers from the same uvicorn process and event loop as the manager's "
        f"API. api_p99_ratio = the worse of the two p99 ratios: {api_ratio:.2f}."
    )
    record("Video manager (bench/manager.py)", body, notes)
    summarize(api_p99_ratio=api_ratio, assign_10k_s=assign)


if __name__ == "__main__":
    main()

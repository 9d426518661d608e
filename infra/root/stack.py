"""``selene up``: the embedded stack on loopback, supervised.

Order: broker, redis, API (which owns chdb, Milvus Lite and the sink), worker, video agent. Each part
must be ready before the next starts; a part that cannot start stops the whole stack with a message
naming it. While up, a dead API, worker or agent is restarted with backoff; Ctrl-C or SIGTERM stops
everything in reverse order, and no process is left behind.
"""

from __future__ import annotations

import asyncio
import base64
import json
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis as redis_sync

from infra import heartbeat
from infra.backoff import Backoff
from infra.errors import StackError, writable_dir
from infra.kafka import ensure_topics
from infra.process import ManagedProcess, ensure_port_free
from infra.root import embedded
from infra.root.tasks_worker import worker_in_api
from infra.settings import (
    ApiSettings,
    BrokerSettings,
    CommonSettings,
    ManagerSettings,
    MilvusSettings,
    RedisSettings,
    StackSettings,
    TasksSettings,
    WarehouseSettings,
    env_name,
)

SAMPLE_CLIP = Path(__file__).resolve().parents[1] / "samples" / "vtest_clip.mp4"


@dataclass
class Part:
    process: ManagedProcess
    where: str
    backoff: Backoff  # between restarts
    after_start: Callable[[], None] | None = None
    next_restart: float = 0.0
    up_since: float = field(default_factory=time.monotonic)


def _http_ok(url: str) -> Callable[[], bool]:
    def ready() -> bool:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback URL from settings
            return response.status == 200

    return ready


def _heartbeat_ready(redis_url: str, part: str, process: ManagedProcess) -> Callable[[], bool]:
    client = redis_sync.Redis.from_url(redis_url, socket_timeout=1)

    def ready() -> bool:
        return bool(process.pid and client.exists(heartbeat.key(part, f"{socket.gethostname()}:{process.pid}")))

    return ready


def _selene(*args: str) -> list[str]:
    return [sys.executable, "-m", "infra.root.cli", *args]


class EmbeddedStack:
    def __init__(self, demo: str | None = None, out: Callable[[str], None] = print) -> None:
        self.common = CommonSettings()
        self.broker = BrokerSettings()
        self.redis = RedisSettings()
        self.api = ApiSettings()
        self.stack = StackSettings()
        self.demo = demo
        self.out = out
        self.parts: list[Part] = []
        self._stop = threading.Event()

    # -- building -----------------------------------------------------------------------------
    def preflight(self) -> None:
        """Everything that can be checked before starting anything: directories, binaries, ports."""
        data = writable_dir(self.common.data_dir, "data directory", env_name(CommonSettings, "data_dir"))
        self.run_dir = writable_dir(data / "logs", "data directory", env_name(CommonSettings, "data_dir"))
        if self.demo and not Path(self.demo).is_file() and "://" not in self.demo:
            raise StackError("agent", f"demo video {self.demo} does not exist", "pass an existing file to --demo")
        if self.broker.embedded:
            ensure_port_free("broker", self.broker.host, self.broker.port, env_name(BrokerSettings, "bootstrap"))
        if self.redis.embedded:
            host, port = embedded.redis_address(self.redis)
            ensure_port_free("redis", host, port, env_name(RedisSettings, "url"))
        ensure_port_free("api", self.api.host, self.api.port, env_name(ApiSettings, "port"))
        self._plan()

    def _restarts(self, first: float = 1.0) -> Backoff:
        return Backoff(first, self.stack.restart_backoff_max)

    def _plan(self) -> None:
        # Infrastructure restarts after a pause, so that a part stopped by hand shows red on /6/health.
        if self.broker.embedded:
            broker = embedded.broker(self.broker, self.run_dir)
            where = f"kafka://{self.broker.bootstrap} (Tansu, in memory)"
            self.parts.append(Part(broker, where, self._restarts(5.0), after_start=self._create_topics))
        if self.redis.embedded:
            redis = embedded.redis(self.redis, self.common.data_dir / "redis", self.run_dir)
            self.parts.append(Part(redis, self.redis.url, self._restarts(5.0)))
        api_url = f"http://{self.api.host}:{self.api.port}"
        api = ManagedProcess("api", _selene("api"), self.run_dir / "api.log", _http_ok(f"{api_url}/6/health"))
        self.parts.append(Part(api, f"{api_url}/6  (docs {api_url}/docs)", self._restarts()))
        worker = ManagedProcess("worker", _selene("worker"), self.run_dir / "worker.log", lambda: False)
        worker.ready = _heartbeat_ready(self.redis.url, "worker", worker)
        self.parts.append(Part(worker, "Faust stream processors", self._restarts()))
        if not worker_in_api(TasksSettings(), MilvusSettings(), WarehouseSettings(), self.common):
            tasks = ManagedProcess("tasks-worker", _selene("tasks-worker"), self.run_dir / "tasks-worker.log", lambda: False)
            tasks.ready = _heartbeat_ready(self.redis.url, "tasks-worker", tasks)
            self.parts.append(Part(tasks, "task worker (LUNA tasks)", self._restarts()))
        agent = ManagedProcess("agent", _selene("agent"), self.run_dir / "agent.log", lambda: False)
        agent.ready = _heartbeat_ready(self.redis.url, "agent", agent)
        where = f"video agent, demo stream from {self.demo}" if self.demo else "video agent"
        self.parts.append(Part(agent, where, self._restarts()))

    # -- running ------------------------------------------------------------------------------
    def start(self) -> float:
        started = time.monotonic()
        for part in self.parts:
            part.process.start()
            took = part.process.wait_ready(self.stack.start_timeout)
            self.out(f"  ✓ {part.process.name:<8} ready in {took:4.1f} s")
            if part.after_start:
                part.after_start()
        if self.demo:
            self.register_demo()
        return time.monotonic() - started

    def register_demo(self) -> None:
        """Register the demo video as a live stream with people_count, through the REST API as an operator
        would (once: a restarted stack with the same data finds it registered)."""
        reference = str(Path(self.demo).resolve()) if "://" not in (self.demo or "") else str(self.demo)
        manager = ManagerSettings()
        credentials = base64.b64encode(f"{manager.admin_login}:{manager.admin_password}".encode()).decode()
        base = f"http://{self.api.host}:{self.api.port}/6/streams"
        headers = {"Authorization": f"Basic {credentials}", "Content-Type": "application/json"}
        query = urllib.parse.urlencode({"reference": reference, "page_size": 1})
        with urllib.request.urlopen(urllib.request.Request(f"{base}?{query}", headers=headers), timeout=5) as response:  # noqa: S310
            if json.load(response)["streams"]:
                return
        body = {"data": {"type": "stream", "reference": reference}, "analytics": [{"name": "people_count"}], "name": "demo"}
        request = urllib.request.Request(base, data=json.dumps(body).encode(), headers=headers, method="POST")
        deadline = time.monotonic() + self.stack.start_timeout
        while True:
            try:
                with urllib.request.urlopen(request, timeout=5):  # noqa: S310 - loopback URL
                    return
            except urllib.error.HTTPError as exc:
                # 44014 until the agent's registration reaches the manager: wait for it.
                if json.load(exc).get("error_code") != 44014 or time.monotonic() > deadline:
                    raise StackError("agent", f"the demo stream was refused: {exc}", "see data/logs/api.log") from None
            time.sleep(0.5)

    def _create_topics(self) -> None:
        asyncio.run(ensure_topics(self.broker.bootstrap, self.broker.topic_partitions, self.broker.replication_factor))

    def describe(self) -> list[str]:
        warehouse, milvus = WarehouseSettings(), MilvusSettings()
        rows = [(p.process.name, p.where) for p in self.parts]
        rows.insert(
            [n for n, _ in rows].index("api") + 1,
            ("clickhouse", f"chdb in the api process, {warehouse.path or self.common.data_dir / 'clickhouse'}"),
        )
        rows.insert(
            [n for n, _ in rows].index("clickhouse") + 1,
            ("milvus", f"Milvus Lite in the api process, {milvus.uri or self.common.data_dir / 'milvus.db'}"),
        )
        rows.append(("logs", f"{self.run_dir}/*.log"))
        return [f"  {name:<10} {where}" for name, where in rows]

    def supervise(self, show: Callable[[], None] | None = None, every: float = 2.0) -> None:
        """Restart dead restartable parts with exponential backoff until a stop is requested."""
        last_show = 0.0
        while not self._stop.wait(0.5):
            now = time.monotonic()
            for part in self.parts:
                self._check(part, now)
            if show and now - last_show >= every:
                last_show = now
                show()

    def _check(self, part: Part, now: float) -> None:
        process = part.process
        if process.alive():
            if now - part.up_since > 60:
                part.backoff.reset()  # it has run a while: the next failure is a fresh one
            return
        if part.next_restart == 0.0:
            code = process.proc.returncode if process.proc else None
            self.out(f"  ! {process.name} exited with code {code}; restarting in {part.backoff.upcoming:.0f} s")
            part.next_restart = now + part.backoff.take()
        elif now >= part.next_restart:
            process.restarts += 1
            process.start()
            part.next_restart, part.up_since = 0.0, now
            if part.after_start:
                try:
                    process.wait_ready(self.stack.start_timeout)
                    part.after_start()
                except Exception as exc:  # noqa: BLE001 - reported; the next death is retried
                    self.out(f"  ! {process.name} restarted but is not ready: {exc}")

    def request_stop(self, *_: object) -> None:
        self._stop.set()

    def stop(self) -> None:
        for part in reversed(self.parts):
            started = time.monotonic()
            part.process.stop(self.stack.stop_timeout)
            self.out(f"  ✓ {part.process.name:<8} stopped in {time.monotonic() - started:4.1f} s")


def live_counts(api: ApiSettings, out: Callable[[str], None]) -> Callable[[], None]:
    """A printer of per-stream frame counts from the API, one line per refresh."""
    url = f"http://{api.host}:{api.port}/6/monitoring/streams"

    def show() -> None:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback URL
                streams = json.load(response)["streams"]
        except Exception as exc:  # noqa: BLE001 - the display must never stop the stack
            out(f"  (live counts unavailable: {exc})")
            return
        if not streams:
            out("  waiting for the first frames...")
            return
        line = "  ".join(
            f"stream {s['stream_id'][:8]}: {_people(s['people_count'])}, {s['fps']:.1f} fps, {s['frames']} frames"
            for s in streams
        )
        out(f"  live  {line}")

    return show


def _people(count: int | None) -> str:
    return "counting..." if count is None else f"{count} {'person' if count == 1 else 'people'}"


def up(demo: str | None) -> int:
    stack = EmbeddedStack(demo=demo)

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt  # while starting: abandon the start-up and stop what is running

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    try:
        stack.preflight()
        print(f"Starting Selene's embedded stack (data in {stack.common.data_dir})")
        took = stack.start()
        signal.signal(signal.SIGTERM, stack.request_stop)
        signal.signal(signal.SIGINT, stack.request_stop)
        print(f"Selene is up in {took:.1f} s:")
        print("\n".join(stack.describe()))
        print("Ctrl-C stops everything.")
        stack.supervise(show=live_counts(stack.api, print))
        return 0
    except StackError as exc:
        print(f"selene up failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        print("Stopping Selene...", flush=True)
        stack.stop()
        print("Stopped.")

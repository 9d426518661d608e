"""How to run each embedded infrastructure part: the Tansu broker, redis-server and a Milvus server."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlparse

from infra import binaries
from infra.process import ManagedProcess, tcp_ready
from infra.settings import BrokerSettings, RedisSettings


def broker(settings: BrokerSettings, run_dir: Path) -> ManagedProcess:
    """Tansu with in-memory storage: a development broker; topics vanish when it stops."""
    url = f"tcp://{settings.host}:{settings.port}"
    argv = [
        binaries.tansu(settings.tansu_binary),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        "memory://tansu/",
    ]
    return ManagedProcess("broker", argv, run_dir / "broker.log", tcp_ready(settings.host, settings.port))


def redis_address(settings: RedisSettings) -> tuple[str, int]:
    url = urlparse(settings.url)
    return url.hostname or "127.0.0.1", url.port or 6379


def redis(settings: RedisSettings, data_dir: Path, run_dir: Path) -> ManagedProcess:
    host, port = redis_address(settings)
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        binaries.redis_server(settings.binary),
        "--bind",
        host,
        "--port",
        str(port),
        "--dir",
        str(data_dir.resolve()),
        "--appendonly",
        "yes",
        "--save",
        "",
        "--protected-mode",
        "no",
    ]
    return ManagedProcess("redis", argv, run_dir / "redis.log", tcp_ready(host, port))


MILVUS_START_ATTEMPTS = 3


class MilvusServerProcess:
    """A Milvus standalone server from the ``milvus`` wheel (a dev dependency: tests and benchmarks).

    Its embedded etcd is sometimes not ready when the server starts and the server panics (seen about once
    in three starts), so a failed start is retried on a clean data directory."""

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir
        self._server = None

    @property
    def uri(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.listen_port}"

    @property
    def pid(self) -> int:
        assert self._server is not None and self._server.server_proc is not None
        return self._server.server_proc.pid

    def start(self) -> None:
        from milvus import MilvusServer

        errors = []
        for attempt in range(MILVUS_START_ATTEMPTS):
            shutil.rmtree(self.base_dir, ignore_errors=True)
            server = MilvusServer()
            server.set_base_dir(str(self.base_dir))
            try:
                server.start()
            except (RuntimeError, TimeoutError) as exc:
                errors.append(f"attempt {attempt + 1}: {exc}")
                server.stop()
                continue
            self._server = server
            return
        raise RuntimeError("the Milvus server did not start: " + "; ".join(errors))

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

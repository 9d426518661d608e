from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

import pytest

from infra.errors import NotReadyError, PortBusyError
from infra.process import ManagedProcess, ensure_port_free, free_port


def test_busy_port_names_part_and_setting() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(PortBusyError) as raised:
            ensure_port_free("api", "127.0.0.1", port, "SELENE_API_PORT")
    message = str(raised.value)
    assert message.startswith("api: port") and str(port) in message and "SELENE_API_PORT" in message


def test_free_port_passes() -> None:
    ensure_port_free("api", "127.0.0.1", free_port(), "SELENE_API_PORT")


def test_process_that_dies_at_start_reports_code_and_log(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", "import sys; print('boom: cannot bind'); sys.exit(3)"]
    process = ManagedProcess("redis", argv, tmp_path / "redis.log", ready=lambda: False)
    process.start()
    with pytest.raises(NotReadyError) as raised:
        process.wait_ready(10)
    assert "redis: exited with code 3" in str(raised.value)
    assert "boom: cannot bind" in str(raised.value)


def test_process_never_ready_times_out_instead_of_hanging(tmp_path: Path) -> None:
    process = ManagedProcess("worker", ["sleep", "30"], tmp_path / "w.log", ready=lambda: False)
    process.start()
    started = time.monotonic()
    try:
        with pytest.raises(NotReadyError, match="worker: not ready after 1 s"):
            process.wait_ready(1)
        assert time.monotonic() - started < 5
    finally:
        process.stop(2)
    assert not process.alive()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); treat it as gone.
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_stop_leaves_no_grandchildren(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    script = f"sleep 60 & echo $! > {pid_file}; wait"
    process = ManagedProcess("api", ["sh", "-c", script], tmp_path / "a.log", ready=pid_file.exists)
    process.start()
    process.wait_ready(10)
    grandchild = int(pid_file.read_text())
    assert _alive(grandchild)
    process.stop(2)
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not process.alive() and not _alive(grandchild)


def test_stop_escalates_to_sigkill(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"]
    log = tmp_path / "stubborn.log"
    process = ManagedProcess("worker", argv, log, ready=lambda: "up" in log.read_text())
    process.start()
    process.wait_ready(10)
    started = time.monotonic()
    process.stop(0.5)
    assert not process.alive()
    assert time.monotonic() - started < 5

"""A child process of the embedded stack: started in its own process group, checked for readiness,
stopped with SIGTERM then SIGKILL, and never left behind."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from infra.errors import NotReadyError, PortBusyError

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # Runs in the child before exec: new process group (Ctrl-C reaches only the supervisor, which
    # stops children in order) and SIGTERM if the supervisor itself is killed.
    os.setsid()
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def ensure_port_free(part: str, host: str, port: int, env_var: str) -> None:
    if port_in_use(host, port):
        raise PortBusyError(part, host, port, env_var)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tcp_ready(host: str, port: int) -> Callable[[], bool]:
    return lambda: port_in_use(host, port)


class ManagedProcess:
    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        ready: Callable[[], bool],
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_path = log_path
        self.ready = ready
        self.env = env
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it after fork
        try:
            self.proc = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **(self.env or {})},
                cwd=self.cwd,
                preexec_fn=_die_with_parent,
            )
        finally:
            log.close()

    def wait_ready(self, timeout: float) -> float:
        """Block until ready; return seconds taken. Raises NotReadyError, never hangs past timeout."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if not self.alive():
                code = self.proc.returncode if self.proc else None
                raise NotReadyError(self.name, f"exited with code {code} during start-up", self._log_hint())
            try:
                if self.ready():
                    return time.monotonic() - started
            except Exception:  # noqa: BLE001 - a probe that raises is simply not ready yet
                pass
            time.sleep(0.1)
        raise NotReadyError(self.name, f"not ready after {timeout:.0f} s", self._log_hint())

    def _log_hint(self) -> str:
        try:
            tail = self.log_path.read_text(errors="replace").strip().splitlines()[-8:]
        except OSError:
            tail = []
        lines = "\n     ".join(tail)
        return f"see {self.log_path}" + (f"; last lines:\n     {lines}" if tail else "")

    def stop(self, timeout: float) -> None:
        """SIGTERM the whole process group, then SIGKILL whatever is left after ``timeout``."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.proc.wait(5)
        # Grandchildren (Milvus Lite's server, say) may outlive a clean exit of their parent.
        self._signal_group(signal.SIGKILL)

    def _signal_group(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

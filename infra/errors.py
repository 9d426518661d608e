"""Start-up failures of the embedded stack, each naming the part and what to do about it."""

from __future__ import annotations

from pathlib import Path


class StackError(RuntimeError):
    """A part of the stack could not start; the message is meant for the user as it is."""

    def __init__(self, part: str, problem: str, hint: str = "") -> None:
        self.part = part
        message = f"{part}: {problem}"
        super().__init__(f"{message}\n  -> {hint}" if hint else message)


class PortBusyError(StackError):
    def __init__(self, part: str, host: str, port: int, env_var: str) -> None:
        super().__init__(
            part,
            f"port {host}:{port} is already in use",
            f"stop whatever listens there (`ss -ltnp 'sport = :{port}'`) or set {env_var} to a free port",
        )


class MissingBinaryError(StackError):
    pass


class NotReadyError(StackError):
    pass


def writable_dir(path: Path, part: str, env_var: str) -> Path:
    """Create ``path`` and prove it writable, or raise a StackError naming the part and the setting."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise StackError(part, f"cannot write to {path} ({exc.strerror})", f"set {env_var} to a writable directory")
    return path

"""What an agent tells the manager about one stream: status, errors (throttled) and health figures.

The decoder thread writes these fields and the event loop reads them; each is one assignment, so a
report may mix two moments but never a torn value.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import av

from infra.media.decode import DecoderKind
from schemas.agents import StreamReport
from schemas.errors import STREAM_CONNECTION_LOST, VIDEO_DECODING_FAILED, ErrorBody
from schemas.status import StreamStatus

ERROR_REPEAT_SECONDS = 5.0  # LUNA v5.76.4: identical errors at most once per 5 s
_FPS_WINDOW = 1.0


def redact(reference: str) -> str:
    """The reference without credentials, fit for logs and errors."""
    parts = urlsplit(reference)
    if not parts.password and not parts.username:
        return reference
    host = parts.hostname or ""
    netloc = f"***@{host}:{parts.port}" if parts.port else f"***@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def decoding_error(exc: Exception, around: float, timed_out: bool = False) -> ErrorBody:
    """LUNA's text: "An error occurred during stream/video decoding around N second: TIMEOUT"."""
    reason = "TIMEOUT" if timed_out or isinstance(exc, av.ExitError) else _reason(exc)
    return VIDEO_DECODING_FAILED.body(f"{around:.3f}", reason)


def connection_error(reference: str, exc: Exception) -> ErrorBody:
    return STREAM_CONNECTION_LOST.body(redact(reference), _reason(exc))


def _reason(exc: Exception) -> str:
    if isinstance(exc, av.FFmpegError) or isinstance(exc, OSError) and exc.strerror:
        return exc.strerror or str(exc)
    return str(exc) or type(exc).__name__


class StreamState:
    def __init__(self, stream_id: UUID, version: int) -> None:
        self.stream_id = stream_id
        self.version = version
        self.status = StreamStatus.IN_PROGRESS
        self.last_error: ErrorBody | None = None
        self.last_processed_frame_time: float | None = None
        self.decoder: DecoderKind | None = None
        self.decoded = 0
        self.published = 0
        self.dropped = 0
        self._error_seen: dict[tuple[int, str], float] = {}
        self._fps = 0.0
        self._fps_mark = (time.monotonic(), 0)

    def error(self, error: ErrorBody) -> bool:
        """Record ``error``; False when the same error was reported less than 5 s ago (skip it)."""
        key, now = (error.error_code, error.detail), time.monotonic()
        if now - self._error_seen.get(key, -ERROR_REPEAT_SECONDS) < ERROR_REPEAT_SECONDS:
            return False
        self._error_seen = {k: t for k, t in self._error_seen.items() if now - t < ERROR_REPEAT_SECONDS}
        self._error_seen[key] = now
        self.last_error = error
        return True

    @property
    def fps(self) -> float:
        """Decoded frames per second over the last second or more."""
        now, (then, count) = time.monotonic(), self._fps_mark
        if now - then >= _FPS_WINDOW:
            self._fps = (self.decoded - count) / (now - then)
            self._fps_mark = (now, self.decoded)
        return self._fps

    def report(self) -> StreamReport:
        return StreamReport(
            stream_id=self.stream_id,
            status=self.status,
            version=self.version,
            time=datetime.now(UTC),
            last_error=self.last_error,
            last_processed_frame_time=self.last_processed_frame_time,
            decoder=self.decoder,
            fps=round(self.fps, 2),
            dropped_frames=self.dropped,
        )

"""A frame's time offset from LUNA's ``timestamp_source`` and ``pts.start_time``.

LUNA's sources: ``pts`` (the video's timestamps), ``server`` (the agent's clock, for streams),
``frame_rate`` (frame number / fps, for files) and ``auto``: PTS when they are accurate, else server
time for a stream and the frame rate for a file. A file's PTS is accurate when its absolute value is at
most 10^5 s; a stream's when, read as Unix time, it is within a day of the server's clock.

Offsets of a live stream keep growing across reconnects, so that processors see one timeline.
"""

from __future__ import annotations

import time
from typing import Literal

Source = Literal["pts", "server", "frame_rate", "auto"]
_FILE_PTS_LIMIT = 1e5
_STREAM_CLOCK_SKEW = 86400.0


class FrameClock:
    def __init__(self, source: Source, live: bool, start_time: float = 0.0) -> None:
        self.source = source
        self.live = live
        self.start_time = start_time
        self._stream_start = time.monotonic()
        self._mode: Source | None = None
        self._session_base = 0.0
        self._first_pts: float | None = None
        self._last = 0.0

    def new_session(self, fps: float) -> None:
        """A (re)opened source: its PTS and frame count start again, the timeline goes on."""
        if self._mode is not None:
            self._session_base = self._last + 1.0 / fps
        self._mode = None
        self._first_pts = None

    @property
    def mode(self) -> Source | None:
        """The source in use once the first frame decided it (never ``auto``)."""
        return self._mode

    def offset(self, session_frame: int, pts: float | None, fps: float) -> float:
        """Seconds since the stream start, ``pts.start_time`` included, never negative."""
        if self._mode is None:
            self._mode = self._choose(pts)
        if self._mode == "server":
            value = time.monotonic() - self._stream_start
        elif self._mode == "pts" and pts is not None:
            if self.live:
                self._first_pts = pts if self._first_pts is None else self._first_pts
                value = self._session_base + pts - self._first_pts
            else:
                value = pts
        else:
            value = self._session_base + session_frame / fps
        self._last = max(value, 0.0)
        return self._last + self.start_time

    def _choose(self, pts: float | None) -> Source:
        if self.source != "auto":
            return self.source
        if pts is None:
            return "server" if self.live else "frame_rate"
        if self.live:
            return "pts" if abs(pts - time.time()) < _STREAM_CLOCK_SKEW else "server"
        return "pts" if abs(pts) <= _FILE_PTS_LIMIT else "frame_rate"

"""LUNA's ``rate`` as one algorithm: which frames an analytic processes (every N frames or N seconds).

The agent samples decoded frames with it, each processor thins the frames it receives with it, and
``selene analyze`` samples a file with it, so a frame is due by the same rule everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from schemas.analytics import Rate

EVERY_FRAME = Rate(period=1, unit="frame")
_EPSILON = 1e-6  # offsets are floats from PTS: 0.1 s steps must not miss 0.5 by rounding


class RateGate:
    """Says frame by frame whether a frame is due under ``rate``.

    A frame's position is its frame number (unit ``frame``) or its time offset (``second``). The first
    frame offered is due, then the first frame at or after each further multiple of the period counted
    from it: every Nth frame of a whole stream (0, N, 2N, ...), every N seconds of PTS, and, on frames
    someone already sampled, the first one offered at or after each period (frames 0, 3, 6, ... with a
    period of 10: 0, 12, 21, 30, ...), so the gate neither drifts nor skips a period. A position that goes
    backwards (a replayed file, a restarted source) starts the count again from there.
    """

    def __init__(self, rate: Rate) -> None:
        self.rate = rate
        self._origin: float | None = None
        self._last = 0.0
        self._next_due = 0.0

    def due(self, frame_number: int, time_offset: float) -> bool:
        position = float(frame_number) if self.rate.unit == "frame" else time_offset
        if self._origin is None or position < self._last:
            self._origin, self._next_due = position, 0.0
        self._last = position
        elapsed = position - self._origin
        if elapsed + _EPSILON < self._next_due:
            return False
        self._next_due = (math.floor((elapsed + _EPSILON) / self.rate.period) + 1) * self.rate.period
        return True

    def skippable(self, frame_number: int) -> bool:
        """Whether the frame ``frame_number`` will certainly not be due, so its decoding may be skipped,
        provided every frame before it is offered (or skipped by this rule). Only whole-frame periods
        can tell ahead of time (seconds depend on the timestamps), and only once the count has begun."""
        if self.rate.unit != "frame" or self._origin is None or frame_number <= self._last:
            return False
        next_due = self._origin + self._next_due  # a whole number of frames, as is the period
        return frame_number < next_due or (frame_number - next_due) % self.rate.period != 0


def sampling_rate(rates: Iterable[Rate], fps: float) -> Rate:
    """The one rate a decoder samples at for several analytics, so that each one's gate still sees its
    due frames: the gcd of the frame periods (every frame-rate analytic then gets exactly its Nth frames)
    or the shortest second period, whichever is denser at ``fps``; every frame when there is no rate."""
    rates = list(rates)
    frames = [int(r.period) for r in rates if r.unit == "frame"]
    seconds = [r.period for r in rates if r.unit == "second"]
    candidates = ([Rate(period=math.gcd(*frames), unit="frame")] if frames else []) + (
        [Rate(period=min(seconds), unit="second")] if seconds else [])
    if not candidates:
        return EVERY_FRAME
    return min(candidates, key=lambda r: r.period / fps if r.unit == "frame" else r.period)

"""LUNA's ``rate``: which frames an analytic processes (every N frames or every N seconds)."""

from __future__ import annotations

from schemas.analytics import Rate

_EPSILON = 1e-6  # offsets are floats from PTS: 0.1 s steps must not miss by rounding


class RateGate:
    """Says whether a frame is due. Frames arrive already sampled by the agent, so "due" is measured
    from the last processed frame, not by ``frame_number % period``: a pre-sampled stream stays due."""

    def __init__(self, rate: Rate) -> None:
        self.rate = rate
        self.last: float | None = None

    def due(self, frame_number: int, time_offset: float) -> bool:
        position = frame_number if self.rate.unit == "frame" else time_offset
        if self.last is not None and position - self.last < self.rate.period - _EPSILON:
            if position >= self.last:
                return False
            # Position went backwards (a replayed file, a restart): start over.
        self.last = position
        return True

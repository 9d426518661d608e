"""Which frames a stream publishes: its analytics' ``rate`` (every N frames or every N seconds).

A stream runs one decoder for all its analytics, so the agent samples at the densest rate any of
them asks for; a processor that wants fewer frames thins them further itself.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import ValidationError

from schemas.analytics import Rate
from schemas.streams import StreamConfig

EVERY_FRAME = Rate(period=1, unit="frame")
_EPSILON = 1e-6  # PTS are rationals turned into floats; 0.1 * 5 must still reach 0.5


def stream_rate(config: StreamConfig, fps: float) -> Rate:
    """The smallest period among the analytics' rates, frames compared with seconds at ``fps``.

    An analytic without a (valid) rate wants every frame, as LUNA's human tracking does by default.
    """
    rates = [_rate(a.parameters.get("rate")) for a in config.analytics] or [EVERY_FRAME]
    return min(rates, key=lambda r: r.period / fps if r.unit == "frame" else r.period)


def _rate(value: Any) -> Rate:
    if value is None:
        return EVERY_FRAME
    try:
        return value if isinstance(value, Rate) else Rate.model_validate(value)
    except ValidationError:
        return EVERY_FRAME  # the manager validates parameters; a stray one must not stop the stream


class Sampler:
    """Decides per decoded frame, before it is converted, whether it is published.

    Frame rates take frames ``0, N, 2N, ...`` of the stream; second rates take the first frame at or
    after each multiple of the period, counted from the stream's first frame.
    """

    def __init__(self, rate: Rate) -> None:
        self.rate = rate
        self._origin: float | None = None
        self._next_due = 0.0

    def take(self, frame_number: int, time_offset: float) -> bool:
        if self.rate.unit == "frame":
            return frame_number % int(self.rate.period) == 0
        if self._origin is None:
            self._origin = time_offset
        elapsed = time_offset - self._origin
        if elapsed + _EPSILON < self._next_due:
            return False
        self._next_due = (math.floor((elapsed + _EPSILON) / self.rate.period) + 1) * self.rate.period
        return True

"""Which frames a stream publishes: its analytics' ``rate`` (every N frames or every N seconds).

A stream runs one decoder for all its analytics, so the agent samples at one rate that gives each of
them its due frames (``schemas.rate.sampling_rate``); a processor that wants fewer frames thins them
further with the same gate.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from schemas.analytics import Rate
from schemas.rate import EVERY_FRAME, sampling_rate
from schemas.streams import StreamConfig


def stream_rate(config: StreamConfig, fps: float) -> Rate:
    """The rate the stream's decoder samples at, frames compared with seconds at ``fps``.

    An analytic without a (valid) rate wants every frame, as LUNA's human tracking does by default.
    """
    return sampling_rate([_rate(a.parameters.get("rate")) for a in config.analytics], fps)


def _rate(value: Any) -> Rate:
    if value is None:
        return EVERY_FRAME
    try:
        return value if isinstance(value, Rate) else Rate.model_validate(value)
    except ValidationError:
        return EVERY_FRAME  # the manager validates parameters; a stray one must not stop the stream

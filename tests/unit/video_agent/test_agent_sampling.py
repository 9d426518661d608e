"""Sampling by the analytics' ``rate``: exact every N frames and every N seconds."""

from __future__ import annotations

from agents.video_agent.sampling import EVERY_FRAME, Sampler, stream_rate
from schemas.analytics import Rate
from tests.support_agent import stream_config


def _taken(rate: Rate, frames: int, fps: float) -> list[int]:
    sampler = Sampler(rate)
    return [n for n in range(frames) if sampler.take(n, n / fps)]


def test_every_n_frames_is_exact() -> None:
    assert _taken(Rate(period=10, unit="frame"), 35, 25) == [0, 10, 20, 30]
    assert _taken(Rate(period=1, unit="frame"), 5, 25) == [0, 1, 2, 3, 4]


def test_every_n_seconds_is_exact() -> None:
    assert _taken(Rate(period=0.5, unit="second"), 21, 10) == [0, 5, 10, 15, 20]
    assert _taken(Rate(period=1, unit="second"), 76, 25) == [0, 25, 50, 75]


def test_seconds_follow_timestamps_not_frame_counts() -> None:
    sampler = Sampler(Rate(period=1, unit="second"))
    offsets = [10.0, 10.4, 10.9, 11.2, 11.3, 13.5, 13.6, 14.0]  # starts late, jumps a gap
    assert [t for n, t in enumerate(offsets) if sampler.take(n, t)] == [10.0, 11.2, 13.5, 14.0]


def test_smallest_period_wins_across_units() -> None:
    config = stream_config("x.mp4", rate={"period": 10, "unit": "frame"})
    second = config.analytics[0].model_copy(update={"parameters": {"rate": {"period": 0.2, "unit": "second"}}})
    config.analytics.append(second)
    assert stream_rate(config, fps=25) == Rate(period=0.2, unit="second")  # 10 frames = 0.4 s
    assert stream_rate(config, fps=100) == Rate(period=10, unit="frame")  # 10 frames = 0.1 s


def test_missing_or_invalid_rate_means_every_frame() -> None:
    assert stream_rate(stream_config("x.mp4"), fps=25) == EVERY_FRAME
    assert stream_rate(stream_config("x.mp4", rate={"period": -1, "unit": "frame"}), fps=25) == EVERY_FRAME

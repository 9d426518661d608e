"""The agent's sampling rate: the analytics' ``rate``s combined, missing or invalid ones meaning every frame."""

from __future__ import annotations

from agents.video_agent.sampling import stream_rate
from schemas.analytics import Rate
from schemas.rate import EVERY_FRAME, RateGate
from tests.support_agent import stream_config


def test_smallest_period_wins_across_units() -> None:
    config = stream_config("x.mp4", rate={"period": 10, "unit": "frame"})
    second = config.analytics[0].model_copy(update={"parameters": {"rate": {"period": 0.2, "unit": "second"}}})
    config.analytics.append(second)
    assert stream_rate(config, fps=25) == Rate(period=0.2, unit="second")  # 10 frames = 0.4 s
    assert stream_rate(config, fps=100) == Rate(period=10, unit="frame")  # 10 frames = 0.1 s


def test_frame_periods_combine_so_each_analytic_gets_its_exact_frames() -> None:
    config = stream_config("x.mp4", rate={"period": 10, "unit": "frame"})
    other = config.analytics[0].model_copy(update={"parameters": {"rate": {"period": 15, "unit": "frame"}}})
    config.analytics.append(other)
    rate = stream_rate(config, fps=25)
    assert rate == Rate(period=5, unit="frame")
    gate = RateGate(rate)
    published = [n for n in range(31) if gate.due(n, n / 25)]
    assert {0, 10, 20, 30} <= set(published) and {0, 15, 30} <= set(published)


def test_missing_or_invalid_rate_means_every_frame() -> None:
    assert stream_rate(stream_config("x.mp4"), fps=25) == EVERY_FRAME
    assert stream_rate(stream_config("x.mp4", rate={"period": -1, "unit": "frame"}), fps=25) == EVERY_FRAME

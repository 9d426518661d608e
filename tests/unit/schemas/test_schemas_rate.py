"""LUNA's ``rate`` gate: every Nth frame, every N seconds, on whole and on already sampled streams."""

from __future__ import annotations

from schemas.analytics import Rate
from schemas.rate import EVERY_FRAME, RateGate, sampling_rate

FRAMES_10 = Rate(period=10, unit="frame")


def _due(rate: Rate, frames: list[int], fps: float = 25) -> list[int]:
    gate = RateGate(rate)
    return [n for n in frames if gate.due(n, n / fps)]


def test_every_n_frames_is_exact() -> None:
    assert _due(FRAMES_10, list(range(35))) == [0, 10, 20, 30]
    assert _due(EVERY_FRAME, list(range(5))) == [0, 1, 2, 3, 4]


def test_every_n_seconds_is_exact() -> None:
    assert _due(Rate(period=0.5, unit="second"), list(range(21)), fps=10) == [0, 5, 10, 15, 20]
    assert _due(Rate(period=1, unit="second"), list(range(76))) == [0, 25, 50, 75]


def test_seconds_follow_timestamps_not_frame_counts() -> None:
    gate = RateGate(Rate(period=1, unit="second"))
    offsets = [10.0, 10.4, 10.9, 11.2, 11.3, 13.5, 13.6, 14.0]  # starts late, jumps a gap
    assert [t for n, t in enumerate(offsets) if gate.due(n, t)] == [10.0, 11.2, 13.5, 14.0]


def test_presampled_frames_get_the_first_frame_of_each_period_without_drift() -> None:
    # The agent sent every 3rd frame; the analytic wants every 10th: the first frame at or after 10, 20, 30.
    assert _due(FRAMES_10, list(range(0, 43, 3))) == [0, 12, 21, 30, 42]
    # Sampled at the analytic's own rate, every frame offered is due, wherever the stream was joined.
    assert _due(FRAMES_10, list(range(1230, 1300, 10))) == list(range(1230, 1300, 10))
    # 24 fps sampled every 0.3 s by the agent: a gate measuring from the last frame would skip 0.625 s.
    offsets = [0, 8 / 24, 15 / 24, 22 / 24, 29 / 24]
    gate = RateGate(Rate(period=0.3, unit="second"))
    assert all(gate.due(n, t) for n, t in enumerate(offsets))


def test_a_position_going_backwards_starts_again() -> None:
    gate = RateGate(FRAMES_10)
    assert [gate.due(n, 0) for n in (0, 5, 10, 3, 8, 13)] == [True, False, True, True, False, True]


def test_sampling_rate_is_the_densest_that_serves_every_analytic() -> None:
    assert sampling_rate([], fps=25) == EVERY_FRAME
    assert sampling_rate([FRAMES_10, Rate(period=15, unit="frame")], fps=25) == Rate(period=5, unit="frame")
    assert sampling_rate([FRAMES_10, Rate(period=20, unit="frame")], fps=25) == FRAMES_10
    seconds = [Rate(period=1, unit="second"), Rate(period=0.5, unit="second")]
    assert sampling_rate(seconds, fps=25) == Rate(period=0.5, unit="second")
    assert sampling_rate([FRAMES_10, *seconds], fps=25) == FRAMES_10  # 0.4 s
    assert sampling_rate([FRAMES_10, *seconds], fps=10) == Rate(period=0.5, unit="second")  # 10 frames = 1 s


def test_skippable_frames_are_exactly_those_that_will_not_be_due() -> None:
    gate = RateGate(FRAMES_10)
    assert not gate.skippable(3)  # nothing offered yet: the first frame offered will be due
    skippable, due = [], []
    for n in range(35):
        skippable.append(n > 0 and gate.skippable(n))
        due.append(gate.due(n, n / 25))
    assert skippable == [n > 0 and not d for n, d in enumerate(due)]
    assert [gate.skippable(n) for n in (34, 35, 39, 40, 41, 50)] == [False, True, True, False, True, False]


def test_skipping_changes_nothing_on_a_stream_joined_late_or_offered_in_part() -> None:
    gate = RateGate(FRAMES_10)
    offered = [n for n in range(1233, 1300) if not gate.skippable(n) and gate.due(n, n / 25)]
    assert offered == _due(FRAMES_10, list(range(1233, 1300)))


def test_seconds_and_every_frame_are_never_skippable() -> None:
    for rate in (Rate(period=0.5, unit="second"), EVERY_FRAME):
        gate = RateGate(rate)
        gate.due(0, 0.0)
        assert not any(gate.skippable(n) for n in range(1, 30))

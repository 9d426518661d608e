"""LUNA's timestamp_source with its accuracy rules, and pts.start_time."""

from __future__ import annotations

import time

from agents.video_agent.clock import FrameClock


def test_file_auto_uses_accurate_pts_plus_start_time() -> None:
    clock = FrameClock("auto", live=False, start_time=100.0)
    assert clock.offset(0, 0.5, 25) == 100.5
    assert clock.mode == "pts"


def test_file_auto_falls_back_to_frame_rate_when_pts_are_inaccurate() -> None:
    clock = FrameClock("auto", live=False)
    assert clock.offset(50, 2e5, 25) == 2.0  # |pts| > 10^5 s is not accurate for a file
    assert clock.mode == "frame_rate"
    assert FrameClock("auto", live=False).offset(5, None, 10) == 0.5


def test_stream_auto_uses_pts_only_near_server_time() -> None:
    near = FrameClock("auto", live=True)
    now = time.time()
    near.offset(0, now, 25)
    assert near.mode == "pts"
    assert abs(near.offset(1, now + 0.04, 25) - 0.04) < 1e-6
    far = FrameClock("auto", live=True)
    far.offset(0, 3.0, 25)
    assert far.mode == "server"


def test_explicit_sources() -> None:
    assert FrameClock("frame_rate", live=False).offset(30, 99.0, 10) == 3.0
    assert FrameClock("pts", live=False).offset(30, 7.25, 10) == 7.25
    server = FrameClock("server", live=True)
    time.sleep(0.05)
    assert 0.04 < server.offset(0, 123.0, 10) < 1.0


def test_live_timeline_continues_across_reconnects() -> None:
    clock = FrameClock("pts", live=True)
    clock.new_session(10)
    assert [round(clock.offset(i, 50 + i / 10, 10), 9) for i in range(3)] == [0.0, 0.1, 0.2]
    clock.new_session(10)  # the camera restarted its PTS
    assert abs(clock.offset(0, 3.0, 10) - 0.3) < 1e-9
    assert abs(clock.offset(1, 3.1, 10) - 0.4) < 1e-9

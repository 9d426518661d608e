"""Stream reports: error throttling (LUNA: identical errors at most once per 5 s), LUNA's texts."""

from __future__ import annotations

import uuid

import av

from agents.video_agent.reporting import StreamState, connection_error, decoding_error, redact


def test_identical_errors_are_reported_once_per_five_seconds() -> None:
    state = StreamState(uuid.uuid4(), 1)
    lost = connection_error("rtsp://cam/1", ConnectionRefusedError(111, "Connection refused"))
    assert state.error(lost)
    assert not state.error(lost)
    other = decoding_error(av.ExitError(1414092869, "Immediate exit requested"), 12.3456)
    assert state.error(other)
    state._error_seen = {k: t - 5.0 for k, t in state._error_seen.items()}  # five seconds later
    assert state.error(lost)
    assert state.last_error == lost


def test_timeout_text_is_lunas() -> None:
    error = decoding_error(av.ExitError(1414092869, "Immediate exit requested"), 123.456)
    assert error.detail == "An error occurred during stream/video decoding around 123.456 second: TIMEOUT"


def test_credentials_never_reach_errors() -> None:
    assert redact("rtsp://admin:secret@10.0.0.5:554/live") == "rtsp://***@10.0.0.5:554/live"
    assert redact("/videos/a.mp4") == "/videos/a.mp4"
    error = connection_error("rtsp://admin:secret@cam/1", OSError(113, "No route to host"))
    assert "secret" not in error.detail and "No route to host" in error.detail


def test_report_carries_health_figures() -> None:
    state = StreamState(uuid.uuid4(), 3)
    state.decoder, state.dropped, state.last_processed_frame_time = "cpu", 4, 1.5
    report = state.report()
    figures = (report.version, report.decoder, report.dropped_frames, report.last_processed_frame_time)
    assert figures == (3, "cpu", 4, 1.5)
    assert report.status.luna_name == "in_progress"

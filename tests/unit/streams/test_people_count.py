"""People counting on synthetic track sequences: LUNA's start/end rule, rate, roi, droi (WKT with holes),
the counting lines' debounce and the zones."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from schemas.analytics import PeopleCountParameters
from schemas.detections import Detections
from schemas.streams import StreamConfig, StreamConfigAnalytic, StreamData
from schemas.tracks import TrackUpdate, no_tracks
from streams.configs import DEFAULT_SETUP, StreamConfigs, StreamSetup, setup_for
from streams.people_count import PeopleCounter, PeopleCounters

STREAM = uuid.uuid4()


def person(x: float, y: float, track_id: str | None = None, *, w: float = 20, h: float = 50,
           moving: bool = True, seen: bool = True, state: str = "confirmed") -> Detections:
    return Detections([[x, y, x + w, y + h]], [0.875], "person", [track_id or uuid.uuid4().hex[:12]], {
        "state": [state], "age_frames": [1], "moving": [moving], "detection_id": [uuid.uuid4() if seen else None]})


def frame(n: int, tracks: list[Detections], fps: float = 10.0) -> TrackUpdate:
    return TrackUpdate(stream_id=STREAM, version=1, frame_number=n, time_offset=n / fps,
                       timestamp=datetime.now(UTC), width=400, height=300,
                       tracks=Detections.merge(tracks) if tracks else no_tracks())


def crowd(count: int) -> list[Detections]:
    return [person(10 + 30 * i, 100) for i in range(count)]


def counter(**params: object) -> PeopleCounter:
    params.setdefault("rate", {"period": 1, "unit": "frame"})
    return PeopleCounter(STREAM, uuid.uuid4(), 1, 0, PeopleCountParameters.model_validate(params))


def statuses(c: PeopleCounter, counts: list[int]) -> list[tuple[int, str]]:
    out = []
    for n, count in enumerate(counts):
        for message in c.process(frame(n, crowd(count))).events:
            out.append((n, message.event.event_status))
    return out


def test_luna_example_10_10_9_starts_nothing() -> None:
    c = counter(people_count_threshold=10, probe_count=3)
    assert statuses(c, [10, 10, 9]) == []
    assert c.open is None


def test_event_starts_on_last_probe_frame_and_ends_symmetrically() -> None:
    c = counter(people_count_threshold=10, probe_count=3)
    events = []
    for n, count in enumerate([10, 10, 10, 12, 9, 11, 9, 9, 9, 10]):
        events += [(n, m) for m in c.process(frame(n, crowd(count))).events]
    assert [(n, m.event.event_status) for n, m in events] == [(2, "started"), (8, "ended")]
    started, ended = events[0][1], events[1][1]
    assert started.event_id == ended.event_id and started.event.track_id == ended.event.track_id
    assert started.event_type == "crowd" and started.analytic_name == "people_count"
    assert ended.event.people_count == 12
    assert ended.event.video_segment.start_time_offset == pytest.approx(0.2)
    assert ended.event.video_segment.end_time_offset == pytest.approx(0.8)
    assert [e.people_count for e in ended.event.frames_estimations] == [10, 12, 9, 11, 9, 9, 9]
    assert ended.end_time is not None and started.end_time is None


def test_rate_in_frames_and_seconds() -> None:
    by_frames = counter(rate={"period": 10, "unit": "frame"})
    sampled = [n for n in range(35) if by_frames.process(frame(n, crowd(1))).samples]
    assert sampled == [0, 10, 20, 30]
    by_seconds = counter(rate={"period": 0.5, "unit": "second"})
    sampled = [n for n in range(25) if by_seconds.process(frame(n, crowd(1))).samples]
    assert sampled == [0, 5, 10, 15, 20]


def test_count_sample_skips_static_and_unseen_tracks() -> None:
    c = counter()
    tracks = crowd(3) + [person(300, 10, moving=False), person(300, 100, seen=False, state="lost")]
    [sample] = c.process(frame(0, tracks)).samples
    assert sample.people_count == 3 and sample.frame_number == 0


@pytest.mark.parametrize(
    ("roi", "expected"),
    [
        ({"x": 0, "y": 0, "width": 0, "height": 0}, 3),  # 0x0: the whole frame
        ({"x": 0, "y": 0, "width": 90, "height": 300}, 1),  # centres at x 20, 100, 320
        ({"x": 0, "y": 0, "width": 50, "height": 100, "mode": "percent"}, 2),  # 200 px wide
    ],
)
def test_roi_filters_by_box_centre(roi: dict, expected: int) -> None:
    c = counter(roi=roi)
    tracks = [person(10, 100), person(90, 100), person(310, 100)]
    assert c.process(frame(0, tracks)).samples[0].people_count == expected


def test_droi_polygons_and_wkt_with_holes() -> None:
    # Feet (bottom centres) at (20, 150), (100, 150), (200, 150), (320, 150).
    tracks = [person(10, 100), person(90, 100), person(190, 100), person(310, 100)]
    square = [{"x": 0, "y": 0}, {"x": 250, "y": 0}, {"x": 250, "y": 300}, {"x": 0, "y": 300}]
    assert counter(droi={"area": [square]}).process(frame(0, tracks)).samples[0].people_count == 3
    holed = "POLYGON ((0 0, 250 0, 250 300, 0 300, 0 0), (80 120, 120 120, 120 180, 80 180, 80 120))"
    assert counter(droi={"area": holed}).process(frame(0, tracks)).samples[0].people_count == 2
    percent = {"area": "POLYGON ((75 0, 100 0, 100 100, 75 100, 75 0))", "mode": "percent"}
    assert counter(droi=percent).process(frame(0, tracks)).samples[0].people_count == 1


def test_line_crossing_is_debounced_and_directional() -> None:
    # A horizontal line at y=150 from left to right: below is its right side, so moving up is "in".
    c = counter(lines=[{"line_id": "door", "start": {"x": 0, "y": 150}, "end": {"x": 400, "y": 150}}])
    feet_y = [200, 190, 140, 160, 140, 130, 120, 170, 180, 190]  # jitter at frame 3 must not count
    crossings = []
    for n, y in enumerate(feet_y):
        out = c.process(frame(n, [person(100, y - 50, "walker")]))
        crossings += [(n, m.event.direction) for m in out.events if m.event_type == "line_crossing"]
    assert crossings == [(5, "in"), (8, "out")]
    assert out.samples[0].line_in == {"door": 1} and out.samples[0].line_out == {"door": 1}


def test_zone_occupancy_enter_and_leave() -> None:
    zone = {"zone_id": "desk", "polygon": [{"x": 0, "y": 0}, {"x": 200, "y": 0}, {"x": 200, "y": 300},
                                             {"x": 0, "y": 300}]}
    c = counter(zones=[zone])
    inside = c.process(frame(0, [person(50, 50, "a"), person(70, 50, "b"), person(300, 50, "c")]))
    assert [m.event.event_status for m in inside.events if m.event_type == "zone_occupancy"] == ["started"] * 2
    assert inside.samples[0].zone_counts == {"desk": 2}
    left = c.process(frame(1, [person(300, 50, "a"), person(70, 50, "b")]))
    [ended] = [m for m in left.events if m.event_type == "zone_occupancy"]
    assert ended.event.track_id == "a" and ended.event.event_status == "ended" and ended.event.people_count == 1
    assert left.samples[0].zone_counts == {"desk": 1} and left.samples[0].zone_entries == {"desk": 2}


def test_config_change_ends_open_event_and_uses_new_parameters() -> None:
    counters = PeopleCounters()
    def config(version: int, threshold: int) -> StreamSetup:
        return setup_for(StreamConfig(
            stream_id=STREAM, account_id=uuid.uuid4(), version=version,
            data=StreamData(type="stream", reference="rtsp://cam"),
            analytics=[StreamConfigAnalytic(index=0, analytic_name="people_count", parameters={
                "people_count_threshold": threshold, "probe_count": 1, "rate": {"period": 1, "unit": "frame"}})],
        ))
    first = counters.process(frame(0, crowd(2)), config(1, 2))
    assert [m.event.event_status for m in first.events] == ["started"]
    changed = counters.process(frame(1, crowd(2)), config(2, 5))
    assert [m.event.event_status for m in changed.events] == ["ended"]
    assert counters.process(frame(2, crowd(2)), DEFAULT_SETUP).samples[0].account_id == uuid.UUID(int=0)


def test_end_of_stream_ends_the_open_event() -> None:
    c = counter(people_count_threshold=2, probe_count=1)
    [started] = c.process(frame(0, crowd(3))).events
    out = c.process(frame(1, crowd(3)).model_copy(update={"end_of_stream": True}))
    assert [(m.event_id, m.event.event_status) for m in out.events] == [(started.event_id, "ended")]
    assert out.samples == [] and c.open is None


def test_overview_is_the_frame_with_the_most_people() -> None:
    c = counter(people_count_threshold=2, probe_count=1, targets=["overview"])
    shots = {3: b"three", 5: b"five", 4: b"four"}
    events = [m for n, k in enumerate([3, 5, 4, 0]) for m in
              c.process(frame(n, crowd(k)).model_copy(update={"overview": shots.get(k)})).events]
    assert [m.event.event_status for m in events] == ["started", "ended"]
    assert events[0].event.overview == b"three" and events[1].event.overview == b"five"
    plain = counter(people_count_threshold=2, probe_count=1)
    [started] = plain.process(frame(0, crowd(3)).model_copy(update={"overview": b"x"})).events
    assert started.event.overview is None


def test_an_unchanged_config_read_again_keeps_the_counters() -> None:
    counters = PeopleCounters()
    config = StreamConfig(stream_id=STREAM, account_id=uuid.uuid4(), version=1,
                          data=StreamData(type="stream", reference="rtsp://cam"),
                          analytics=[StreamConfigAnalytic(index=0, analytic_name="people_count", parameters={
                              "people_count_threshold": 2, "probe_count": 1, "rate": {"period": 1, "unit": "frame"}})])

    configs = StreamConfigs()
    configs.apply(str(STREAM).encode(), config.model_dump_json().encode())
    first = configs.get(STREAM)
    assert [m.event.event_status for m in counters.process(frame(0, crowd(2)), first).events] == ["started"]
    configs.apply(str(STREAM).encode(), config.model_dump_json().encode())  # the topic read again
    assert configs.get(STREAM) is first
    assert counters.process(frame(1, crowd(2)), configs.get(STREAM)).events == []
    configs.apply(str(STREAM).encode(), None)  # deleted: no analytics, the open event ends
    assert [m.event.event_status for m in counters.process(frame(2, crowd(2)), configs.get(STREAM)).events] == ["ended"]


def at(n: int, offset: float, tracks: list[Detections]) -> TrackUpdate:
    return frame(n, tracks).model_copy(update={"time_offset": offset})


def test_time_going_back_ends_the_crowd_event_and_starts_a_new_one() -> None:
    # Offsets 0.0 .. 0.5, then the source's timestamps restart at 0 (a TS resolution change, a replay).
    c = counter(people_count_threshold=2, probe_count=2)
    offsets = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.0, 0.1, 0.2]
    events = []
    for n, offset in enumerate(offsets):
        events += [(n, m) for m in c.process(at(n, offset, crowd(3))).events]
    assert [(n, m.event.event_status) for n, m in events] == [(1, "started"), (6, "ended"), (6, "started")]
    (_, first), (_, ended), (_, again) = events
    assert ended.event_id == first.event_id and again.event_id != first.event_id
    assert (ended.event.video_segment.start_time_offset, ended.event.video_segment.end_time_offset) == (0.1, 0.5)
    assert again.event.video_segment.start_time_offset == 0.0
    assert c.process(at(9, 0.3, crowd(0))).events == [] and c.open is not None
    assert c.open.event.event_id == again.event_id and c.open.event.video_segment.end_time_offset == 0.3


def test_time_going_back_restarts_zone_stays_on_the_new_timeline() -> None:
    zone = {"zone_id": "desk", "polygon": [{"x": 0, "y": 0}, {"x": 200, "y": 0}, {"x": 200, "y": 300},
                                             {"x": 0, "y": 300}]}
    c = counter(zones=[zone])
    [entered] = [m for m in c.process(at(0, 4.0, [person(50, 50, "a")])).events if m.event_type == "zone_occupancy"]
    c.process(at(1, 4.5, [person(50, 50, "a")]))
    jumped = [m for m in c.process(at(2, 0.2, [person(50, 50, "a")])).events if m.event_type == "zone_occupancy"]
    assert [(m.event.event_status, m.event.video_segment.start_time_offset,
             m.event.video_segment.end_time_offset) for m in jumped] == [("ended", 4.0, 4.5), ("started", 0.2, 0.2)]
    assert jumped[0].event_id == entered.event_id and jumped[1].event_id != entered.event_id
    [left] = [m for m in c.process(at(3, 0.3, [person(300, 50, "a")])).events if m.event_type == "zone_occupancy"]
    assert left.event_id == jumped[1].event_id and left.event.event_status == "ended"
    assert (left.event.video_segment.start_time_offset, left.event.video_segment.end_time_offset) == (0.2, 0.3)
    assert c.process(at(4, 0.4, [])).samples[0].zone_entries == {"desk": 1}


def test_a_new_agent_run_of_the_same_version_ends_the_old_runs_event() -> None:
    # An agent restart plays the same stream version again from frame 0: a new run, new counters.
    counters = PeopleCounters()
    setup = setup_for(StreamConfig(
        stream_id=STREAM, account_id=uuid.uuid4(), version=1, data=StreamData(type="stream", reference="rtsp://cam"),
        analytics=[StreamConfigAnalytic(index=0, analytic_name="people_count", parameters={
            "people_count_threshold": 2, "probe_count": 1, "rate": {"period": 1, "unit": "frame"}})],
    ))
    first = [counters.process(frame(n, crowd(2)).model_copy(update={"run": 100}), setup) for n in range(3)]
    assert [m.event.event_status for out in first for m in out.events] == ["started"]
    again = counters.process(frame(0, crowd(2)).model_copy(update={"run": 200}), setup)
    assert [m.event.event_status for m in again.events] == ["ended", "started"]
    assert again.events[0].event_id == first[0].events[0].event_id
    assert [s.run for s in again.samples] == [200]
    late = counters.process(frame(3, crowd(2)).model_copy(update={"run": 100}), setup)
    assert late.events == [] and late.samples == []  # the old run's straggler is stale

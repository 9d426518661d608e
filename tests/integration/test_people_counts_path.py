"""Real vtest frames through the real worker and sink into ClickHouse: ``people_counts`` holds one row per
frame with the count the people_count analytic produced, close to the hand labels, and ``analytics_events``
the stream's LUNA people-count (``crowd``) event.

The 39 labelled JPEGs (tests/data/vtest_NNNN.jpg, frames 0, 20, ..., 760 of vtest.avi at 10 fps) go out as one
stream in video order, then the agent's end-of-video marker. Measured with the default inference and
tracking settings: people-count MAE per frame 0.30 on the ``counts`` set (the frames the defaults were
chosen on; 6 frames off by 1) and 0.63 on ``held_out_counts`` (12 off in all; at worst frame 140, 6 counted
for 9). bench/processors.py, which counts every 10th frame of the whole video, reports 0.35 and 0.63.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from analytics.events.chdb_warehouse import ChdbWarehouse
from analytics.events.sink import Sink
from infra.root.worker import build_app
from infra.settings import BrokerSettings, SinkSettings, WorkerSettings
from schemas.streams import StreamConfig, StreamConfigAnalytic, StreamData
from streams.runner import running
from tests.integration.streams.conftest import EncodedFrame, publish_config, publish_frames
from tests.support import eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")

DATA = Path(__file__).resolve().parents[1] / "data"
LABELS = json.loads((DATA / "vtest_people_labels.json").read_text())
FPS = 10  # vtest.avi's rate: a frame's time offset is its number / FPS
PROBE_COUNT = 3
# Label set -> (bound on the MAE per frame, bound on any one frame's error): a little above what the models
# achieve today (see the module docstring), so that three more frames off by one break them.
BOUNDS = {"counts": (0.4, 2), "held_out_counts": (0.75, 3)}


def labelled_frames() -> list[EncodedFrame]:
    numbers = sorted(int(n) for key in BOUNDS for n in LABELS[key])
    frames = []
    for number in numbers:
        jpeg = (DATA / f"vtest_{number:04d}.jpg").read_bytes()
        height, width = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR).shape[:2]
        frames.append(EncodedFrame(number, number / FPS, jpeg, width, height))
    return frames


@pytest.fixture
async def pipeline(broker: BrokerSettings, warehouse: ChdbWarehouse,
                   worker_settings: WorkerSettings) -> AsyncIterator[None]:
    """The worker as ``selene worker`` builds it, and the warehouse sink, both on the session's broker."""
    sinker = Sink(broker.bootstrap, f"{worker_settings.app_id}-sink", warehouse,
                  SinkSettings(batch_size=50, batch_seconds=0.2))
    await sinker.start()
    try:
        async with running(build_app(broker, worker_settings)):
            yield
    finally:
        await sinker.stop()


async def _counts(warehouse: ChdbWarehouse, stream_id: uuid.UUID) -> list[dict]:
    # No FINAL: a frame counted twice must show as two rows, not collapse into one.
    return await warehouse.query(
        f"SELECT frame_number, time_offset, people_count, toString(account_id) AS account_id, version, "
        f"analytic_index FROM {warehouse.database}.people_counts "
        f"WHERE stream_id = '{stream_id}' ORDER BY frame_number")


async def _crowd_events(warehouse: ChdbWarehouse, stream_id: uuid.UUID) -> list[dict]:
    return await warehouse.query(
        f"SELECT toString(event_id) AS event_id, toString(account_id) AS account_id, analytic_name, "
        f"analytic_index, event_status, people_count, start_time_offset, end_time_offset, event "
        f"FROM {warehouse.database}.people_count_events WHERE stream_id = '{stream_id}'")


async def test_labelled_frames_are_counted_into_people_counts_and_a_crowd_event(
    pipeline: None, broker: BrokerSettings, warehouse: ChdbWarehouse
) -> None:
    stream_id, account_id = uuid.uuid4(), uuid.uuid4()
    frames = labelled_frames()
    # Every frame counted (the default rate is every 10th); the default threshold, 1, and probe count.
    await publish_config(broker.bootstrap, StreamConfig(
        stream_id=stream_id, account_id=account_id, version=1,
        data=StreamData(type="videofile", reference="vtest.avi"),  # where the JPEGs were cut from
        analytics=[StreamConfigAnalytic(index=0, analytic_name="people_count", parameters={
            "probe_count": PROBE_COUNT, "rate": {"period": 1, "unit": "frame"}})],
    ))
    assert await publish_frames(broker.bootstrap, stream_id, frames, end=True) == len(frames)

    rows = await eventually(lambda: _counts(warehouse, stream_id), lambda r: len(r) >= len(frames), timeout=90)
    [event] = await eventually(lambda: _crowd_events(warehouse, stream_id),
                               lambda e: [x["event_status"] for x in e] == ["ended"], timeout=30)
    rows = await _counts(warehouse, stream_id)  # anything counted twice has landed by now

    # Nothing lost, nothing duplicated, nothing else: one row per published frame.
    assert Counter(r["frame_number"] for r in rows) == Counter(f.frame_number for f in frames)
    assert {(r["account_id"], r["version"], r["analytic_index"]) for r in rows} == {(str(account_id), 1, 0)}
    assert [r["time_offset"] for r in rows] == [f.time_offset for f in frames]
    counted = {r["frame_number"]: r["people_count"] for r in rows}

    for key, (mae_bound, frame_bound) in BOUNDS.items():
        errors = {int(n): abs(counted[int(n)] - label) for n, label in LABELS[key].items()}
        assert sum(errors.values()) / len(errors) <= mae_bound, (key, errors)
        assert max(errors.values()) <= frame_bound, (key, errors)

    # Threshold 1 and people on every frame: one event, from the PROBE_COUNT-th frame to the end of the video.
    assert min(counted.values()) >= 1
    assert event["account_id"] == str(account_id)
    assert (event["analytic_name"], event["analytic_index"]) == ("people_count", 0)
    start = PROBE_COUNT - 1
    assert (event["start_time_offset"], event["end_time_offset"]) == (frames[start].time_offset, frames[-1].time_offset)
    in_event = [counted[f.frame_number] for f in frames[start:]]
    assert event["people_count"] == max(in_event)
    # The event's per-frame estimations are the very counts people_counts holds.
    estimations = json.loads(event["event"])["frames_estimations"]
    assert [(e["time_offset"], e["people_count"]) for e in estimations] == [
        (f.time_offset, counted[f.frame_number]) for f in frames[start:]]

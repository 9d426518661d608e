"""Every Grafana panel's SQL runs on chdb against seeded data and returns rows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from analytics.events import dashboards
from analytics.events.chdb_warehouse import ChdbWarehouse
from analytics.events.rows import (
    analytics_event_row,
    count_row,
    frame_stat_row,
    general_event_row,
)
from schemas.events import AnalyticsEventMessage, CountSample, GeneralEventMessage
from schemas.frames import FrameStat

pytestmark = pytest.mark.asyncio(loop_scope="session")
NOW = datetime.now(UTC)
STREAM, ACCOUNT = uuid.uuid4(), uuid.uuid4()


def seeds() -> dict[str, list[dict]]:
    stamps = [NOW - timedelta(minutes=m) for m in range(0, 60, 5)]
    frames = [
        frame_stat_row(FrameStat(stream_id=STREAM, version=1, frame_number=i, time_offset=i, timestamp=t,
                                 received_at=t + timedelta(milliseconds=80), width=768, height=576, size=80_000))
        for i, t in enumerate(stamps)
    ]
    counts = [
        count_row(CountSample(stream_id=STREAM, account_id=ACCOUNT, time_offset=i, timestamp=t, people_count=i % 5,
                              zone_counts={"door": i % 3}, line_in={"gate": i}, line_out={"gate": i // 2}))
        for i, t in enumerate(stamps)
    ]
    events = []
    for i, (kind, body) in enumerate([
        ("crowd", {"people_count": 4, "event_status": "ended",
                   "video_segment": {"start_time_offset": 1, "end_time_offset": 9}}),
        ("line_crossing", {"line_id": "gate", "direction": "in", "time_offset": 3}),
        ("line_crossing", {"line_id": "gate", "direction": "out", "time_offset": 5}),
    ]):
        event_id = uuid.uuid4()
        message = AnalyticsEventMessage.model_validate({
            "event_id": event_id, "stream_id": STREAM, "account_id": ACCOUNT, "version": 1,
            "analytic_name": "people_count", "analytic_index": 0, "event_type": kind,
            "create_time": NOW - timedelta(minutes=i), "event": {"event_id": event_id, "track_id": f"t{i}", **body},
        })
        events.append(analytics_event_row(message))
    general = [general_event_row(GeneralEventMessage(
        event_id=uuid.uuid4(), event_type="match", account_id=ACCOUNT, event_create_time=NOW, event={"x": 1}))]
    return {"frame_stats": frames, "people_counts": counts, "analytics_events": events, "general_events": general}


@pytest.fixture(scope="module")
async def seeded(warehouse: ChdbWarehouse) -> ChdbWarehouse:
    for table, rows in seeds().items():
        await warehouse.insert(table, rows)
    return warehouse


def test_dashboards_cover_every_view() -> None:
    uids = {p.dashboard for p in dashboards.panels()}
    assert uids == {"selene-people-count", "selene-occupancy", "selene-line-crossing", "selene-events",
                    "selene-stream-health", "selene-pipeline-health"}


@pytest.mark.parametrize("panel", dashboards.panels(), ids=lambda p: f"{p.dashboard}:{p.title}")
async def test_panel_query_runs_and_returns_rows(seeded: ChdbWarehouse, panel: dashboards.Panel) -> None:
    # The window ends when the test runs: rows get their insert_time then, maybe minutes after collection.
    text = dashboards.render(panel.sql, NOW - timedelta(hours=2), datetime.now(UTC) + timedelta(minutes=1), 300, seeded.database)
    assert "$__" not in text
    rows = await seeded.query(text)
    assert rows, f"{panel.title}: no rows from\n{text}"

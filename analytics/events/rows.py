"""Contract messages -> warehouse rows: pure functions, one per table."""

from __future__ import annotations

import json
from typing import Any

from schemas.events import (
    AnalyticsEventMessage,
    CountSample,
    GeneralEventMessage,
    LineCrossingEvent,
)
from schemas.frames import FrameStat

_LOCATION_COLUMNS = ("city", "area", "district", "street", "house_number")


def frame_stat_row(stat: FrameStat) -> dict[str, Any]:
    return stat.model_dump(mode="json")


def count_row(sample: CountSample) -> dict[str, Any]:
    return sample.model_dump(mode="json")


def analytics_event_row(message: AnalyticsEventMessage) -> dict[str, Any]:
    event = message.event
    if isinstance(event, LineCrossingEvent):  # instantaneous: a crossing starts and ends at once
        status, start, end = "ended", event.time_offset, event.time_offset
    else:
        status = event.event_status
        start, end = event.video_segment.start_time_offset, event.video_segment.end_time_offset
    return {
        "event_id": str(message.event_id),
        "event_type": message.event_type,
        "account_id": str(message.account_id),
        "stream_id": str(message.stream_id),
        "version": message.version,
        "analytic_name": message.analytic_name,
        "analytic_index": message.analytic_index,
        "track_id": event.track_id,
        "event_status": status,
        "status_rank": 1 if status == "ended" else 0,
        "create_time": message.create_time.isoformat(),
        "end_time": message.end_time.isoformat() if message.end_time else None,
        "people_count": getattr(event, "people_count", None),
        "start_time_offset": start,
        "end_time_offset": end,
        "event": event.model_dump_json(),
    }


def general_event_row(message: GeneralEventMessage) -> dict[str, Any]:
    data = message.model_dump(mode="json", exclude={"location", "descriptors", "event", "insert_time"})
    location = message.location
    for column in _LOCATION_COLUMNS:
        data[column] = getattr(location, column, None) if location else None
    geo = location.geo_position if location else None
    data["longitude"] = geo.longitude if geo else None
    data["latitude"] = geo.latitude if geo else None
    data["descriptors"] = json.dumps([d.model_dump(mode="json") for d in message.descriptors or []])
    data["event"] = json.dumps(message.event, separators=(",", ":"))
    return data

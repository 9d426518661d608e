"""Contract messages -> warehouse rows and columns: pure functions, one per table.

Values stay Python objects (UUID, datetime, dict); both inserts (columns, rows) write them as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from analytics.events.warehouse import Columns
from schemas.events import (
    AnalyticsEventMessage,
    CountSample,
    GeneralEventMessage,
    LineCrossingEvent,
)
from schemas.frames import FrameStat

_LOCATION_COLUMNS = ("city", "area", "district", "street", "house_number")
# The columns frame_stats and people_counts take straight from their message's fields: all of them (the run
# among them, or an agent restart's rows would replace the first run's), but the entries people_counts does
# not keep.
FRAME_STAT_COLUMNS = tuple(FrameStat.model_fields)
COUNT_COLUMNS = tuple(name for name in CountSample.model_fields if name != "zone_entries")


def fields_as_columns(messages: Sequence[BaseModel], names: Sequence[str]) -> Columns:
    """The messages' fields as columns, one pass per column and no dict per row."""
    return {name: [getattr(message, name) for message in messages] for name in names}


def rows_as_columns(rows: Sequence[dict[str, Any]]) -> Columns:
    """Rows that share their keys (each row function's do), turned into columns."""
    return {name: [row[name] for row in rows] for name in rows[0]} if rows else {}


def frame_stat_columns(stats: Sequence[FrameStat]) -> Columns:
    return fields_as_columns(stats, FRAME_STAT_COLUMNS)


def count_columns(samples: Sequence[CountSample]) -> Columns:
    return fields_as_columns(samples, COUNT_COLUMNS)


def analytics_event_columns(messages: Sequence[AnalyticsEventMessage]) -> Columns:
    return rows_as_columns([analytics_event_row(message) for message in messages])


def general_event_columns(messages: Sequence[GeneralEventMessage]) -> Columns:
    return rows_as_columns([general_event_row(message) for message in messages])


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
        "create_time": message.create_time,
        "end_time": message.end_time,
        "people_count": getattr(event, "people_count", None),
        "start_time_offset": start,
        "end_time_offset": end,
        "event": event.model_dump_json(),
    }


def general_event_row(message: GeneralEventMessage) -> dict[str, Any]:
    data = message.model_dump(exclude={"location", "descriptors", "event", "insert_time"})
    location = message.location
    for column in _LOCATION_COLUMNS:
        data[column] = getattr(location, column, None) if location else None
    geo = location.geo_position if location else None
    data["longitude"] = geo.longitude if geo else None
    data["latitude"] = geo.latitude if geo else None
    data["descriptors"] = json.dumps([d.model_dump(mode="json") for d in message.descriptors or []])
    data["event"] = json.dumps(message.event, separators=(",", ":"))
    return data

"""Analytics events (people count, human tracking, line crossing, zone occupancy) as LUNA-style events:
the subset of LUNA's ``/events`` filters that applies to them, pages and statistics."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from analytics.events import sql, stats
from analytics.events.event_table import EventTable, iso_times
from schemas.base import Body

TABLE = "analytics_events"


class EventFilters(Body):
    """LUNA's getEvents filters that analytics events have, plus ``event_types`` (crowd, human_tracking ...)."""

    event_ids: list[UUID] | None = None
    event_types: list[str] | None = None
    stream_ids: list[UUID] | None = None
    track_ids: list[str] | None = None
    create_time__gte: datetime | None = None
    create_time__lt: datetime | None = None
    end_time__gte: datetime | None = None
    end_time__lt: datetime | None = None
    people_count__gte: int | None = Field(default=None, ge=0, le=2**32 - 1)  # the column is UInt32
    people_count__lt: int | None = Field(default=None, ge=0, le=2**32)


def analytics_where(f: EventFilters, accounts: set[UUID]) -> str:
    clauses = [sql.in_list("account_id", (sql.uuid(a) for a in accounts))]
    if f.event_ids:
        clauses.append(sql.in_list("event_id", (sql.uuid(e) for e in f.event_ids)))
    if f.event_types:
        clauses.append(sql.in_list("event_type", (sql.string(t) for t in f.event_types)))
    if f.stream_ids:
        clauses.append(sql.in_list("stream_id", (sql.uuid(s) for s in f.stream_ids)))
    if f.track_ids:
        clauses.append(sql.in_list("track_id", (sql.string(t) for t in f.track_ids)))
    clauses += sql.time_range("create_time", f.create_time__gte, f.create_time__lt)
    clauses += sql.time_range("end_time", f.end_time__gte, f.end_time__lt)
    if f.people_count__gte is not None:
        clauses.append(f"people_count >= {int(f.people_count__gte)}")
    if f.people_count__lt is not None:
        clauses.append(f"people_count < {int(f.people_count__lt)}")
    return " AND ".join(clauses)


_KEYS = frozenset({"count", "group_by"})
STAT_COLUMNS: dict[str, stats.Column] = {
    **{name: stats.Column(f"toString({name})", _KEYS) for name in ("event_id", "stream_id")},
    **{name: stats.Column(name, _KEYS) for name in ("event_type", "track_id", "analytic_name", "event_status")},
    **{name: stats.Column(name, frozenset({"count", "max", "min"})) for name in ("create_time", "end_time")},
    "people_count": stats.Column("people_count", frozenset({"count", "max", "min", "avg", "group_by"})),
    "duration": stats.Column("end_time_offset - start_time_offset", frozenset({"count", "max", "min", "avg"})),
}
_COLUMNS = (
    "toString(event_id) AS event_id, event_type, toString(account_id) AS account_id, toString(stream_id) AS stream_id, "
    "version, analytic_name, analytic_index, track_id, event_status, toString(create_time) AS create_time, "
    "toString(end_time) AS end_time, event"
)


def to_event(row: dict[str, Any]) -> dict[str, Any]:
    """A row in LUNA's event shape: the analytic's own event object under ``event``."""
    row["event"] = json.loads(row["event"])
    iso_times(row, "create_time", "end_time")
    return row


class EventStore(EventTable[EventFilters]):
    TABLE = TABLE
    COLUMNS = _COLUMNS
    TIME_COLUMN = "create_time"
    STAT_COLUMNS = STAT_COLUMNS

    FILTERS = EventFilters
    where = staticmethod(analytics_where)
    to_event = staticmethod(to_event)

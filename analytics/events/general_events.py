"""LUNA's general events in the warehouse: filters, pages, get, delete and statistics, as SQL.

Filters keep LUNA's names (``create_time__gte``, ``stream_ids``, ``cities`` ...); list filters accept
the literal ``null`` for "not set". Content filters follow LUNA's meta grammar on the event's JSON:
``event.<path>__<op>:<type>`` with ops eq, neq, like, nlike, in, nin, gt, gte, lt, lte and types
string (default), integer, numeric.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from analytics.events import sql, stats
from analytics.events.event_table import EventTable, iso_times
from analytics.events.rows import general_event_row
from schemas.base import Body
from schemas.events import GeneralEventMessage

TABLE = "general_events"
_CONTENT = r"^{column}\.(?P<path>[^_:][^:]*?)(?:__(?P<op>[a-z]+))?(?::(?P<type>string|integer|numeric))?$"
_OPS = {"eq": "=", "neq": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "like": "LIKE", "nlike": "NOT LIKE"}
_LOCATION = ("city", "area", "district", "street", "house_number")
_LOCATION_FILTERS = {"cities": "city", "areas": "area", "districts": "district", "streets": "street", "house_numbers": "house_number"}


def _int64(value: str) -> int:
    number = int(value)
    if not -(2**63) <= number < 2**63:
        raise ValueError(f"{value} is out of the integer range")
    return number


class ContentFilter(Body):
    """A filter on a JSON column: general events' ``event.<path>``, LUNA events' ``meta.<path>``."""

    path: str
    op: Literal["eq", "neq", "like", "nlike", "in", "nin", "gt", "gte", "lt", "lte"] = "eq"
    type: Literal["string", "integer", "numeric"] = "string"
    value: str
    column: Literal["event", "meta"] = "event"

    @classmethod
    def parse(cls, key: str, value: str, column: Literal["event", "meta"] = "event") -> ContentFilter:
        match = re.match(_CONTENT.format(column=column), key)
        if not match:
            raise ValueError(f"bad {column} filter {key!r}")
        return cls(path=match["path"], op=match["op"] or "eq", type=match["type"] or "string", value=value, column=column)

    def clause(self) -> str:
        keys = ", ".join(sql.json_path(self.path))
        doc = self.column  # the JSON column the path reads
        if self.type != "string" and self.op in ("like", "nlike"):
            raise ValueError(f"{self.op} needs a string filter, not {self.type}")
        if self.type == "string":
            column, convert = f"JSONExtractString({doc}, {keys})", sql.string
        elif self.type == "integer":
            column, convert = f"JSONExtractInt({doc}, {keys})", lambda v: sql.number(_int64(v))
        else:
            column, convert = f"JSONExtractFloat({doc}, {keys})", lambda v: sql.number(float(v))
        if self.op in ("in", "nin"):
            values = ", ".join(convert(v) for v in self.value.split(","))
            test = f"{column} {'NOT ' if self.op == 'nin' else ''}IN ({values})"
        else:
            test = f"{column} {_OPS[self.op]} {convert(self.value)}"
        return f"(JSONHas({doc}, {keys}) AND {test})"


class GeneralEventFilters(Body):
    """The filters of LUNA's ``getGeneralEvents``, with LUNA's query names."""

    event_types: list[str] | None = None
    create_time__gte: datetime | None = None
    create_time__lt: datetime | None = None
    end_time__gte: datetime | None = None
    end_time__lt: datetime | None = None
    insert_time__gte: datetime | None = None
    insert_time__lt: datetime | None = None
    event_ids: list[UUID] | None = None
    event_id__gte: UUID | None = None
    event_id__lt: UUID | None = None
    sources: list[str] | None = None
    stream_ids: list[str] | None = None
    track_ids: list[str] | None = None
    cities: list[str] | None = None
    areas: list[str] | None = None
    districts: list[str] | None = None
    streets: list[str] | None = None
    house_numbers: list[str] | None = None
    origin_longitude: float | None = Field(default=None, ge=-180, le=180)
    origin_latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude_delta: float = Field(default=0.01, ge=0, le=90)
    latitude_delta: float = Field(default=0.01, ge=0, le=90)
    content: list[ContentFilter] = Field(default_factory=list)


def general_where(filters: GeneralEventFilters, accounts: set[UUID]) -> str:
    clauses = [sql.in_list("account_id", (sql.uuid(a) for a in accounts))]
    f = filters
    if f.event_types:
        clauses.append(sql.in_list("event_type", (sql.string(t) for t in f.event_types)))
    clauses += sql.time_range("event_create_time", f.create_time__gte, f.create_time__lt)
    clauses += sql.time_range("event_end_time", f.end_time__gte, f.end_time__lt)
    clauses += sql.time_range("insert_time", f.insert_time__gte, f.insert_time__lt)
    if f.event_ids:
        clauses.append(sql.in_list("event_id", (sql.uuid(e) for e in f.event_ids)))
    if f.event_id__gte:
        clauses.append(f"toString(event_id) >= {sql.string(str(f.event_id__gte))}")
    if f.event_id__lt:
        clauses.append(f"toString(event_id) < {sql.string(str(f.event_id__lt))}")
    nullable_lists = {"source": f.sources, "track_id": f.track_ids}
    nullable_lists.update({column: getattr(f, name) for name, column in _LOCATION_FILTERS.items()})
    for column, values in nullable_lists.items():
        if values:
            real = [v for v in values if v != "null"]
            clauses.append(sql.in_list(column, (sql.string(v) for v in real), True, "null" in values))
    if f.stream_ids:
        real = [v for v in f.stream_ids if v != "null"]
        clauses.append(sql.in_list("stream_id", (sql.uuid(v) for v in real), True, "null" in f.stream_ids))
    if (f.origin_longitude is None) != (f.origin_latitude is None):
        raise ValueError("origin_longitude and origin_latitude must be given together")
    if f.origin_longitude is not None and f.origin_latitude is not None:
        clauses.append(
            f"longitude BETWEEN {f.origin_longitude - f.longitude_delta} AND {f.origin_longitude + f.longitude_delta} "
            f"AND latitude BETWEEN {f.origin_latitude - f.latitude_delta} AND {f.origin_latitude + f.latitude_delta}"
        )
    clauses.extend(c.clause() for c in f.content)
    return " AND ".join(clauses)


def to_event(row: dict[str, Any]) -> dict[str, Any]:
    """A warehouse row in LUNA's general event shape."""
    location = {column: row.pop(column) for column in _LOCATION}
    longitude, latitude = row.pop("longitude"), row.pop("latitude")
    location["geo_position"] = (
        {"longitude": longitude, "latitude": latitude} if longitude is not None and latitude is not None else None
    )
    row["location"] = location if any(v is not None for v in location.values()) else None
    row["descriptors"] = json.loads(row["descriptors"]) or None
    row["event"] = json.loads(row["event"])
    iso_times(row, "event_create_time", "event_end_time", "insert_time")
    return row


_COLUMNS = (
    "toString(event_id) AS event_id, event_type, toString(account_id) AS account_id, "
    "toString(event_create_time) AS event_create_time, toString(event_end_time) AS event_end_time, "
    "toString(insert_time) AS insert_time, toString(stream_id) AS stream_id, track_id, source, "
    "city, area, district, street, house_number, longitude, latitude, descriptors, event"
)


_KEYS = frozenset({"count", "group_by"})
_TIMES = frozenset({"count", "max", "min"})
STAT_COLUMNS: dict[str, stats.Column] = {
    **{name: stats.Column(f"toString({name})", _KEYS) for name in ("event_id", "stream_id")},
    **{name: stats.Column(name, _KEYS) for name in ("event_type", "track_id", "source", *_LOCATION)},
    **{name: stats.Column(name, _TIMES) for name in ("event_create_time", "event_end_time", "insert_time")},
}


class GeneralEventStore(EventTable[GeneralEventFilters]):
    TABLE = TABLE
    COLUMNS = _COLUMNS
    TIME_COLUMN = "event_create_time"
    STAT_COLUMNS = STAT_COLUMNS

    FILTERS = GeneralEventFilters
    where = staticmethod(general_where)
    to_event = staticmethod(to_event)

    async def save(self, events: list[GeneralEventMessage]) -> None:
        """Store the events at once; saving an event_id again stores it once (the table collapses on it)."""
        await self.warehouse.insert(TABLE, [general_event_row(e) for e in events])

    async def delete(self, event_id: UUID, accounts: set[UUID]) -> bool:
        if await self.get(event_id, accounts) is None:
            return False
        await self.warehouse.execute(f"DELETE FROM {self.table} WHERE {general_where(self.by_id(event_id), accounts)}")
        return True

"""LUNA's face/body events in the warehouse (table ``luna_events``): save, get, exists, pages with
LUNA's ``getEvents`` filters, and statistics.

Saving is idempotent on ``event_id``: the table is a ReplacingMergeTree keyed on (account_id, event_id)
and every read uses FINAL, so a retried handler's event is stored once.

Filters keep LUNA's names (digest §3.4). List filters accept LUNA's literal ``null`` ("not set") where
the column can be unset. ``meta.<path>__<op>:<type>`` filters are general events' content filters on
the ``meta`` column. ``user_data`` matches a substring; ``tags`` must all be on the event.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field, field_validator

from analytics.events import sql, stats
from analytics.events.event_table import EventTable, iso_times
from analytics.events.general_events import ContentFilter
from schemas.base import Body
from schemas.luna_events import LunaEvent

TABLE = "luna_events"
DEFAULT_WINDOW = timedelta(days=30)  # LUNA: create_time__gte defaults to "now minus a month"
Null = Literal["null"]
_LOCATION = ("city", "area", "district", "street", "house_number")
_JSON_FIELDS = ("attach_result", "top_match", "match_result", "face_detections", "body_detections",
                "body_basic_attributes", "upper_body", "lower_body", "accessories", "meta")
_UUIDS = ("event_id", "account_id", "handler_id", "stream_id", "face_id")


def _code(low: int, high: int) -> Any:
    """An enum code (from the query string's text too: LUNA's codes are numbers)."""
    return Annotated[int, Field(ge=low, le=high)]


class LunaEventFilters(Body):
    """LUNA's getEvents filters (those whose fields Selene's events have), with LUNA's names."""

    create_time__gte: datetime | None = None
    create_time__lt: datetime | None = None
    end_time__gte: datetime | None = None
    end_time__lt: datetime | None = None
    insert_time__gte: datetime | None = None
    insert_time__lt: datetime | None = None
    event_ids: list[UUID] | None = Field(default=None, max_length=1000)
    event_id__gte: UUID | None = None
    event_id__lt: UUID | None = None
    handler_ids: list[UUID | Null] | None = None
    external_ids: list[str] | None = None
    face_ids: list[UUID | Null] | None = None
    sources: list[str] | None = None
    stream_ids: list[UUID | Null] | None = None
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
    user_data: str | None = Field(default=None, max_length=128, description="A substring of the user data.")
    tags: list[str] | None = Field(default=None, description="The event holds every one of them.")
    top_matching_candidates_label: list[str] | None = None
    top_similar_object_ids: list[UUID | Null] | None = None
    top_similar_external_ids: list[str] | None = None
    top_similar_object_similarity__gte: float | None = Field(default=None, ge=0, le=1)
    top_similar_object_similarity__lt: float | None = Field(default=None, ge=0, le=1)
    age__gte: int | None = Field(default=None, ge=0, le=255)
    age__lt: int | None = Field(default=None, ge=0, le=256)
    gender: _code(0, 1) | Null | None = None
    emotions: list[_code(1, 7) | Null] | None = None
    masks: list[_code(1, 3) | Null] | None = None
    ethnic_groups: list[_code(1, 4) | Null] | None = None
    liveness: list[_code(0, 2) | Null] | None = None
    deepfake: list[_code(0, 1) | Null] | None = None
    apparent_gender: list[_code(0, 2) | Null] | None = None
    apparent_age__gte: int | None = Field(default=None, ge=0, le=100)
    apparent_age__lt: int | None = Field(default=None, ge=0, le=101)
    meta: list[ContentFilter] = Field(default_factory=list, description="`meta.<path>__<op>:<type>` filters.")

    @field_validator("meta")
    @classmethod
    def _on_meta(cls, filters: list[ContentFilter]) -> list[ContentFilter]:
        return [f.model_copy(update={"column": "meta"}) for f in filters]

    def windowed(self, now: datetime) -> LunaEventFilters:
        """LUNA's default window (the last month) unless ids or create-time bounds are given."""
        if self.event_ids or self.event_id__gte or self.event_id__lt or self.create_time__gte or self.create_time__lt:
            return self
        return self.model_copy(update={"create_time__gte": now - DEFAULT_WINDOW, "create_time__lt": now})


def _nullable(column: str, values: list[Any] | None, literal: Any) -> list[str]:
    if not values:
        return []
    real = [literal(v) for v in values if v != "null"]
    return [sql.in_list(column, real, True, "null" in values)]


def _range(column: str, lower: float | None, upper: float | None) -> list[str]:
    clauses = []
    if lower is not None:
        clauses.append(f"{column} >= {sql.number(lower)}")
    if upper is not None:
        clauses.append(f"{column} < {sql.number(upper)}")
    return clauses


def luna_where(f: LunaEventFilters, accounts: set[UUID]) -> str:
    clauses = [sql.in_list("account_id", (sql.uuid(a) for a in accounts))]
    clauses += sql.time_range("create_time", f.create_time__gte, f.create_time__lt)
    clauses += sql.time_range("end_time", f.end_time__gte, f.end_time__lt)
    clauses += sql.time_range("insert_time", f.insert_time__gte, f.insert_time__lt)
    if f.event_ids is not None:
        clauses.append(sql.in_list("event_id", (sql.uuid(e) for e in f.event_ids)))
    # Canonical UUID text sorts as the UUIDs' numbers do.
    if f.event_id__gte:
        clauses.append(f"toString(event_id) >= {sql.string(str(f.event_id__gte))}")
    if f.event_id__lt:
        clauses.append(f"toString(event_id) < {sql.string(str(f.event_id__lt))}")
    for column, values in (("handler_id", f.handler_ids), ("face_id", f.face_ids), ("stream_id", f.stream_ids),
                           ("top_similar_object_id", f.top_similar_object_ids)):
        clauses += _nullable(column, values, sql.uuid)
    strings = {"source": f.sources, "track_id": f.track_ids, "top_similar_external_id": f.top_similar_external_ids,
               "top_matching_candidates_label": f.top_matching_candidates_label}
    strings.update({column: getattr(f, f"{column}s" if column != "city" else "cities") for column in _LOCATION})
    for column, values in strings.items():
        clauses += _nullable(column, values, sql.string)
    if f.external_ids:
        clauses.append(sql.in_list("external_id", (sql.string(e) for e in f.external_ids)))
    codes = {"emotion": f.emotions, "mask": f.masks, "ethnic_group": f.ethnic_groups, "liveness": f.liveness,
             "deepfake": f.deepfake, "apparent_gender": f.apparent_gender,
             "gender": None if f.gender is None else [f.gender]}
    for column, values in codes.items():
        clauses += _nullable(column, values, sql.number)
    if f.user_data:
        clauses.append(f"position(user_data, {sql.string(f.user_data)}) > 0")
    if f.tags:
        clauses.append(f"hasAll(tags, [{', '.join(sql.string(t) for t in f.tags)}])")
    clauses += _range("top_similar_object_similarity", f.top_similar_object_similarity__gte,
                      f.top_similar_object_similarity__lt)
    clauses += _range("age", f.age__gte, f.age__lt)
    clauses += _range("apparent_age", f.apparent_age__gte, f.apparent_age__lt)
    if (f.origin_longitude is None) != (f.origin_latitude is None):
        raise ValueError("origin_longitude and origin_latitude must be given together")
    if f.origin_longitude is not None and f.origin_latitude is not None:
        clauses.append(
            f"longitude BETWEEN {f.origin_longitude - f.longitude_delta} AND {f.origin_longitude + f.longitude_delta} "
            f"AND latitude BETWEEN {f.origin_latitude - f.latitude_delta} AND {f.origin_latitude + f.latitude_delta}"
        )
    clauses.extend(c.clause() for c in f.meta)
    return " AND ".join(clauses)


# ---- rows -------------------------------------------------------------------------------------------------
def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def event_row(event: LunaEvent) -> dict[str, Any]:
    """The warehouse row of an event (the shown fields as JSON or columns, plus the filterable columns)."""
    shown = event.shown()
    row: dict[str, Any] = {k: shown[k] for k in (
        "event_id", "account_id", "handler_id", "create_time", "end_time", "external_id", "user_data", "source",
        "stream_id", "track_id", "face_id", "gender", "age", "emotion", "ethnic_group", "mask", "liveness",
        "deepfake")}
    row.update({k: _json(shown[k]) for k in _JSON_FIELDS})
    row["tags"], row["has_tags"] = event.tags or [], int(event.tags is not None)
    location, geo = event.location, event.location.geo_position if event.location else None
    row.update({k: getattr(location, k) if location else None for k in _LOCATION})
    row["longitude"], row["latitude"] = (geo.longitude, geo.latitude) if geo else (None, None)
    top = event.top_match
    row.update({
        "top_matching_candidates_label": top.label if top else None,
        "top_similar_object_id": str(top.face_id or top.event_id) if top else None,
        "top_similar_object_type": (0 if top.face_id else 1) if top else None,
        "top_similar_external_id": top.external_id if top else None,
        "top_similar_object_similarity": top.similarity if top else None,
    })
    body = event.body_basic_attributes
    row["apparent_age"], row["apparent_gender"] = (body.apparent_age, body.apparent_gender) if body else (None, None)
    for kind in ("face", "body"):
        descriptor = getattr(event, f"{kind}_descriptor")
        row[f"{kind}_descriptor"] = descriptor.vector if descriptor else []
        row[f"{kind}_descriptor_version"] = descriptor.descriptor_version if descriptor else 0
    return row


_NOT_SHOWN = frozenset({*_LOCATION, "longitude", "latitude", "has_tags"})


def to_event(row: dict[str, Any]) -> dict[str, Any]:
    """A warehouse row in LUNA's stored-event shape (``location`` always an object, as LUNA shows it)."""
    event: dict[str, Any] = {k: v for k, v in row.items() if k not in _NOT_SHOWN}
    for key in _JSON_FIELDS:
        event[key] = json.loads(row[key])
    event["tags"] = row["tags"] if row["has_tags"] else None
    location = {k: row[k] for k in _LOCATION}
    longitude, latitude = row["longitude"], row["latitude"]
    location["geo_position"] = (
        {"longitude": longitude, "latitude": latitude} if longitude is not None and latitude is not None else None
    )
    event["location"] = location
    iso_times(event, "create_time", "end_time", "insert_time")
    return event


_COLUMNS = ", ".join(
    [f"toString({c}) AS {c}" for c in _UUIDS]
    + [f"toString({c}) AS {c}" for c in ("create_time", "end_time", "insert_time")]
    + ["external_id", "user_data", "source", "track_id", "tags", "has_tags", *_LOCATION, "longitude", "latitude",
       "gender", "age", "emotion", "ethnic_group", "mask", "liveness", "deepfake", *_JSON_FIELDS]
)

_KEYS = frozenset({"count", "group_by"})
_NUMBERS = frozenset({"count", "max", "min", "avg", "group_by"})
STAT_COLUMNS: dict[str, stats.Column] = {
    **{c: stats.Column(f"toString({c})", _KEYS) for c in ("event_id", "handler_id", "stream_id", "face_id",
                                                          "top_similar_object_id")},
    **{c: stats.Column(c, _KEYS) for c in ("external_id", "source", "top_matching_candidates_label",
                                            "top_similar_external_id", "user_data", "track_id", *_LOCATION)},
    "top_similar_object_similarity": stats.Column("top_similar_object_similarity",
                                                  frozenset({"count", "max", "min", "avg"})),
    **{c: stats.Column(c, frozenset({"count", "max", "min"})) for c in ("create_time", "end_time")},
    "tags": stats.Column("length(tags)", frozenset({"count", "max", "min"})),
    **{c: stats.Column(c, _NUMBERS) for c in ("gender", "age", "emotion", "mask", "ethnic_group", "liveness",
                                               "deepfake", "apparent_age", "apparent_gender")},
    "geo_position": stats.Column("longitude", frozenset({"count"})),
}


def cut(event: dict[str, Any], targets: list[str] | None) -> dict[str, Any]:
    """The event with only LUNA's ``target`` fields, when given."""
    return event if not targets else {k: event[k] for k in targets if k in event}


class LunaEventStore(EventTable[LunaEventFilters]):
    TABLE = TABLE
    COLUMNS = _COLUMNS
    TIME_COLUMN = "create_time"
    STAT_COLUMNS = STAT_COLUMNS
    JSON_COLUMN = "meta"

    FILTERS = LunaEventFilters
    where = staticmethod(luna_where)
    to_event = staticmethod(to_event)

    async def save(self, events: list[LunaEvent]) -> None:
        """Store the events at once; an event_id saved again is stored once (the table collapses on it)."""
        await self.warehouse.insert(TABLE, [event_row(e) for e in events])

    async def delete(self, event_ids: list[UUID], accounts: set[UUID]) -> None:
        """Delete the accounts' events with those ids; ids already gone are no error (a redone gc)."""
        if event_ids:
            await self.warehouse.execute(
                f"DELETE FROM {self.table} WHERE {luna_where(LunaEventFilters(event_ids=event_ids), accounts)}")

    async def exists(self, event_id: UUID, accounts: set[UUID]) -> bool:
        return await self.count(self.by_id(event_id), accounts) > 0

    async def list(  # type: ignore[override]
        self, filters: LunaEventFilters, accounts: set[UUID], page: int = 1, page_size: int = 10,
        order: str = "desc", targets: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        """A page of events; by event id when id bounds are given (as LUNA), else by create time."""
        direction = "ASC" if order == "asc" else "DESC"
        by_id = filters.event_id__gte is not None or filters.event_id__lt is not None
        keys = f"toString(event_id) {direction}" if by_id else f"create_time {direction}, event_id {direction}"
        rows = await self.warehouse.query(
            f"SELECT {self.COLUMNS} FROM (SELECT * FROM {self.table} FINAL WHERE {luna_where(filters, accounts)} "
            f"ORDER BY {keys} LIMIT {int(page_size)} OFFSET {(int(page) - 1) * int(page_size)})"
        )
        return [cut(to_event(r), targets) for r in rows]

    async def descriptors(
        self, event_ids: list[UUID], accounts: set[UUID], kind: Literal["face", "body"]
    ) -> dict[UUID, tuple[int, list[float]]]:
        """The events' descriptors of ``kind`` (events without one are left out): id -> (version, vector)."""
        if not event_ids:
            return {}
        where = luna_where(LunaEventFilters(event_ids=event_ids), accounts)
        rows = await self.warehouse.query(  # filtered inside: the outer aliases must not shadow the columns
            f"SELECT toString(event_id) AS id, {kind}_descriptor_version AS version, {kind}_descriptor AS vector "
            f"FROM (SELECT * FROM {self.table} FINAL WHERE {where} AND {kind}_descriptor_version > 0)"
        )
        return {UUID(r["id"]): (int(r["version"]), [float(x) for x in r["vector"]]) for r in rows}


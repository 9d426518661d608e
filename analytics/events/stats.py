"""LUNA's statistics queries (``targets`` with aggregators, ``group_by`` time periods) as ClickHouse SQL.

Response shape as LUNA's: ``{"fields": [...], "stats": [[...], ...]}``, one row per group.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from analytics.events import sql
from schemas.base import Body

Aggregator = Literal["count", "max", "min", "avg", "group_by"]
_INTERVAL = re.compile(r"^(?P<n>\d+)(?P<unit>[mhdwMy])$")
_UNITS = {"m": "MINUTE", "h": "HOUR", "d": "DAY", "w": "WEEK", "M": "MONTH", "y": "YEAR"}
FREQUENCIES = {
    "monthOfYear": "toMonth",
    "weekOfYear": "toISOWeek",
    "dayOfYear": "toDayOfYear",
    "dayOfMonth": "toDayOfMonth",
    "dayOfWeek": "toDayOfWeek",
    "hourOfDay": "toHour",
    "minuteOfHour": "toMinute",
}


class StatTarget(Body):
    column: str
    aggregator: Aggregator = "count"


class StatQuery(Body):
    targets: list[StatTarget] = Field(
        default_factory=lambda: [StatTarget(column="event_id", aggregator="count")], min_length=1
    )
    group_by: str | None = Field(default=None, description="`1h`, `7d`, `3M` ... or `dayOfWeek`, `hourOfDay` ...")


@dataclass(frozen=True)
class Column:
    expression: str
    aggregators: frozenset[str]


def time_bucket(group_by: str, time_column: str) -> str:
    if group_by in FREQUENCIES:
        return f"{FREQUENCIES[group_by]}({time_column})"
    match = _INTERVAL.match(group_by)
    if not match:
        raise ValueError(f"group_by {group_by!r} is neither an interval (like 1h, 7d) nor a frequency")
    if int(match["n"]) == 0:
        raise ValueError(f"group_by {group_by!r}: the interval must be positive")
    return f"toString(toStartOfInterval({time_column}, INTERVAL {int(match['n'])} {_UNITS[match['unit']]}))"


def build(
    query: StatQuery, columns: dict[str, Column], table: str, where: str, time_column: str, json_column: str = "event"
) -> tuple[str, list[str]]:
    """SQL and the field names; raises ValueError on a column or aggregator LUNA would refuse.
    ``<json_column>.<path>`` targets read a number from that JSON column (``event.*``, LUNA's ``meta.*``)."""
    if all(t.aggregator == "group_by" for t in query.targets):
        raise ValueError("at least one target needs an aggregator other than group_by")
    keys: list[str] = []
    fields: list[str] = []
    if query.group_by:
        keys.append(time_bucket(query.group_by, time_column))
        fields.append(f"Group by time: {query.group_by}")
    selects: list[str] = list(keys)
    for target in query.targets:
        column = _column(target.column, columns, json_column)
        if target.aggregator not in column.aggregators:
            raise ValueError(f"aggregator {target.aggregator!r} does not apply to {target.column!r}")
        if target.aggregator == "group_by":
            keys.append(column.expression)
            selects.append(column.expression)
        else:
            selects.append(f"{target.aggregator}({column.expression})")
        fields.append(f"{target.column}, aggregator '{target.aggregator}'")
    text = f"SELECT {', '.join(f'{s} AS c{i}' for i, s in enumerate(selects))} FROM {table} FINAL WHERE {where}"
    if keys:
        positions = ", ".join(f"c{i}" for i, s in enumerate(selects) if s in keys)
        text += f" GROUP BY {positions} ORDER BY {positions}"
    return text, fields


def _column(name: str, columns: dict[str, Column], json_column: str) -> Column:
    if name in columns:
        return columns[name]
    if name.startswith(f"{json_column}."):
        keys = ", ".join(sql.json_path(name.removeprefix(f"{json_column}.")))
        return Column(f"JSONExtractFloat({json_column}, {keys})", frozenset({"count", "max", "min", "avg"}))
    raise ValueError(f"unknown statistics column {name!r}")


def rows_to_stats(rows: list[dict[str, Any]]) -> list[list[Any]]:
    return [list(row.values()) for row in rows]

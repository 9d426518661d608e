"""Safe SQL literals for queries built from user input (values are validated, then quoted)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from uuid import UUID

_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def uuid(value: UUID | str) -> str:
    return f"toUUID('{UUID(str(value))}')"


_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)  # DateTime64's range; a filter beyond it means "all"
_LATEST = datetime(2299, 12, 31, 23, 59, 59, tzinfo=UTC)


def time(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = min(max(value.astimezone(UTC), _EARLIEST), _LATEST)
    stamp = f"{value.year:04d}-{value:%m-%d %H:%M:%S}.{value.microsecond // 1000:03d}"
    return f"toDateTime64('{stamp}', 3, 'UTC')"


def number(value: float | int) -> str:
    return repr(float(value)) if isinstance(value, float) else str(int(value))


def in_list(column: str, literals: Iterable[str], nullable: bool = False, null_wanted: bool = False) -> str:
    """``column IN (...)``, or ``IS NULL`` for LUNA's literal ``null`` in a list filter."""
    items = list(literals)
    parts = [f"{column} IN ({', '.join(items)})"] if items else []
    if nullable and null_wanted:
        parts.append(f"{column} IS NULL")
    return "(" + " OR ".join(parts) + ")" if parts else "0"


def json_path(path: str) -> list[str]:
    """A dotted path into a JSON document, checked so it can be quoted as JSONExtract keys."""
    if not _PATH.match(path):
        raise ValueError(f"bad field path {path!r}")
    return [string(part) for part in path.split(".")]


def time_range(column: str, lower: datetime | None, upper: datetime | None) -> list[str]:
    """LUNA's ``<column>__gte`` / ``<column>__lt`` pair as clauses."""
    clauses = []
    if lower:
        clauses.append(f"{column} >= {time(lower)}")
    if upper:
        clauses.append(f"{column} < {time(upper)}")
    return clauses

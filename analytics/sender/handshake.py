"""The ``GET /6/ws`` handshake's query string as ``EventFilters``: LUNA's comma-separated lists (a list
may also be repeated: ``tags=a&tags=b``), ``geo_position=origin_longitude,36.6,origin_latitude,55.7``
with optional ``longitude_delta`` and ``latitude_delta``. Anything invalid is 12012."""

from __future__ import annotations

from typing import Any, get_args, get_origin

from pydantic import ValidationError
from starlette.datastructures import QueryParams

from infra.http.deps import parse_list, reason
from schemas.callbacks import EventFilters, GeoBox
from schemas.errors import BAD_QUERY, SeleneError

INT_SCALARS = ("gender",)


def _list_item(annotation: Any) -> Any | None:
    """The item type of an optional list field, None for a scalar field."""
    for arg in get_args(annotation):
        if get_origin(arg) is list:
            return get_args(arg)[0]
    return None


def _is_int_item(item: Any) -> bool:
    values = get_args(item)  # Literal[1, 2, ...] -> (1, 2, ...)
    return bool(values) and all(isinstance(v, int) for v in values)


LISTS: dict[str, bool] = {  # list filter -> whether its items are integers
    name: _is_int_item(item) for name, info in EventFilters.model_fields.items()
    if (item := _list_item(info.annotation)) is not None
}


def geo_position(text: str) -> GeoBox:
    """``origin_longitude,36.616,origin_latitude,55.752[,longitude_delta,0.1,latitude_delta,0.1]``."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) % 2:
        raise SeleneError(BAD_QUERY, "geo_position: expected name,value pairs")
    pairs = dict(zip(parts[::2], parts[1::2], strict=True))
    try:
        return GeoBox.model_validate(pairs)
    except ValidationError as exc:
        raise SeleneError(BAD_QUERY, f"geo_position.{reason(exc)}") from None


def filters_of(query: QueryParams) -> EventFilters:
    data: dict[str, Any] = {}
    for name in EventFilters.model_fields:
        values = query.getlist(name)
        if not values:
            continue
        if name in LISTS:
            data[name] = parse_list(name, values, int if LISTS[name] else str)
        elif name == "geo_position":
            data[name] = geo_position(values[-1])
        elif name in INT_SCALARS:
            data[name] = parse_list(name, values[-1:], int)[0]  # type: ignore[index]
        else:
            data[name] = values[-1]
    try:
        return EventFilters.model_validate(data)
    except ValidationError as exc:
        raise SeleneError(BAD_QUERY, reason(exc)) from None

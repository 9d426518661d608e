"""What every route needs: the caller, and LUNA-style query parsing (lists may be repeated
or comma-separated; a bad value is 12012)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from uuid import UUID

from fastapi import Query, Request
from pydantic import BaseModel, ValidationError

from schemas.errors import BAD_QUERY, SeleneError

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
MAX_PAGE_SIZE = 1000
MAX_PAGE = 2**31  # keeps (page - 1) * page_size a valid SQL OFFSET

Page = Query(1, ge=1, description="Page number, from 1.")
PageSize = Query(100, ge=1, le=MAX_PAGE_SIZE, description="Objects per page.")



def parse_list(name: str, values: Sequence[str] | None, convert: Callable[[str], T]) -> list[T] | None:
    if not values:
        return None
    parsed = []
    for value in values:
        for item in value.split(","):
            try:
                parsed.append(convert(item.strip()))
            except (ValueError, KeyError):
                raise SeleneError(BAD_QUERY, f"{name}: {item!r} is not valid") from None
    return parsed


def uuid_set(name: str, values: Sequence[str] | None) -> set[UUID] | None:
    parsed = parse_list(name, values, UUID)
    return None if parsed is None else set(parsed)


def page_of(items: list[T], page: int, page_size: int, order: str = "asc") -> list[T]:
    """One page of ``items`` (kept oldest first); ``order="desc"`` pages from the newest."""
    if order == "desc":
        items = items[::-1]
    start = (page - 1) * page_size
    return items[start : start + page_size]


def filters_from_query(request: Request, model: type[M], lists: tuple[str, ...], **parsed: Any) -> M:
    """LUNA-style list filters (repeated or comma-separated) and scalar filters from the query string,
    plus ``parsed`` fields, validated as ``model``; anything wrong is 12012."""
    query = request.query_params
    data: dict[str, Any] = {name: parse_list(name, query.getlist(name), str) for name in lists if name in query}
    data.update({name: query[name] for name in model.model_fields if name not in lists and name in query})
    try:
        return model.model_validate({**data, **parsed})
    except ValidationError as exc:
        raise SeleneError(BAD_QUERY, reason(exc)) from None


def reason(exc: Exception) -> str:
    """A validation failure in one line: the field's path and pydantic's message."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(exc)

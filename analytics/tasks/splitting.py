"""Splitting a set of objects into subtasks by ranges of their UUIDs, as LUNA splits by id ranges.

Face ids are random UUIDs, so equal slices of the 128-bit space hold about equal numbers of faces; a
subtask's range is fixed when the task is created, so subtasks never overlap and a redone subtask reads
the same range again.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar
from uuid import UUID

T = TypeVar("T")
IdRange = tuple[UUID | None, UUID | None]  # [gte, lt); None: unbounded
_SPACE = 1 << 128


def ranges(count: int, per_part: int, within: IdRange = (None, None)) -> list[IdRange]:
    """About ``per_part`` of the ``count`` objects in ``within`` per range, equal slices of it; ``within``
    itself when they fit in one."""
    parts = max(1, math.ceil(count / per_part))
    low = 0 if within[0] is None else within[0].int
    high = _SPACE if within[1] is None else within[1].int
    inner = (UUID(int=low + (high - low) * i // parts) for i in range(1, parts))
    bounds: list[UUID | None] = [within[0], *inner, within[1]]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


async def read_by_ranges(
    count: int, page: int, within: IdRange, read: Callable[[IdRange, int], Awaitable[Sequence[T]]]
) -> list[T]:
    """Every object in ``within`` (``count`` of them), read by ``read(range, offset)`` a page at a time over
    ranges of about a page each: a read skips at most its own range's objects, where an offset over the
    whole set skips ever more (quadratic). The ranges are disjoint, so each object comes once."""
    found: list[T] = []
    for part in ranges(count, page, within):
        offset = 0
        while True:
            got = await read(part, offset)
            found.extend(got)
            offset += len(got)
            if len(got) < page:
                break
    return found


def narrowed(outer: IdRange, inner: IdRange) -> IdRange:
    """The intersection of two ranges (the user's face_id bounds and a subtask's slice)."""
    gte = max((b for b in (outer[0], inner[0]) if b is not None), default=None)
    lt = min((b for b in (outer[1], inner[1]) if b is not None), default=None)
    return gte, lt


def to_content(part: IdRange) -> dict[str, str | None]:
    return {"face_id__gte": None if part[0] is None else str(part[0]), "face_id__lt": None if part[1] is None else str(part[1])}


def from_content(content: dict[str, object]) -> IdRange:
    gte, lt = content.get("face_id__gte"), content.get("face_id__lt")
    return (None if gte is None else UUID(str(gte))), (None if lt is None else UUID(str(lt)))

"""Splitting a set of objects into subtasks by ranges of their UUIDs, as LUNA splits by id ranges.

Face ids are random UUIDs, so equal slices of the 128-bit space hold about equal numbers of faces; a
subtask's range is fixed when the task is created, so subtasks never overlap and a redone subtask reads
the same range again.
"""

from __future__ import annotations

import math
from uuid import UUID

IdRange = tuple[UUID | None, UUID | None]  # [gte, lt); None: unbounded
_SPACE = 1 << 128


def ranges(count: int, per_part: int) -> list[IdRange]:
    """About ``per_part`` of ``count`` objects per range; one unbounded range when they fit in one."""
    parts = max(1, math.ceil(count / per_part))
    bounds: list[UUID | None] = [None, *(UUID(int=_SPACE * i // parts) for i in range(1, parts)), None]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


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

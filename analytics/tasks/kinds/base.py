"""What each task type gives the framework: how to split its content into subtasks (in the API, when
the task is created), how a worker runs one subtask, and how the parts merge into the result."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any, Generic, TypeVar
from uuid import UUID

from analytics.tasks.resources import Resources
from analytics.tasks.results import Result
from analytics.tasks.sources import selection
from analytics.tasks.splitting import ranges, to_content
from schemas.base import Body
from schemas.tasks import EventObjectFilters, FaceObjectFilters, Task, TaskType

C = TypeVar("C", bound=Body)
T = TypeVar("T")


class Kind(ABC, Generic[C]):
    task_type: TaskType
    content_model: type[C]

    def content(self, task: Task) -> C:
        return self.content_model.model_validate(task.content)

    @abstractmethod
    async def plan(self, res: Resources, account_id: UUID, content: C) -> list[dict[str, Any]]:
        """The subtasks' contents; raises SeleneError for a task that cannot run at all."""

    @abstractmethod
    async def run(self, res: Resources, task: Task, content: C, index: int, part: dict[str, Any]) -> Any:
        """One subtask: its JSON-able part of the result. Running it again gives the same part."""

    @abstractmethod
    async def merge(self, res: Resources, task: Task, content: C, parts: list[Any]) -> Result | None:
        """The task's result from its parts in subtask order; None: nothing to store."""


def batches(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def id_range_plan(res: Resources, account_id: UUID, filters: FaceObjectFilters | EventObjectFilters) -> list[dict[str, Any]]:
    """Subtasks of about ``subtask_size`` objects each, as id ranges over the faces or events the filters select."""
    count = await selection(res.recognition, filters).count(account_id)
    return [to_content(r) for r in ranges(count, res.settings.subtask_size)]

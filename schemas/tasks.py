"""LUNA's tasks in their REST shapes (API v6 ``task processing``, ``task info``, ``task errors``, ``task
schedules``) and the subtask message task workers share over Kafka.

Task types and statuses keep LUNA's integers (001 §9.7, 003 ``task_type`` / ``task_status``). Each task
type's ``content`` is its own model; ``objects_type`` names the source of the objects ("faces", or
"events" with LUNA's event filters).
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum
from typing import Any, Literal
from uuid import UUID

from pydantic import Field, ValidationError, model_validator

from schemas.base import Body, Message

MAX_DESCRIPTION = 128
CROSS_MATCH_ARRAY_LIMIT = 20_000  # PLATFORM_LIMITS.cross_match.array_filter_limit
CROSS_MATCH_RESULT_LIMIT = 20_000  # cross_match.result_candidate_limit
ROC_MARKUP_LIMIT = 10_000
DEFAULT_CLUSTERING_THRESHOLD = 0.8  # LUNA's DEFAULT_CLUSTERING_THRESHOLD has no printed value: Selene's choice
FACE_COLUMNS = ("face_id", "account_id", "event_id", "user_data", "external_id", "create_time", "avatar", "lists")
EVENT_COLUMNS = ("event_id", "account_id", "handler_id", "create_time", "end_time", "insert_time", "external_id",
                 "user_data", "source", "stream_id", "track_id", "face_id", "gender", "age", "emotion", "mask",
                 "ethnic_group", "liveness", "deepfake", "tags")


class TaskType(IntEnum):
    unknown = 0
    linker = 1
    clustering = 2
    reporter = 3
    gc = 4
    additional_extraction = 5
    cross_match = 6
    roc = 7
    exporter = 8
    estimator = 9


class TaskStatus(IntEnum):
    pending = 0
    in_progress = 1
    cancelled = 2
    failed = 3
    collect_results = 4
    done = 5

    @property
    def finished(self) -> bool:
        return self in (TaskStatus.cancelled, TaskStatus.failed, TaskStatus.done)


ObjectsType = Literal["faces", "events"]
Flag = Literal[0, 1]


class FaceObjectFilters(Body):
    """Which faces a task takes, all conditions together (LUNA's faces filters)."""

    account_id: UUID | None = Field(None, description="Ignored: a task only ever reads its own account's faces.")
    face_ids: list[UUID] | None = Field(None, max_length=CROSS_MATCH_ARRAY_LIMIT)
    external_ids: list[str] | None = Field(None, max_length=CROSS_MATCH_ARRAY_LIMIT)
    user_data: str | None = Field(None, max_length=128)
    list_id: UUID | None = None
    create_time__gte: datetime | None = None
    create_time__lt: datetime | None = None
    face_id__gte: UUID | None = None
    face_id__lt: UUID | None = None


class EventObjectFilters(Body):
    """Which events a task takes, all conditions together (LUNA's events filters that Selene's events have)."""

    account_id: UUID | None = Field(None, description="Ignored: a task only ever reads its own account's events.")
    event_ids: list[UUID] | None = Field(None, max_length=CROSS_MATCH_ARRAY_LIMIT)
    event_id__gte: UUID | None = None
    event_id__lt: UUID | None = None
    create_time__gte: datetime | None = None
    create_time__lt: datetime | None = None
    end_time__gte: datetime | None = None
    end_time__lt: datetime | None = None
    insert_time__gte: datetime | None = None
    insert_time__lt: datetime | None = None
    handler_ids: list[UUID] | None = Field(None, max_length=CROSS_MATCH_ARRAY_LIMIT)
    external_ids: list[str] | None = Field(None, max_length=CROSS_MATCH_ARRAY_LIMIT)
    sources: list[str] | None = Field(None, max_length=CROSS_MATCH_ARRAY_LIMIT)
    stream_ids: list[UUID] | None = Field(None, max_length=CROSS_MATCH_ARRAY_LIMIT)
    track_ids: list[str] | None = Field(None, max_length=CROSS_MATCH_ARRAY_LIMIT)
    face_ids: list[UUID] | None = Field(None, max_length=CROSS_MATCH_ARRAY_LIMIT)
    user_data: str | None = Field(None, max_length=128, description="A substring of the user data.")
    tags: list[str] | None = Field(None, description="The event holds every one of them.")


def _filters_of(data: Any, source_field: str) -> Any:
    """Parse ``filters`` by the content's source (both filter models would accept some bodies)."""
    if not isinstance(data, dict) or not isinstance(data.get("filters", {}), dict):
        return data
    model = EventObjectFilters if data.get(source_field) == "events" else FaceObjectFilters
    try:
        return {**data, "filters": model.model_validate(data.get("filters", {}))}
    except ValidationError as error:
        raise ValueError(f"filters: {error}") from None


class ObjectsSet(Body):
    """The objects a task reads: their source and filters (faces' filters, or events' with ``events``)."""

    objects_type: ObjectsType = "faces"
    filters: FaceObjectFilters | EventObjectFilters = Field(default_factory=FaceObjectFilters)

    @model_validator(mode="before")
    @classmethod
    def _event_filters(cls, data: Any) -> Any:
        return _filters_of(data, "objects_type")


class GcContent(Body):
    """Garbage collection: delete the objects the filters select."""

    target: ObjectsType = "faces"
    filters: FaceObjectFilters | EventObjectFilters = Field(default_factory=FaceObjectFilters)
    remove_samples: Flag = Field(0, description="1: also delete the faces' samples named by their avatars.")
    store_results: Flag = Field(1, description="0: keep no result object.")

    @model_validator(mode="before")
    @classmethod
    def _event_filters(cls, data: Any) -> Any:
        return _filters_of(data, "target")


class ExporterContent(ObjectsSet):
    """Export objects to a CSV in a ZIP (with their images when ``save_images`` is 1)."""

    columns: list[str] | None = Field(None, min_length=1, description=(
        f"Face columns: {', '.join(FACE_COLUMNS)}; event columns: {', '.join(EVENT_COLUMNS)}."))
    csv_delimiter: str = Field(",", min_length=1, max_length=1)
    save_images: Flag = 0

    @property
    def all_columns(self) -> list[str]:
        """The chosen columns, else every column of the source."""
        return self.columns or list(EVENT_COLUMNS if self.objects_type == "events" else FACE_COLUMNS)

    @model_validator(mode="after")
    def _known_columns(self) -> ExporterContent:
        allowed = EVENT_COLUMNS if self.objects_type == "events" else FACE_COLUMNS
        unknown = [c for c in self.columns or () if c not in allowed]
        if unknown:
            raise ValueError(f"unknown columns {unknown}; allowed: {list(allowed)}")
        return self


class LinkerContent(ObjectsSet):
    """Attach the selected faces (with events: new faces made from the events) to a list: ``list_id``, or a
    new list with ``create_list`` 1."""

    list_id: UUID | None = None
    create_list: Flag = 0
    list_user_data: str = Field("", max_length=128)

    @model_validator(mode="after")
    def _one_list(self) -> LinkerContent:
        if (self.list_id is None) == (self.create_list == 0):
            raise ValueError("give list_id, or create_list 1 without list_id")
        return self


class CrossMatchContent(Body):
    """Every reference against every candidate; per reference the ``limit`` best above ``threshold``."""

    references: ObjectsSet
    candidates: ObjectsSet
    limit: int = Field(10, ge=1, le=CROSS_MATCH_RESULT_LIMIT)
    threshold: float = Field(0.0, ge=0, le=1)
    descriptor_type: Literal["face"] = "face"


class ClusteringContent(ObjectsSet):
    """Connected components of the similarity graph: two objects are linked above ``threshold``."""

    threshold: float = Field(DEFAULT_CLUSTERING_THRESHOLD, ge=0, le=1)
    descriptor_type: Literal["face"] = "face"


class ReporterContent(Body):
    """A finished clustering task's result as a CSV (cluster number, object id, ``columns``) in a ZIP."""

    task_id: int = Field(ge=1)
    columns: list[str] = Field(default_factory=lambda: ["user_data", "external_id", "create_time"])
    csv_delimiter: str = Field(",", min_length=1, max_length=1)
    save_images: Flag = 0


class RocMarkup(Body):
    """One labelled face of a ROC task; faces with the same label are the same person."""

    face_id: UUID
    label: int | str


class RocContent(Body):
    """ROC curve of the labelled faces: every pair, same label = positive."""

    markup: list[RocMarkup] = Field(min_length=2, max_length=ROC_MARKUP_LIMIT)
    threshold_hit_top: float = Field(0.0, ge=0, le=1, description="Least similarity of a top-N hit.")
    limit: int = Field(5, ge=1, le=100, description="The N of the top-N hit rates: 1..limit.")
    key_FPRs: list[float] = Field(default_factory=lambda: [0.0001, 0.001, 0.01, 0.1], max_length=100)  # noqa: N815 - LUNA's name
    filters: FaceObjectFilters = Field(default_factory=FaceObjectFilters)


CONTENT_MODELS: dict[TaskType, type[Body]] = {
    TaskType.gc: GcContent,
    TaskType.exporter: ExporterContent,
    TaskType.linker: LinkerContent,
    TaskType.cross_match: CrossMatchContent,
    TaskType.clustering: ClusteringContent,
    TaskType.reporter: ReporterContent,
    TaskType.roc: RocContent,
}


class GcTaskCreate(Body):
    """``POST /tasks/gc``."""

    description: str = Field("", max_length=MAX_DESCRIPTION)
    content: GcContent


class ExporterTaskCreate(Body):
    """``POST /tasks/exporter``."""

    description: str = Field("", max_length=MAX_DESCRIPTION)
    content: ExporterContent


class LinkerTaskCreate(Body):
    """``POST /tasks/linker``."""

    description: str = Field("", max_length=MAX_DESCRIPTION)
    content: LinkerContent


class CrossMatchTaskCreate(Body):
    """``POST /tasks/cross_match``."""

    description: str = Field("", max_length=MAX_DESCRIPTION)
    content: CrossMatchContent


class ClusteringTaskCreate(Body):
    """``POST /tasks/clustering``."""

    description: str = Field("", max_length=MAX_DESCRIPTION)
    content: ClusteringContent


class ReporterTaskCreate(Body):
    """``POST /tasks/reporter``."""

    description: str = Field("", max_length=MAX_DESCRIPTION)
    content: ReporterContent


class RocTaskCreate(Body):
    """``POST /tasks/roc``."""

    description: str = Field("", max_length=MAX_DESCRIPTION)
    content: RocContent


class TaskCreated(Body):
    """202 ``{task_id}``: LUNA's task ids are integers."""

    task_id: int


class Task(Body):
    """LUNA's task row (001 §9.7, 003 ``get task``)."""

    task_id: int
    account_id: UUID
    create_time: datetime
    end_time: datetime | None = None
    last_update_time: datetime
    task_type: TaskType
    task_status: TaskStatus
    result_id: str | None = None
    count_task_parts_done: int = 0
    count_task_parts_all: int = 0
    content: dict[str, Any]
    description: str = ""
    schedule_id: int | None = None


class TasksPage(Body):
    """``GET /tasks``: ``{"tasks": [...]}``."""

    tasks: list[Task]


class TasksCount(Body):
    """``GET /tasks/count`` and ``/tasks/errors/count``: ``{"count": N}``."""

    count: int = Field(ge=0)


class Subtask(Body):
    """A part of a task that one worker runs."""

    subtask_id: int
    task_id: int
    index: int = Field(description="The subtask's place in its task, 0..count_task_parts_all-1.")
    subtask_status: TaskStatus
    create_time: datetime
    end_time: datetime | None = None
    last_update_time: datetime
    result_id: str | None = None
    content: dict[str, Any]


class SubtasksPage(Body):
    """``GET /tasks/{task_id}/subtasks``."""

    subtasks: list[Subtask]


class TaskError(Body):
    """LUNA's task_error row."""

    error_id: int
    task_id: int
    subtask_id: int | None = None
    error_code: int
    description: str
    detail: str
    additional_info: str | None = None
    error_time: datetime
    status_code: int = Field(500, description="The HTTP status the error would answer with.")
    task_type: TaskType = TaskType.unknown


class TaskErrorsPage(Body):
    """``GET /tasks/errors`` and ``/tasks/{task_id}/errors``."""

    errors: list[TaskError]


# ---- schedules ----


class ScheduledGc(Body):
    """A schedule's gc task."""

    task_type: Literal[TaskType.gc]
    content: GcContent
    description: str = Field("", max_length=MAX_DESCRIPTION)


class ScheduledExporter(Body):
    """A schedule's exporter task."""

    task_type: Literal[TaskType.exporter]
    content: ExporterContent
    description: str = Field("", max_length=MAX_DESCRIPTION)


class ScheduledLinker(Body):
    """A schedule's linker task."""

    task_type: Literal[TaskType.linker]
    content: LinkerContent
    description: str = Field("", max_length=MAX_DESCRIPTION)


class ScheduledCrossMatch(Body):
    """A schedule's cross-match task."""

    task_type: Literal[TaskType.cross_match]
    content: CrossMatchContent
    description: str = Field("", max_length=MAX_DESCRIPTION)


class ScheduledClustering(Body):
    """A schedule's clustering task."""

    task_type: Literal[TaskType.clustering]
    content: ClusteringContent
    description: str = Field("", max_length=MAX_DESCRIPTION)


class ScheduledReporter(Body):
    """A schedule's reporter task."""

    task_type: Literal[TaskType.reporter]
    content: ReporterContent
    description: str = Field("", max_length=MAX_DESCRIPTION)


class ScheduledRoc(Body):
    """A schedule's ROC task."""

    task_type: Literal[TaskType.roc]
    content: RocContent
    description: str = Field("", max_length=MAX_DESCRIPTION)


# A plain union (anyOf): task_type's constant tells the branches apart, and schema-driven clients and fuzzers
# generate anyOf bodies where a oneOf with a discriminator defeats them.
ScheduledTask = (
    ScheduledGc | ScheduledExporter | ScheduledLinker | ScheduledCrossMatch | ScheduledClustering
    | ScheduledReporter | ScheduledRoc
)


class ScheduleTrigger(Body):
    """When a schedule fires: a cron expression in UTC or the server's local time."""

    cron: str = Field(min_length=9, max_length=128, description="Five cron fields (minute hour day month weekday); a sixth, seconds, is Selene's extension.")
    cron_timezone: Literal["utc", "local"] = "utc"


class ScheduleBehaviour(Body):
    """What happens when the schedule is created."""

    start_immediately: bool = Field(False, description="Also create one task at once.")
    create_stopped: bool = Field(False, description="Create the schedule paused.")


class ScheduleCreate(Body):
    """``POST /tasks/schedules`` (and PUT to replace one)."""

    task: ScheduledTask
    trigger: ScheduleTrigger
    behaviour: ScheduleBehaviour = Field(default_factory=ScheduleBehaviour)


class ScheduleCreated(Body):
    """``{schedule_id}``."""

    schedule_id: int


class Schedule(Body):
    """A task schedule as LUNA shows it."""

    schedule_id: int
    account_id: UUID
    task_ids: list[int] = Field(default_factory=list)
    task: ScheduledTask
    trigger: ScheduleTrigger
    behaviour: ScheduleBehaviour = Field(default_factory=ScheduleBehaviour)
    status: Literal["running", "stopped"]
    next_run_time: datetime | None = None
    create_time: datetime
    last_update_time: datetime


# ---- Kafka ----


class SubtaskMessage(Message):
    """One subtask for the task workers (topic ``selene.tasks``); its content is in the task store."""

    task_id: int = Field(ge=1)
    subtask_id: int = Field(ge=1)
    index: int = Field(ge=0)
    task_type: TaskType
    namespace: str = Field("selene:vm", description="The task store's key prefix: workers skip other deployments' subtasks.")

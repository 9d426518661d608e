"""What tasks read and write: the face store and lists (analytics.recognition), the image store's
buckets (results in ``task-result``, samples, objects), the handlers (estimator), and the task state in Redis."""

from __future__ import annotations

from dataclasses import dataclass

from analytics.images.storage import ObjectStorage
from analytics.recognition.handlers import Handlers
from analytics.recognition.service import Recognition
from analytics.tasks.store import TaskStore
from infra.settings import TasksSettings

RESULT_BUCKET = "task-result"  # LUNA's bucket for task results


@dataclass
class Resources:
    recognition: Recognition
    storage: ObjectStorage
    store: TaskStore
    settings: TasksSettings
    handlers: Handlers | None = None  # None: this process runs no handlers (estimator subtasks fail 45004)

"""The tasks service as the API holds it: tasks and schedules over one task store."""

from __future__ import annotations

from dataclasses import dataclass

from analytics.tasks.schedules import Schedules
from analytics.tasks.service import Tasks


@dataclass
class TaskServices:
    tasks: Tasks
    schedules: Schedules

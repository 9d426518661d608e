"""The tasks service's REST routes; fixed paths (errors, schedules, count) before ``/tasks/{task_id}``."""

from analytics.tasks.routes import errors, schedules, tasks
from infra.http.mount import Mount

MOUNTS = (Mount(errors.router), Mount(schedules.router), Mount(tasks.router))

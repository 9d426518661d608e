"""``selene tasks``: the account's tasks through the API (as ``selene sql`` does), one line each with a
progress bar of subtasks done out of all."""

from __future__ import annotations

import sys
from typing import Any

import httpx

from infra.settings import ApiSettings, ManagerSettings

BAR = 20
STATUS = {0: "pending", 1: "in progress", 2: "cancelled", 3: "failed", 4: "collect results", 5: "done"}
TYPES = {0: "unknown", 1: "linker", 2: "clustering", 3: "reporter", 4: "gc", 5: "additional extraction",
         6: "cross_match", 7: "roc", 8: "exporter", 9: "estimator"}


def progress_bar(done: int, total: int) -> str:
    filled = BAR if total and done >= total else (BAR * done // total if total else 0)
    return f"[{'#' * filled}{'.' * (BAR - filled)}] {done}/{total}"


def line(task: dict[str, Any]) -> str:
    kind = TYPES.get(task["task_type"], str(task["task_type"]))
    status = STATUS.get(task["task_status"], str(task["task_status"]))
    bar = progress_bar(task["count_task_parts_done"], task["count_task_parts_all"])
    return f"{task['task_id']:>6}  {kind:<12} {status:<15} {bar}  {task.get('description') or ''}".rstrip()


def list_tasks(base_url: str, auth: tuple[str, str], page_size: int, params: dict[str, int]) -> int:
    try:
        response = httpx.get(f"{base_url}/6/tasks", params={"page_size": page_size, **params}, auth=auth, timeout=30)
    except httpx.HTTPError as exc:
        print(f"selene tasks: the API at {base_url} is not answering ({exc}); is `selene up` running?", file=sys.stderr)
        return 1
    body = response.json()
    if response.status_code != 200:
        print(f"selene tasks: {body.get('error_code')}: {body.get('detail')}", file=sys.stderr)
        return 1
    print(f"{'id':>6}  {'type':<12} {'status':<15} progress")
    for task in body["tasks"]:
        print(line(task))
    return 0


def main(login: str | None, password: str | None, page_size: int, task_status: int | None, task_type: int | None) -> int:
    api, manager = ApiSettings(), ManagerSettings()
    host = "127.0.0.1" if api.host in ("0.0.0.0", "::") else api.host
    params = {k: v for k, v in (("task_status", task_status), ("task_type", task_type)) if v is not None}
    auth = (login or manager.admin_login, password or manager.admin_password)
    return list_tasks(f"http://{host}:{api.port}", auth, page_size, params)

"""The Grafana dashboards' panel SQL, runnable outside Grafana.

Grafana's ClickHouse plugin expands macros before it sends a query; ``render`` does the same, so the
tests can run every panel against chdb and the API's /ui page can draw from the very same queries.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from analytics.events import sql

DASHBOARDS = Path(__file__).resolve().parents[2] / "infra" / "grafana" / "dashboards"
_TIME_FILTER = re.compile(r"\$__timeFilter\(([^)]+)\)")
_TIME_INTERVAL = re.compile(r"\$__timeInterval\(([^)]+)\)")


@dataclass(frozen=True)
class Panel:
    dashboard: str
    title: str
    sql: str


def panels(directory: Path = DASHBOARDS) -> list[Panel]:
    found = []
    for path in sorted(directory.glob("*.json")):
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                found.append(Panel(board["uid"], panel["title"], target["rawSql"]))
    return found


def panel(uid: str, title: str) -> Panel:
    for candidate in panels():
        if candidate.dashboard == uid and candidate.title == title:
            return candidate
    raise KeyError(f"no panel {title!r} on dashboard {uid!r}")


def render(text: str, start: datetime, end: datetime, interval_s: int, database: str = "selene") -> str:
    """Expand the plugin's macros and point the query at ``database``."""
    text = _TIME_FILTER.sub(lambda m: f"({m[1]} >= {sql.time(start)} AND {m[1]} <= {sql.time(end)})", text)
    text = _TIME_INTERVAL.sub(lambda m: f"toStartOfInterval({m[1]}, INTERVAL {int(interval_s)} second)", text)
    text = text.replace("$__interval_s", str(int(interval_s)))
    text = text.replace("$__fromTime", sql.time(start)).replace("$__toTime", sql.time(end))
    return re.sub(r"\bselene\.", f"{database}.", text)

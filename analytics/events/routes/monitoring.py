"""Live numbers for people without Grafana: ``selene up``'s console line and the operator page (``/ui``).

They come from the Grafana panels' own SQL (analytics.events.dashboards), so the two views cannot disagree.
Only aggregates leave here (ids, counts, rates), never frames or event contents.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Query, Request

from analytics.events import dashboards

router = APIRouter(tags=["monitoring"])
_STREAMS = dashboards.panel("selene-stream-health", "Streams now")
_PEOPLE = dashboards.panel("selene-people-count", "People in view, per stream")
_RATE_WINDOW_S = 10


async def _query(request: Request, panel: dashboards.Panel, seconds: int, interval_s: int) -> list[dict[str, Any]]:
    warehouse = request.app.state.context.warehouse
    end = datetime.now(UTC)
    text = dashboards.render(panel.sql, end - timedelta(seconds=seconds), end, interval_s, warehouse.database)
    return await warehouse.query(text)


@router.get("/6/monitoring/streams", summary="Per stream: frames and rate of the last 10 s, latest people count")
async def monitoring_streams(request: Request) -> dict[str, Any]:
    totals = await _query(request, _STREAMS, 3600, 60)
    recent = {r["stream"]: r["frames"] for r in await _query(request, _STREAMS, _RATE_WINDOW_S, 60)}
    people = await _query(request, _PEOPLE, 60, 1)
    latest = {r["stream"]: r["people"] for r in sorted(people, key=lambda r: r["time"])}
    streams = []
    for row in totals:
        stream = row["stream"]
        streams.append({
            "stream_id": stream,
            "frames": row["frames"],
            "last_frame_time": row["last_frame"],
            "silent_s": row["silent_s"],
            "fps": round(recent.get(stream, 0) / _RATE_WINDOW_S, 1),
            "people_count": latest.get(stream),
        })
    return {"streams": streams}


@router.get("/6/monitoring/people_counts", summary="People in view per stream over the last minutes")
async def people_counts(
    request: Request,
    minutes: int = Query(60, ge=1, le=24 * 60),
    interval_s: int = Query(60, ge=1, le=3600),
) -> dict[str, Any]:
    rows = await _query(request, _PEOPLE, minutes * 60, interval_s)
    series: dict[str, list[list[Any]]] = {}
    for row in rows:
        series.setdefault(row["stream"], []).append([row["time"], row["people"]])
    return {"interval_s": interval_s, "series": series}


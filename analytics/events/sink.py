"""The warehouse sink: moves validated records from Kafka into ClickHouse, in batches.

Delivery is at-least-once with idempotent tables: a batch's offsets are committed only after its
insert succeeded, and the tables collapse replays on the record's id. While the warehouse is down the
sink holds its batch and retries with backoff (infra.consumer's loop); it never commits what it has
not written. A batch the warehouse is up but refuses is written row by row, and the rows it refuses
go to the dead-letter topic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import ConsumerRecord
from pydantic import BaseModel

from analytics.events import rows as to_row
from analytics.events.warehouse import Warehouse
from infra import metrics
from infra.consumer import ConsumerService, Received
from infra.settings import SinkSettings
from schemas.errors import SINK_INSERT_FAILED
from schemas.events import AnalyticsEventMessage, CountSample, GeneralEventMessage
from schemas.frames import FrameStat
from schemas.topics import (
    ANALYTICS_EVENTS,
    COUNTS,
    FRAME_STATS,
    GENERAL_EVENTS,
    TopicSpec,
)

PROCESSOR = "sink"


@dataclass(frozen=True)
class Route:
    spec: TopicSpec
    model: type[BaseModel]
    table: str
    row: Callable[[Any], dict[str, Any]]


ROUTES: tuple[Route, ...] = (
    Route(FRAME_STATS, FrameStat, "frame_stats", to_row.frame_stat_row),
    Route(COUNTS, CountSample, "people_counts", to_row.count_row),
    Route(ANALYTICS_EVENTS, AnalyticsEventMessage, "analytics_events", to_row.analytics_event_row),
    Route(GENERAL_EVENTS, GeneralEventMessage, "general_events", to_row.general_event_row),
)


class WarehouseDown(ConnectionError):
    """The warehouse does not answer: the batch is held and retried."""


class Sink(ConsumerService):
    """The sink service: one consumer group over every routed topic.

    It uses aiokafka's batched fetch and commits offsets by hand, after the insert: a Faust agent doing
    the same measured at 5% of a raw batched insert here (bench/sink.py), this at the target's side.
    """

    name = PROCESSOR

    def __init__(self, bootstrap: str, group_id: str, warehouse: Warehouse, settings: SinkSettings | None = None) -> None:
        self.warehouse = warehouse
        self.routes = {route.spec.name: route for route in ROUTES}
        super().__init__(bootstrap, group_id, {name: r.model for name, r in self.routes.items()}, settings or SinkSettings())

    async def handle(self, topic: str, received: list[Received]) -> None:
        route = self.routes[topic]
        rows = [(record, route.row(message)) for record, message in received]
        with metrics.STAGE_SECONDS.labels("sink_insert").time():
            refused = await self._write(route.table, rows)
        metrics.SINK_BATCHES.labels(route.table).inc()
        metrics.SINK_ROWS.labels(route.table).inc(len(rows) - len(refused))
        for record, error in refused:
            await self.dead_letter(record, SINK_INSERT_FAILED, SINK_INSERT_FAILED.body(route.table, error).detail)

    async def _write(self, table: str, rows: list[tuple[ConsumerRecord, dict[str, Any]]]) -> list[tuple[ConsumerRecord, str]]:
        """Insert the batch; the rows the warehouse refuses while up, with why. Raises WarehouseDown."""
        try:
            await self.warehouse.insert(table, [row for _, row in rows])
            return []
        except Exception as exc:  # noqa: BLE001 - classified: down (retry the batch) or refusing (row by row)
            if not await self._warehouse_up():
                raise WarehouseDown(f"warehouse down: {exc}") from exc
        refused = []
        for record, row in rows:
            try:
                await self.warehouse.insert(table, [row])
            except Exception as exc:  # noqa: BLE001
                if not await self._warehouse_up():  # down mid-batch: retry the whole batch, rows are idempotent
                    raise WarehouseDown(f"warehouse went down mid-batch: {exc}") from exc
                refused.append((record, str(exc)))
        return refused

    async def _warehouse_up(self) -> bool:
        try:
            await self.warehouse.ping()
            return True
        except Exception:  # noqa: BLE001
            return False

"""Retention: each table's TTL follows the settings, re-applied at every start so a change takes effect."""

from __future__ import annotations

from analytics.events.warehouse import Warehouse
from infra.settings import WarehouseSettings

# table -> (time column, WarehouseSettings field with the days to keep)
RETENTION: dict[str, tuple[str, str]] = {
    "frame_stats": ("timestamp", "frame_stats_ttl_days"),
    "people_counts": ("timestamp", "counts_ttl_days"),
    "analytics_events": ("create_time", "events_ttl_days"),
    "general_events": ("event_create_time", "events_ttl_days"),
    "luna_events": ("create_time", "events_ttl_days"),
}


async def _has_ttl(warehouse: Warehouse, table: str) -> bool:
    rows = await warehouse.query(
        "SELECT create_table_query AS q FROM system.tables "
        f"WHERE database = '{warehouse.database}' AND name = '{table}'"
    )
    return bool(rows) and " TTL " in rows[0]["q"]


async def apply_retention(warehouse: Warehouse, settings: WarehouseSettings) -> dict[str, int]:
    applied = {}
    for table, (column, field) in RETENTION.items():
        days = getattr(settings, field)
        target = f"{warehouse.database}.{table}"
        if days:
            await warehouse.execute(f"ALTER TABLE {target} MODIFY TTL toDateTime({column}) + INTERVAL {days} DAY")
        elif await _has_ttl(warehouse, table):
            await warehouse.execute(f"ALTER TABLE {target} REMOVE TTL")
        applied[table] = days
    return applied

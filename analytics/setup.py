"""Open the warehouse ready for use: started, migrated, retention applied."""

from __future__ import annotations

from analytics.migrate import migrate
from analytics.retention import apply_retention
from analytics.warehouse import Warehouse, create_warehouse
from infra.settings import CommonSettings, WarehouseSettings


async def open_warehouse(settings: WarehouseSettings, common: CommonSettings) -> Warehouse:
    warehouse = create_warehouse(settings, common)
    await warehouse.start()
    try:
        await migrate(warehouse)
        await apply_retention(warehouse, settings)
    except BaseException:
        await warehouse.stop()
        raise
    return warehouse

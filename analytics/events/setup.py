"""Open the warehouse ready for use: started, migrated, retention applied."""

from __future__ import annotations

from analytics.events.migrate import migrate
from analytics.events.retention import apply_retention
from analytics.events.warehouse import Warehouse
from infra.settings import CommonSettings, WarehouseSettings


def create_warehouse(
    settings: WarehouseSettings | None = None, common: CommonSettings | None = None
) -> Warehouse:
    settings = settings or WarehouseSettings()
    if settings.backend == "chdb":
        from analytics.events.chdb_warehouse import ChdbWarehouse

        path = settings.path or (common or CommonSettings()).data_dir / "clickhouse"
        return ChdbWarehouse(path, settings.database)
    from analytics.events.server_warehouse import ServerWarehouse

    return ServerWarehouse(settings)


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

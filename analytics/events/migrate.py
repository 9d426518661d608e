"""Versioned warehouse migrations: ``analytics/migrations/NNNN_name.sql``, applied once each, in order."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from analytics.events.warehouse import Warehouse

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).with_name("migrations")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    def statements(self, database: str) -> list[str]:
        text = "\n".join(line for line in self.sql.splitlines() if not line.lstrip().startswith("--"))
        return [s.strip().replace("{database}", database) for s in text.split(";") if s.strip()]


def available(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in sorted(directory.glob("[0-9][0-9][0-9][0-9]_*.sql")):
        version, _, name = path.stem.partition("_")
        found.append(Migration(int(version), name, path.read_text()))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError(f"duplicate migration versions in {directory}")
    return found


async def migrate(warehouse: Warehouse, directory: Path = MIGRATIONS_DIR) -> list[int]:
    """Apply pending migrations; return the versions applied now."""
    db = warehouse.database
    await warehouse.execute(
        f"CREATE TABLE IF NOT EXISTS {db}.schema_migrations "
        "(version UInt32, name String, applied_at DateTime DEFAULT now()) "
        "ENGINE = ReplacingMergeTree ORDER BY version"
    )
    done = {int(r["version"]) for r in await warehouse.query(f"SELECT version FROM {db}.schema_migrations")}
    applied = []
    for migration in available(directory):
        if migration.version in done:
            continue
        for statement in migration.statements(db):
            await warehouse.execute(statement)
        await warehouse.insert("schema_migrations", [{"version": migration.version, "name": migration.name}])
        log.info("applied migration", extra={"version": migration.version, "migration": migration.name})
        applied.append(migration.version)
    return applied

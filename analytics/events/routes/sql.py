"""Read-only SQL on the warehouse for admins: how ``selene sql`` reaches the embedded chdb, which only
the API process may open. In the compose deployment users may also query ClickHouse directly."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from pydantic import Field

from schemas.base import Body
from schemas.errors import BAD_INPUT_DATA, PERMISSION_DENIED, SeleneError

router = APIRouter(tags=["sql"])
_SELECT = re.compile(r"^\s*(SELECT|WITH)\b", re.IGNORECASE)
_READ_ONLY = re.compile(r"^\s*(SELECT|WITH|SHOW|DESCRIBE|DESC|EXPLAIN|EXISTS)\b", re.IGNORECASE)
MAX_ROWS = 10_000


class SqlQuery(Body):
    query: str = Field(min_length=1, max_length=100_000)


def read_only(query: str) -> str:
    """One read-only statement, or a SeleneError saying why not."""
    statement = query.strip().rstrip(";").strip()
    if ";" in statement:
        raise SeleneError(BAD_INPUT_DATA, "one statement at a time")
    if not _READ_ONLY.match(statement):
        raise SeleneError(BAD_INPUT_DATA, "only SELECT, WITH, SHOW, DESCRIBE, EXPLAIN and EXISTS are allowed")
    return statement


@router.post("/6/sql", summary="Run one read-only SQL statement on the warehouse (admin only)")
async def run_sql(request: Request, body: SqlQuery) -> dict[str, Any]:
    principal = await request.app.state.context.auth.authenticate(request)
    if principal.account_type != "admin":
        raise SeleneError(PERMISSION_DENIED, "sql", "the warehouse")
    statement = read_only(body.query)
    # Bound what a careless SELECT can pull into the API's memory.
    limited = f"SELECT * FROM ({statement}) LIMIT {MAX_ROWS + 1}" if _SELECT.match(statement) else statement
    try:
        rows = await request.app.state.context.warehouse.query(limited)
    except Exception as exc:  # noqa: BLE001 - the engine's message is what the user needs
        raise SeleneError(BAD_INPUT_DATA, f"SQL error: {str(exc)[:2000]}") from None
    return {"rows": rows[:MAX_ROWS], "truncated": len(rows) > MAX_ROWS}

"""The LUNA coverage count: operations match by method and path shape, websockets count, others don't."""

from __future__ import annotations

from fastapi import FastAPI, WebSocket

from infra.root.luna_coverage import coverage, luna_operations, served_operations


def test_operations_match_by_shape_and_websockets_count() -> None:
    app = FastAPI()

    @app.get("/6/faces/{id}")
    async def face(id: str) -> None: ...

    @app.head("/6/faces/{id}")
    async def face_exists(id: str) -> None: ...

    @app.post("/6/not-luna")
    async def other() -> None: ...

    @app.websocket("/6/ws")
    async def ws(socket: WebSocket) -> None: ...

    @app.get("/metrics")  # outside /6: not an API v6 operation
    async def metrics() -> None: ...

    assert served_operations(app) == {"GET /faces/{}", "HEAD /faces/{}", "POST /not-luna", "GET /ws"}
    result = coverage(app)
    assert sorted(result.served) == ["GET /faces/{face_id}", "GET /ws", "HEAD /faces/{face_id}"]
    assert len(result.served) + len(result.missing) == len(result.luna)
    assert "DELETE /faces/{face_id}" in result.missing


def test_the_luna_list_is_clean() -> None:
    operations = luna_operations()
    assert len(operations) == len(set(operations)) > 100
    assert all(op.split(" ")[0] in {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"} for op in operations)


def test_the_full_app_serves_the_basics() -> None:
    served = coverage().served
    assert {"GET /version", "POST /faces", "POST /matcher/faces", "GET /config", "POST /sdk", "GET /ws"} <= set(served)

"""How much of LUNA's API v6 Selene serves: LUNA's operations (docs/luna_endpoints.txt) against the
operations of the app ``selene api`` serves, read from its OpenAPI document plus its websocket routes
(websockets are not part of OpenAPI)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.routing import WebSocketRoute

from infra.http.mount import Mount
from infra.root.app import API_VERSION, SERVICE_MOUNTS, ApiContext, create_api

ENDPOINTS = Path(__file__).resolve().parents[2] / "docs" / "luna_endpoints.txt"
_PARAMETER = re.compile(r"\{[^}]+\}")
_METHODS = ("get", "post", "put", "patch", "delete", "head")


@dataclass(frozen=True)
class Coverage:
    luna: list[str]
    served: list[str]
    missing: list[str]

    @property
    def ratio(self) -> float:
        return len(self.served) / len(self.luna)


def _shape(operation: str) -> str:
    """``GET /faces/{face_id}`` and ``GET /faces/{id}`` are the same operation."""
    method, path = operation.split(" ", 1)
    return f"{method.upper()} {_PARAMETER.sub('{}', path.rstrip('/'))}"


def luna_operations(path: Path = ENDPOINTS) -> list[str]:
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def served_operations(app: FastAPI, mounts: tuple[Mount, ...] = ()) -> set[str]:
    """The app's operations: its OpenAPI paths, and the websockets declared on it or on the mounted routers
    (FastAPI keeps included routers' websockets out of ``app.routes``' public types)."""
    prefix = f"/{API_VERSION}"
    spec: dict[str, Any] = app.openapi()
    paths = [(method, path) for path, item in spec["paths"].items() for method in item if method in _METHODS]
    paths += [("get", route.path) for route in app.routes if isinstance(route, WebSocketRoute)]
    paths += [("get", (prefix if mount.versioned else "") + route.path)
              for mount in mounts for route in mount.router.routes if isinstance(route, WebSocketRoute)]
    return {_shape(f"{method} {path[len(prefix):]}") for method, path in paths if path.startswith(prefix + "/")}


def full_app() -> FastAPI:
    """The app with every service mounted; building its OpenAPI touches none of the stores."""
    placeholder: Any = object()
    return create_api(ApiContext(warehouse=placeholder, health=placeholder, manager=placeholder))


def coverage(app: FastAPI | None = None) -> Coverage:
    served = served_operations(app) if app is not None else served_operations(full_app(), SERVICE_MOUNTS)
    luna = luna_operations()
    hits = [op for op in luna if _shape(op) in served]
    return Coverage(luna, hits, [op for op in luna if _shape(op) not in served])

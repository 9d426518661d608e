"""The REST API under ``/6``: LUNA-compatible paths, LUNA's error body, OpenAPI at /docs."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from importlib import metadata
from typing import Any

import onnxruntime
from fastapi import APIRouter, FastAPI, Request
from fastapi_offline import FastAPIOffline
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from agents.video_manager import routes as video_manager_routes
from agents.video_manager.live_results import LiveResults
from agents.video_manager.manager import VideoManager
from agents.video_manager.preview import Previews
from analytics.events import routes as events_routes
from analytics.events.warehouse import Warehouse
from analytics.images import routes as images_routes
from analytics.images.samples import SampleStore
from analytics.images.store import ImageStore
from analytics.recognition import routes as recognition_routes
from analytics.recognition.handlers import Handlers
from analytics.recognition.attributes import AttributeStore
from analytics.recognition.service import Recognition
from analytics.sdk import routes as sdk_routes
from analytics.sdk.service import RemoteSdk
from analytics.sender import routes as sender_routes
from analytics.sender.service import Sender
from analytics.tasks import routes as tasks_routes
from analytics.tasks.api import TaskServices
from infra.auth import routes as auth_routes
from infra.auth.authenticator import Authenticator
from infra.health import HealthMonitor
from infra.http import errors
from infra.http.metrics import HttpMetricsMiddleware, metrics_router
from infra.http.mount import Mount
from infra.http.request_id import RequestIdMiddleware
from infra.root import videosdk
from infra.settings import effective_settings
from schemas.errors import HEALTHCHECK_ERROR, PERMISSION_DENIED, SERVICE_UNAVAILABLE, ErrorBody, SeleneError
from schemas.rest import (
    EstimatorFeature,
    FeaturesResponse,
    HealthResponse,
    VersionResponse,
)
from streams.models.estimators.registry import ESTIMATORS

API_VERSION = 6
UI_DIR = Path(__file__).resolve().parent / "static"  # the operator page: static files, no build step
MAX_BODY_BYTES = 16 * 1024 * 1024
# Documented so that clients (and schemathesis) know every failure's body; 422 replaces FastAPI's own.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in {
        400: "Bad input: malformed JSON, invalid fields (12022, 12027) or query parameters (12012)",
        401: "No or wrong credentials (12010, 41006, 41007, 11065)",
        403: "Not allowed for this account or token (11059, 11061, 11063)",
        404: "The object does not exist, or belongs to another account (11020)",
        409: "The name is taken (45006)",
        413: "The body is over the limit (37003)",
        422: "No registered agent runs all the stream's analytics (44014)",
    }.items()
}
# Every service's routes, mounted in this one place; a new service adds its MOUNTS here.
SERVICE_MOUNTS: tuple[Mount, ...] = (
    *video_manager_routes.MOUNTS,
    *auth_routes.MOUNTS,
    *events_routes.MOUNTS,
    *recognition_routes.MOUNTS,
    *sdk_routes.MOUNTS,
    *videosdk.MOUNTS,
    *images_routes.MOUNTS,
    *sender_routes.MOUNTS,
    *tasks_routes.MOUNTS,
)
_COMPONENTS = ("selene", "faust-streaming", "aiokafka", "av", "chdb", "pymilvus", "redis", "fastapi", "onnxruntime")


def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


@dataclass
class ApiContext:
    warehouse: Warehouse
    health: HealthMonitor
    started_at: float = field(default_factory=time.time)
    warehouse_version: str = "unknown"
    manager: VideoManager | None = None  # None: the platform endpoints only
    auth: Authenticator | None = None
    results: LiveResults | None = None  # None: the stream websocket answers 45004
    recognition: Recognition | None = None  # None: no face store (faces, lists and matcher answer 45004)
    sdk: RemoteSdk | None = None  # None: /sdk and /iso answer 45004
    previews: Previews | None = None  # None: the stream preview answers 45004
    samples: SampleStore | None = None  # None: no image store (samples answer 45004)
    handlers: Handlers | None = None  # None: no face store (handlers answer 45004)
    images: ImageStore | None = None  # None: /images, /objects and /samples answer 45004
    attributes: AttributeStore | None = None  # None: no temporary attributes (attributes answer 45004)
    sender: Sender | None = None  # None: /6/ws answers 29002
    tasks: TaskServices | None = None  # None: no tasks service (tasks answer 45004)


def create_api(context: ApiContext) -> FastAPI:
    # Swagger UI and ReDoc from the package, not a CDN: the docs work on a network without internet.
    app = FastAPIOffline(
        title="Selene",
        version=package_version("selene"),
        description=(
            "Kafka-native video analytics, compatible with LUNA PLATFORM 5's API v6. Live results of a stream: "
            "the websocket `/6/streams/{stream_id}/ws`; generated events: LUNA's `/6/ws` (neither listed below; see the "
            "README)."
        ),
        docs_url="/docs",
        redoc_url="/redoc",
        static_url="/static-docs",
        openapi_url="/openapi.json",
    )
    app.state.context = context
    app.add_middleware(errors.BodyLimitMiddleware, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(HttpMetricsMiddleware)  # outermost: it sees every answer, errors included
    errors.install(app)
    app.include_router(metrics_router())  # Prometheus scrapes /metrics, outside the API version
    app.include_router(_meta_router(context), prefix=f"/{API_VERSION}")
    mounts: tuple[Mount, ...] = events_routes.PLATFORM_MOUNTS
    if context.manager is not None:
        mounts += SERVICE_MOUNTS
    for mount in mounts:
        app.include_router(
            mount.router, prefix=f"/{API_VERSION}" if mount.versioned else "",
            responses=ERROR_RESPONSES if mount.error_docs else None,
        )

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/docs")

    @app.get("/ui", include_in_schema=False)
    async def ui() -> FileResponse:
        return FileResponse(UI_DIR / "ui.html")

    app.mount("/ui/static", StaticFiles(directory=UI_DIR), name="ui")

    return app


def _meta_router(context: ApiContext) -> APIRouter:
    router = APIRouter(tags=["meta"])

    @router.get("/version", response_model=VersionResponse, summary="Versions of Selene and its components")
    async def version() -> VersionResponse:
        components = {name: package_version(name) for name in _COMPONENTS}
        components["clickhouse"] = context.warehouse_version
        return VersionResponse(version=package_version("selene"), api_version=API_VERSION, components=components)

    @router.get("/features", response_model=FeaturesResponse, summary="What this deployment can do")
    async def features() -> FeaturesResponse:
        gpu = "CUDAExecutionProvider" in onnxruntime.get_available_providers()
        return FeaturesResponse(
            components={"video_manager": context.manager is not None, "events": True,
                        "handlers": context.handlers is not None},
            inference_backend="onnxruntime-cuda" if gpu else "onnxruntime-cpu",
            estimators=[EstimatorFeature(
                name=e.name, flags=list(e.flags), model=e.model, license=e.license, commercial_use=e.commercial_use,
                input=e.input, output=e.output, available=e.available and context.sdk is not None, reason=e.reason,
            ) for e in ESTIMATORS.values()],
        )

    @router.get("/health", response_model=HealthResponse, summary="State of every part, probed continuously")
    async def health() -> HealthResponse:
        return context.health.snapshot()

    @router.get("/healthcheck", summary="LUNA's healthcheck: 200, or 502 with error 38001 naming the parts down")
    async def healthcheck() -> JSONResponse:
        snapshot = context.health.snapshot()
        down = [p.name for p in snapshot.parts if p.status == "down"]
        if down:
            return errors.error_response(HEALTHCHECK_ERROR, ", ".join(down))
        return JSONResponse({"execution_time": snapshot.execution_time})

    @router.get("/docs/spec", summary="This API's OpenAPI document (LUNA's docs/spec)")
    async def spec(request: Request) -> Any:
        return request.app.openapi()

    @router.get("/docs/dev", summary="The interactive API documentation (a redirect)")
    async def docs_dev() -> RedirectResponse:
        return RedirectResponse("/docs")

    @router.get("/config", summary="Every setting's value, secrets hidden (LUNA's service configuration; admin only)")
    async def config(request: Request) -> dict[str, object]:
        if context.auth is None:
            raise SeleneError(SERVICE_UNAVAILABLE, "accounts", "this API serves the platform endpoints only")
        principal = await context.auth.authenticate(request)
        if principal.account_type != "admin":
            raise SeleneError(PERMISSION_DENIED, "config", "the configuration")
        return effective_settings()

    @router.get("/plugins", summary="Loaded plugins (Selene has no plugin mechanism: always empty)")
    async def plugins() -> dict[str, list[str]]:
        return {"plugins": []}

    return router

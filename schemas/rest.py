"""Platform endpoints' bodies: ``/6/version``, ``/6/healthcheck``, ``/6/features``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from schemas.base import Body

LUNA_API_VERSION = 6


class VersionResponse(Body):
    """``GET /6/version``.

    LUNA answers with one key per service (``"LUNA PLATFORM"``, ``"luna-api"``, ...) whose contents its
    documents do not show; Selene gives its own version and a flat map of component versions
    (``selene``, ``luna-api-compat``, ``faust``, ``av``, ``chdb``, ...).
    """

    version: str = Field(description="Selene's version.")
    api_version: int = Field(default=LUNA_API_VERSION, description="The LUNA API version Selene serves.")
    components: dict[str, str] = Field(default_factory=dict, description="Component name -> version.")


class PartHealth(Body):
    """One dependency's health: broker, Redis, ClickHouse, Milvus, a worker."""

    name: str
    status: Literal["ok", "degraded", "down", "disabled"]
    latency_ms: float | None = Field(default=None, ge=0)
    error: str | None = None


class HealthResponse(Body):
    """``GET /6/healthcheck``: LUNA's ``execution_time`` plus each part's status (LUNA lists them on 502)."""

    status: Literal["ok", "degraded", "down"]
    parts: list[PartHealth] = Field(default_factory=list)
    execution_time: float = Field(ge=0, description="Seconds the check took.")


class FeatureEstimations(Body):
    """LUNA's ``/features`` ``estimations``; Selene has no licence, so a feature is on if it is built in."""

    people_counter: bool = True
    face_quality: bool = False
    body_attributes: bool = False
    liveness: bool = False
    deepfake: bool = False


class EstimatorFeature(Body):
    """One estimator of the registry (``streams/models/estimators/registry.py``)."""

    name: str
    flags: list[str] = Field(description="LUNA's request flags that ask for it.")
    model: str = Field(description="Model registry name(s), or `none: computed` and how.")
    license: str = Field(description="The weights' license; `n/a` for a computed estimator.")
    commercial_use: bool
    input: str = Field(description="`image`, `face warp`, `body warp` or `face landmarks`.")
    output: str = Field(description="LUNA's output field and its shape.")
    available: bool
    reason: str | None = Field(default=None, description="Why it is unavailable, or what it cannot do.")


class FeaturesResponse(Body):
    """``GET /6/features`` in LUNA's shape plus Selene's video analytics and inference backend."""

    license: dict[str, Any] | None = Field(default=None, description="Selene is not licensed: null.")
    estimations: FeatureEstimations = Field(default_factory=FeatureEstimations)
    components: dict[str, bool] = Field(
        default_factory=dict, description="LUNA's component switches: faces, events, tasks, sender, ..."
    )
    video_analytics: bool = True
    inference_backend: str = Field(description="E.g. `onnxruntime-cpu`, `onnxruntime-cuda`, `tensorrt`.")
    estimators: list[EstimatorFeature] = Field(
        default_factory=list, description="Every LUNA estimator, available or not (`/6/sdk` answers 200005 for the latter)."
    )

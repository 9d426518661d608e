from __future__ import annotations

import pytest
from pydantic import ValidationError

from schemas.rest import FeaturesResponse, HealthResponse, VersionResponse


def test_version() -> None:
    v = VersionResponse(version="0.1.0", components={"selene": "0.1.0", "av": "14.0.0"})
    assert v.api_version == 6
    assert VersionResponse.model_validate_json(v.model_dump_json()) == v


def test_health() -> None:
    h = HealthResponse.model_validate(
        {
            "status": "degraded",
            "parts": [
                {"name": "kafka", "status": "ok", "latency_ms": 1.5},
                {"name": "milvus", "status": "down", "error": "x"},
            ],
            "execution_time": 0.123,
        }
    )
    assert h.parts[1].status == "down"
    with pytest.raises(ValidationError):
        HealthResponse.model_validate({"status": "fine", "execution_time": 0})


def test_features_luna_keys() -> None:
    f = FeaturesResponse(inference_backend="onnxruntime-cpu", components={"events": True, "handlers": False})
    dumped = f.model_dump()
    assert {"license", "estimations", "components", "video_analytics", "inference_backend"} <= set(dumped)
    assert set(dumped["estimations"]) == {
        "people_counter",
        "face_quality",
        "body_attributes",
        "liveness",
        "deepfake",
    }

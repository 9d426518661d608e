from __future__ import annotations

import json
from typing import Literal

import pytest
from pydantic import BaseModel

from schemas.base import Body, Message
from schemas.registry import contract_models

MODELS = contract_models()
PRE_EXISTING = {"schemas.deadletter", "schemas.errors", "schemas.frames"}  # written before the docstring rule

# The classes other parts of Selene import by name.
REQUIRED = {
    "Rate", "Roi", "DroiPoint", "Droi", "ImageRetainPolicy", "HttpCallback", "LunaEventCallback",
    "WebsocketCallback", "LineCrossing", "Zone", "PeopleCountParameters", "HumanTrackingParameters",
    "Location", "VideoPTS", "StreamData", "Restart", "Autorestart", "StreamAnalyticRequest", "StreamAnalytic",
    "NotificationPolicy", "StreamCreate", "StreamCreated", "Stream", "StreamsPage", "StreamsCount",
    "StreamPatch", "StreamLog", "StreamLogsPage", "DeletedCount", "GroupCreate", "Group", "GroupsPage",
    "GroupsCount", "GroupPatch", "GroupStreamsPatch", "AnalyticCreate", "Analytic", "AnalyticsPage",
    "StreamConfig", "BoundingBox", "Landmark", "Detection", "DetectionBatch", "TrackUpdate", "TrackedObject",
    "VideoSegment", "PeopleCountFrameEstimation", "PeopleCountEvent", "HumanTrackingFrameEstimation",
    "BestShot", "HumanTrackingEvent", "LineCrossingEvent", "ZoneOccupancyEvent", "AnalyticsEventMessage",
    "CountSample", "GeneralEvent", "GeneralEventMessage", "Descriptor", "SdkDescriptor", "AgentRegistration",
    "AgentRegistered", "StreamReport", "AgentFeedback", "FeedbackAction", "FeedbackResponse", "Agent",
    "AgentMessage", "StreamCommand", "VersionResponse", "PartHealth", "HealthResponse", "FeaturesResponse",
    "ErrorBody", "DeadLetter", "FrameHeader", "FrameStat",
}  # fmt: skip


def test_registry_finds_every_model() -> None:
    assert REQUIRED <= set(MODELS), REQUIRED - set(MODELS)
    for name, model in MODELS.items():
        assert model.__name__ == name
        assert issubclass(model, (Body, Message))
        if model.__module__ not in PRE_EXISTING:
            assert model.__doc__, f"{name} has no docstring"


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("mode", ["validation", "serialization"])
def test_json_schema(name: str, mode: Literal["validation", "serialization"]) -> None:
    model: type[BaseModel] = MODELS[name]
    schema = model.model_json_schema(mode=mode)
    json.dumps(schema)
    assert schema.get("type") == "object"
    if issubclass(model, Body) and mode == "validation":
        assert schema.get("additionalProperties") is False


def test_no_model_is_both() -> None:
    for name, model in MODELS.items():
        assert not (issubclass(model, Body) and issubclass(model, Message)), name

"""gc and exporter contents parse their filters by their source: face filters for faces, LUNA's event
filters for events, and neither kind's fields pass for the other."""

from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError

from schemas.tasks import EVENT_COLUMNS, FACE_COLUMNS, EventObjectFilters, ExporterContent, FaceObjectFilters, GcContent


def test_filters_follow_the_source() -> None:
    assert isinstance(GcContent.model_validate({"target": "events", "filters": {"sources": ["a"]}}).filters,
                      EventObjectFilters)
    assert isinstance(GcContent.model_validate({"target": "events"}).filters, EventObjectFilters)
    assert isinstance(GcContent.model_validate({"filters": {"user_data": "a"}}).filters, FaceObjectFilters)
    exporter = ExporterContent.model_validate({"objects_type": "events", "filters": {"tags": ["t"]}})
    assert isinstance(exporter.filters, EventObjectFilters) and exporter.all_columns == list(EVENT_COLUMNS)
    assert ExporterContent.model_validate({}).all_columns == list(FACE_COLUMNS)


@pytest.mark.parametrize("content", [
    {"target": "faces", "filters": {"sources": ["a"]}},
    {"target": "events", "filters": {"list_id": str(uuid.uuid4())}},
    {"target": "events", "filters": {"event_ids": ["nope"]}},
])
def test_the_other_sources_filters_are_refused(content: dict) -> None:
    with pytest.raises(ValidationError):
        GcContent.model_validate(content)


def test_exporter_columns_are_the_sources() -> None:
    assert ExporterContent.model_validate({"objects_type": "events", "columns": ["source", "tags"]}).columns
    with pytest.raises(ValidationError):
        ExporterContent.model_validate({"objects_type": "events", "columns": ["avatar"]})
    with pytest.raises(ValidationError):
        ExporterContent.model_validate({"objects_type": "faces", "columns": ["source"]})

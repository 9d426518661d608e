"""The sender's filters on events in LUNA's generate-events shape, and which callbacks an event takes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import TypeAdapter

from analytics.sender.filters import EventFacts, matches, to_deliver
from schemas.callbacks import EventCallback, EventFilters, HttpEventCallback, WsNotificationCallback
from schemas.notifications import EventNotification

HANDLER = uuid.uuid4()
STREAM = uuid.uuid4()
CALLBACKS = TypeAdapter(list[EventCallback])


def event(**changes: Any) -> dict[str, Any]:
    """An event as a handler answers it (the 004 generateEvents example's keys)."""
    base: dict[str, Any] = {
        "event_id": str(uuid.uuid4()), "source": "cam1", "stream_id": str(STREAM), "user_data": "Front Door",
        "tags": ["vip", "staff"],
        "location": {"city": "Kazan", "street": "Saban", "house_number": "5",
                     "geo_position": {"longitude": 49.1, "latitude": 55.79}},
        "face_attributes": {"basic_attributes": {
            "age": 33, "gender": 1,
            "ethnicities": {"estimations": {"caucasian": 0.9}, "predominant_ethnicity": "caucasian"}}},
        "aggregate_estimations": {"face": {"attributes": {
            "emotions": {"estimations": {}, "predominant_emotion": "happiness"},
            "mask": {"estimations": {}, "predominant_mask": "missing"},
            "liveness": {"prediction": "real", "estimations": {"probability": 0.99}}}}, "body": {"attributes": {}}},
        "matches": [
            {"label": "staff", "candidates": [{"similarity": 0.93, "face": {"face_id": str(uuid.uuid4())}}]},
            {"label": "banned", "candidates": []},
        ],
    }
    base.update(changes)
    return base


def facts(body: dict[str, Any] | None = None, handler_id: uuid.UUID | None = HANDLER) -> EventFacts:
    return EventFacts.of(EventNotification.model_validate({
        "account_id": uuid.uuid4(), "handler_id": handler_id, "event": body if body is not None else event(),
        "event-create-time": "2024-01-01T00:00:00Z", "event-end-time": "2024-01-01T00:00:00Z",
    }))


@pytest.mark.parametrize("given", [
    {}, {"sources": ["cam2", "cam1"]}, {"stream_ids": [STREAM]}, {"handler_ids": [HANDLER]},
    {"matching_candidates_labels": ["staff"]}, {"object_similarity__gte": 0.9, "object_similarity__lt": 0.95},
    {"age__gte": 33, "age__lt": 34}, {"gender": 1}, {"ethnic_groups": [4]}, {"liveness": [1, 2]},
    {"tags": ["vip"]}, {"tags": ["staff", "vip"]}, {"user_data": "front"}, {"cities": ["Kazan"]},
    {"streets": ["Saban"]}, {"house_numbers": ["5"]},
    {"geo_position": {"origin_longitude": 49.105, "origin_latitude": 55.785}},
    {"emotions": [4]}, {"masks": [1]},
])
def test_an_event_meets_the_filters_it_satisfies(given: dict[str, Any]) -> None:
    assert matches(EventFilters.model_validate(given), facts())


@pytest.mark.parametrize("given", [
    {"sources": ["cam2"]}, {"stream_ids": [uuid.uuid4()]}, {"handler_ids": [uuid.uuid4()]},
    {"matching_candidates_labels": ["banned"]},  # a label whose match found no candidate
    {"object_similarity__gte": 0.95}, {"object_similarity__lt": 0.93}, {"age__lt": 33}, {"age__gte": 34},
    {"gender": 0}, {"ethnic_groups": [1, 2]}, {"liveness": [0]}, {"tags": ["vip", "guest"]},
    {"user_data": "back"}, {"cities": ["Moscow"]}, {"areas": ["CAD"]},  # the event has no area
    {"geo_position": {"origin_longitude": 49.2, "origin_latitude": 55.79}}, {"emotions": [1]}, {"masks": [2]},
    {"deepfake": [1]}, {"apparent_gender": [1]}, {"backpack_states": [0]}, {"upper_clothing_colors": ["red"]},
])
def test_an_event_fails_a_filter_it_does_not_meet_or_cannot_tell(given: dict[str, Any]) -> None:
    assert not matches(EventFilters.model_validate(given), facts())


def test_face_estimations_fall_back_to_the_first_detection() -> None:
    body = event(aggregate_estimations=None, detections=[{"samples": {"face": {"detection": {"attributes": {
        "emotions": {"predominant_emotion": "neutral"}}}}}}])
    assert facts(body).emotion == 5


def test_body_attributes_are_read_from_the_sdk_shape() -> None:
    body = event(body_attributes={
        "basic_attributes": {"apparent_age": 40, "apparent_gender": {"predominant_apparent_gender": "female"}},
        "upper_body": {"upper_clothing": {"apparent_colors": ["red", "white"]}},
        "accessories": {"backpack": {"apparent_state": "yes"}},
    })
    assert matches(EventFilters(apparent_gender=[0], apparent_age__gte=40, upper_clothing_colors=["white"],
                                backpack_states=[1]), facts(body))


def test_a_malformed_event_tells_nothing_and_breaks_nothing() -> None:
    odd = facts({"tags": "vip", "location": "Kazan", "matches": [{"label": 3, "candidates": [{"similarity": "x"}]}],
                 "face_attributes": [], "body_attributes": 7}, handler_id=None)
    assert odd.tags == frozenset() and odd.top_similarity is None and odd.age is None
    assert matches(EventFilters(), odd) and not matches(EventFilters(tags=["vip"]), odd)


def test_callbacks_identical_but_for_filters_deliver_once_when_any_filters_match() -> None:
    callbacks = CALLBACKS.validate_python([
        {"type": "http", "url": "http://h/a", "filters": {"liveness": [1]}},
        {"type": "http", "url": "http://h/a", "filters": {"object_similarity__gte": 0.9}},
        {"type": "http", "url": "http://h/a", "filters": {"gender": 0}},  # fails; the others deliver
        {"type": "http", "url": "http://h/b", "filters": {"gender": 0}},  # fails: not sent
        {"type": "http", "url": "http://h/c", "enable": 0},  # disabled
        {"type": "http", "url": "http://h/d", "params": {"timeout": 5}},
        {"type": "luna-ws-notification", "filters": {"tags": ["vip"]}},
        {"type": "luna-ws-notification"},
    ])
    http = to_deliver(callbacks, HttpEventCallback, facts())
    assert [c.url for c in http] == ["http://h/a", "http://h/d"]
    assert len(to_deliver(callbacks, WsNotificationCallback, facts())) == 1
    assert to_deliver(callbacks[:4], WsNotificationCallback, facts()) == []

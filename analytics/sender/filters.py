"""Whether a generated event meets LUNA's event filters (the /6/ws handshake's and the callbacks'), and
which of a handler's callbacks an event goes through.

The facts are read once per event from its generate-events shape (digest §3.2): face basic attributes
from ``face_attributes``, face estimations from ``aggregate_estimations.face`` (else the first
detection's), body attributes from ``body_attributes`` (LUNA's Remote SDK shape), the top match from
``matches``. A filter on a fact the event lacks is not met: a subscriber asking for ``gender=1`` gets
no event whose gender was not estimated.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

from schemas.callbacks import EventCallback, EventFilters, HttpEventCallback, WsNotificationCallback
from schemas.notifications import EventNotification

C = TypeVar("C", HttpEventCallback, WsNotificationCallback)

# LUNA's estimation names -> the codes its filters use.
EMOTIONS = {n: c for c, n in enumerate(("anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise"), 1)}
MASKS = {"missing": 1, "medical_mask": 2, "occluded": 3}
ETHNIC_GROUPS = {"african_american": 1, "indian": 2, "asian": 3, "caucasian": 4}
LIVENESS = {"spoof": 0, "real": 1, "unknown": 2}
DEEPFAKE = {"fake": 0, "real": 1}
APPARENT_GENDERS = {"female": 0, "male": 1, "unknown": 2, "undefined": 2}
STATES = {"no": 0, "absent": 0, "yes": 1, "present": 1, "unknown": 2, "undefined": 2}


def _at(node: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _list(node: Any) -> list[Any]:
    return node if isinstance(node, list) else []


def _value(node: Any) -> Any:
    """An estimation's value: the value itself, or the ``predominant_*`` entry of its estimations."""
    if isinstance(node, dict):
        return next((v for k, v in node.items() if k.startswith("predominant")), None)
    return node


def _code(node: Any, names: dict[str, int]) -> int | None:
    value = _value(node)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return names.get(value) if isinstance(value, str) else None


def _number(node: Any) -> float | None:
    value = _value(node)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _text(node: Any) -> str | None:
    return node if isinstance(node, str) else None


def _texts(node: Any) -> set[str]:
    value = _value(node)
    if isinstance(value, str):
        return {value}
    return {v for v in value if isinstance(v, str)} if isinstance(value, list) else set()


@dataclass(frozen=True)
class EventFacts:
    """What the filters look at in one event; None: the event does not tell."""

    source: str | None = None
    stream_id: str | None = None
    handler_id: str | None = None
    user_data: str | None = None
    tags: frozenset[str] = frozenset()
    labels: frozenset[str] = frozenset()  # match policies' labels that found a candidate
    top_similarity: float | None = None
    location: dict[str, str | None] = field(default_factory=dict)
    longitude: float | None = None
    latitude: float | None = None
    age: float | None = None
    gender: int | None = None
    ethnic_group: int | None = None
    emotion: int | None = None
    mask: int | None = None
    liveness: int | None = None
    deepfake: int | None = None
    apparent_age: float | None = None
    apparent_gender: int | None = None
    headwear_state: int | None = None
    headwear_color: str | None = None
    sleeve_length: str | None = None
    upper_colors: frozenset[str] = frozenset()
    lower_colors: frozenset[str] = frozenset()
    lower_type: str | None = None
    shoes_color: str | None = None
    backpack_state: int | None = None

    @classmethod
    def of(cls, notification: EventNotification) -> EventFacts:
        event = notification.event
        basic = _at(event, "face_attributes", "basic_attributes")
        face = _at(event, "aggregate_estimations", "face", "attributes") or _first_face_attributes(event)
        body = event.get("body_attributes") or _at(event, "aggregate_estimations", "body", "attributes")
        location = event.get("location") if isinstance(event.get("location"), dict) else {}
        similarities, labels = [], set()
        for match in _list(event.get("matches")):
            candidates = [c for c in _list(_at(match, "candidates")) if isinstance(_number(_at(c, "similarity")), float)]
            if candidates and isinstance(_at(match, "label"), str):
                labels.add(match["label"])
            similarities += [float(c["similarity"]) for c in candidates]
        return cls(
            source=_text(event.get("source")), stream_id=_text(event.get("stream_id")),
            handler_id=str(notification.handler_id) if notification.handler_id else None,
            user_data=_text(event.get("user_data")),
            tags=frozenset(t for t in _list(event.get("tags")) if isinstance(t, str)), labels=frozenset(labels),
            top_similarity=max(similarities, default=None),
            location={k: _text(location.get(k)) for k in ("city", "area", "district", "street", "house_number")},
            longitude=_number(_at(location, "geo_position", "longitude")),
            latitude=_number(_at(location, "geo_position", "latitude")),
            age=_number(_at(basic, "age")), gender=_code(_at(basic, "gender"), {}),
            ethnic_group=_code(_at(basic, "ethnicities"), ETHNIC_GROUPS),
            emotion=_code(_at(face, "emotions"), EMOTIONS), mask=_code(_at(face, "mask"), MASKS),
            liveness=_code(_at(face, "liveness", "prediction"), LIVENESS),
            deepfake=_code(_at(face, "deepfake", "prediction"), DEEPFAKE),
            apparent_age=_number(_at(body, "basic_attributes", "apparent_age")),
            apparent_gender=_code(_at(body, "basic_attributes", "apparent_gender"), APPARENT_GENDERS),
            headwear_state=_code(_at(body, "upper_body", "headwear", "apparent_state"), STATES),
            headwear_color=_text(_value(_at(body, "upper_body", "headwear", "apparent_color"))),
            sleeve_length=_text(_value(_at(body, "upper_body", "sleeve", "apparent_length"))),
            upper_colors=frozenset(_texts(_at(body, "upper_body", "upper_clothing", "apparent_colors"))),
            lower_colors=frozenset(_texts(_at(body, "lower_body", "lower_garment", "apparent_colors"))),
            lower_type=_text(_value(_at(body, "lower_body", "lower_garment", "apparent_type"))),
            shoes_color=_text(_value(_at(body, "lower_body", "shoes", "apparent_color"))),
            backpack_state=_code(_at(body, "accessories", "backpack", "apparent_state"), STATES),
        )


def _first_face_attributes(event: dict[str, Any]) -> Any:
    detections = event.get("detections")
    if isinstance(detections, list) and detections:
        return _at(detections[0], "samples", "face", "detection", "attributes")
    return None


def _one_of(value: object, allowed: Iterable[object] | None) -> bool:
    return allowed is None or (value is not None and value in set(allowed))


def _any_of(values: frozenset[str], allowed: Sequence[str] | None) -> bool:
    return allowed is None or not values.isdisjoint(allowed)


def _within(value: float | None, gte: float | None, lt: float | None) -> bool:
    if gte is None and lt is None:
        return True
    return value is not None and (gte is None or value >= gte) and (lt is None or value < lt)


def _ids(values: Sequence[UUID] | None) -> list[str] | None:
    return None if values is None else [str(v) for v in values]


def matches(filters: EventFilters, facts: EventFacts) -> bool:
    """Whether the event meets every condition ``filters`` gives."""
    f, e = filters, facts
    geo = f.geo_position
    location_ok = all(_one_of(e.location.get(key), allowed) for key, allowed in (
        ("city", f.cities), ("area", f.areas), ("district", f.districts), ("street", f.streets),
        ("house_number", f.house_numbers)))
    return (
        _one_of(e.source, f.sources) and _one_of(e.stream_id, _ids(f.stream_ids))
        and _one_of(e.handler_id, _ids(f.handler_ids)) and _any_of(e.labels, f.matching_candidates_labels)
        and _within(e.top_similarity, f.object_similarity__gte, f.object_similarity__lt)
        and _within(e.age, f.age__gte, f.age__lt) and _one_of(e.gender, None if f.gender is None else [f.gender])
        and _one_of(e.ethnic_group, f.ethnic_groups) and _one_of(e.liveness, f.liveness)
        and _one_of(e.deepfake, f.deepfake) and (f.tags is None or set(f.tags) <= e.tags)
        and (f.user_data is None or (e.user_data is not None and f.user_data.casefold() in e.user_data.casefold()))
        and location_ok
        and (geo is None or (
            e.longitude is not None and e.latitude is not None
            and abs(e.longitude - geo.origin_longitude) <= geo.longitude_delta
            and abs(e.latitude - geo.origin_latitude) <= geo.latitude_delta))
        and _one_of(e.mask, f.masks) and _one_of(e.emotion, f.emotions)
        and _one_of(e.apparent_gender, f.apparent_gender)
        and _within(e.apparent_age, f.apparent_age__gte, f.apparent_age__lt)
        and _one_of(e.headwear_state, f.headwear_states) and _one_of(e.headwear_color, f.headwear_apparent_colors)
        and _one_of(e.sleeve_length, f.sleeve_lengths) and _any_of(e.upper_colors, f.upper_clothing_colors)
        and _any_of(e.lower_colors, f.lower_garment_colors) and _one_of(e.lower_type, f.lower_garment_types)
        and _one_of(e.shoes_color, f.shoes_apparent_colors) and _one_of(e.backpack_state, f.backpack_states)
    )


def to_deliver(callbacks: Sequence[EventCallback], kind: type[C], facts: EventFacts) -> list[C]:
    """The enabled callbacks of ``kind`` the event goes through, once each: callbacks identical but for
    their filters are one delivery, made when any of their filters match (LUNA v5.6x)."""
    chosen: dict[str, C] = {}
    for callback in callbacks:
        if isinstance(callback, kind) and callback.enable and matches(callback.filters, facts):
            chosen.setdefault(callback.model_dump_json(exclude={"filters"}), callback)
    return list(chosen.values())

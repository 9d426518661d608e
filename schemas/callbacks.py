"""LUNA's handler callbacks (``storage_policy.callbacks``, LUNA v5.5x) and the event filters they share
with the ``GET /6/ws`` handshake.

Two types: ``http`` POSTs each generated event to a receiver (a webhook), ``luna-ws-notification``
hands it to the ``/6/ws`` subscribers (it replaces the deprecated ``notification_policy``). Each has
``filters``: the event goes through that callback only if it matches them, with the names, values and
meaning of the websocket handshake's query parameters (lists here are JSON arrays, not comma lists).
Callbacks that are identical but for their filters deliver an event once (LUNA v5.6x).

Enums, as LUNA's filters give them: gender 0 female, 1 male; ethnic_groups 1 African american, 2 Indian,
3 Asian, 4 Caucasian; liveness 0 spoof, 1 real, 2 unknown; deepfake 0 fake, 1 real; masks 1 missing,
2 medical_mask, 3 occluded; emotions 1 anger .. 7 surprise; apparent_gender 0 female, 1 male,
2 undefined; headwear and backpack states 0 absent, 1 present, 2 undefined.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field, field_validator

from schemas.base import Body

MAX_FILTER_ITEMS = 1000  # LUNA's limit on the values of one list filter
MAX_CALLBACKS = 30
MAX_HEADERS = 30

Flag = Literal[0, 1]
Tag = Annotated[str, Field(min_length=1, max_length=36)]
Text = Annotated[str, Field(min_length=1, max_length=128)]
HeadwearColor = Literal["undefined", "black", "white", "other"]
ClothingColor = Literal[
    "undefined", "black", "blue", "green", "gray", "orange", "purple", "red", "white", "yellow", "pink", "brown",
    "beige", "khaki", "multicolored",
]
SleeveLength = Literal["short", "long", "undefined"]
LowerGarmentType = Literal["undefined", "trousers", "shorts", "skirt"]
ShoesColor = Literal["undefined", "black", "white", "other"]
State = Literal[0, 1, 2]


def _items() -> Any:
    """An optional list filter: one value at least (an empty list would match nothing)."""
    return Field(None, min_length=1, max_length=MAX_FILTER_ITEMS)


class GeoBox(Body):
    """A geo bounding box: its centre and half-sizes in degrees (LUNA's ``geo_position`` filter)."""

    origin_longitude: float = Field(ge=-180, le=180)
    origin_latitude: float = Field(ge=-90, le=90)
    longitude_delta: float = Field(0.01, ge=0, le=90)
    latitude_delta: float = Field(0.01, ge=0, le=90)


class EventFilters(Body):
    """Conditions on a generated event; an event matches when it meets every condition given.

    A condition on a value the event lacks (no age estimated, no location) is not met."""

    sources: list[Text] | None = _items()
    stream_ids: list[UUID] | None = _items()
    handler_ids: list[UUID] | None = _items()
    matching_candidates_labels: list[Tag] | None = _items()
    object_similarity__gte: float | None = Field(None, ge=0, le=1, description="The top match's similarity, at least.")
    object_similarity__lt: float | None = Field(None, ge=0, le=1, description="The top match's similarity, below.")
    age__gte: int | None = Field(None, ge=0, le=200)
    age__lt: int | None = Field(None, ge=0, le=200)
    gender: Literal[0, 1] | None = None
    ethnic_groups: list[Literal[1, 2, 3, 4]] | None = _items()
    liveness: list[Literal[0, 1, 2]] | None = _items()
    deepfake: list[Literal[0, 1]] | None = _items()
    tags: list[Tag] | None = Field(None, min_length=1, max_length=MAX_FILTER_ITEMS, description="All of them.")
    user_data: str | None = Field(None, min_length=1, max_length=128, description="A part of the event's user_data.")
    geo_position: GeoBox | None = None
    cities: list[Text] | None = _items()
    areas: list[Text] | None = _items()
    districts: list[Text] | None = _items()
    streets: list[Text] | None = _items()
    house_numbers: list[Text] | None = _items()
    masks: list[Literal[1, 2, 3]] | None = _items()
    emotions: list[Literal[1, 2, 3, 4, 5, 6, 7]] | None = _items()
    apparent_gender: list[State] | None = _items()
    apparent_age__gte: int | None = Field(None, ge=0, le=100)
    apparent_age__lt: int | None = Field(None, ge=0, le=100)
    headwear_states: list[State] | None = _items()
    headwear_apparent_colors: list[HeadwearColor] | None = _items()
    sleeve_lengths: list[SleeveLength] | None = _items()
    upper_clothing_colors: list[ClothingColor] | None = _items()
    lower_garment_colors: list[ClothingColor] | None = _items()
    lower_garment_types: list[LowerGarmentType] | None = _items()
    shoes_apparent_colors: list[ShoesColor] | None = _items()
    backpack_states: list[State] | None = _items()


class BasicAuthorization(Body):
    """The credentials an ``http`` callback sends (HTTP Basic)."""

    type: Literal["basic"] = "basic"
    login: str = Field(min_length=1, max_length=128)
    password: str = Field(max_length=128)


class HttpCallbackParams(Body):
    """How an ``http`` callback is sent."""

    timeout: float = Field(60, gt=0, le=600, description="Seconds to wait for the receiver's answer.")
    content_type: Literal["application/json", "application/msgpack"] = "application/json"
    headers: dict[str, str] = Field(default_factory=dict, max_length=MAX_HEADERS, description="Extra request headers.")

    @field_validator("headers")
    @classmethod
    def _headers(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            if not name or any(c in name for c in " :\r\n") or any(c in value for c in "\r\n"):
                raise ValueError(f"invalid header {name!r}")
        return headers


class HttpEventCallback(Body):
    """POST each matching event to ``url``: a webhook."""

    type: Literal["http"]
    enable: Flag = 1
    url: str = Field(pattern=r"^https?://\S+$", max_length=1024)
    authorization: BasicAuthorization | None = None
    params: HttpCallbackParams = Field(default_factory=HttpCallbackParams)
    filters: EventFilters = Field(default_factory=EventFilters)


class WsNotificationCallback(Body):
    """Hand each matching event to the ``/6/ws`` subscribers (whose own handshake filters apply then)."""

    type: Literal["luna-ws-notification"]
    enable: Flag = 1
    filters: EventFilters = Field(default_factory=EventFilters)


EventCallback = Annotated[HttpEventCallback | WsNotificationCallback, Field(discriminator="type")]
